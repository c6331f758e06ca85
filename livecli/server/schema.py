"""The client-message schema the local server enforces: every known field name, by message.

See docs/wire.md, "Client messages".

A message is a dict of camelCase field name → spec: another message dict, `Repeated(spec)`, an `Enum`, a
typed `Scalar` (checked as protobuf JSON does: an int may be a number or a numeric string, a bool only true or
false), `STRUCT` (a free-form JSON object such as function args) or `ANY` (not checked).
The field lists are the service's proto fields as the google-genai 3.4.0 types know them (docs/wire.md,
"SDK behaviour"), plus `realtimeInputConfig`, which the SDK sends although its pydantic type lacks it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

__all__ = [
    "ANY",
    "BOOL",
    "BYTES",
    "CLIENT_MESSAGE",
    "FLOAT",
    "INT32",
    "INT64",
    "STRING",
    "STRUCT",
    "Enum",
    "Message",
    "Repeated",
    "Scalar",
    "Spec",
]


class _Any:
    def __repr__(self) -> str:
        return "ANY"


ANY = _Any()


@dataclass(frozen=True)
class Repeated:
    """A repeated field (a JSON array)."""

    item: Spec


@dataclass(frozen=True)
class Enum:
    """An enum field: a value name, or its number (values are listed in proto order) unless `numbers` is False;
    others are refused."""

    name: str
    values: tuple[str, ...]
    numbers: bool = True


@dataclass(frozen=True)
class Scalar:
    """A scalar of one protobuf type; `type` is how the service's error names it (e.g. TYPE_INT32)."""

    type: str


STRING = Scalar("TYPE_STRING")
BOOL = Scalar("TYPE_BOOL")
INT32 = Scalar("TYPE_INT32")
INT64 = Scalar("TYPE_INT64")
FLOAT = Scalar("TYPE_FLOAT")
BYTES = Scalar("TYPE_BYTES")  # base64, standard or URL-safe; the parsed body holds the decoded bytes
STRUCT = Scalar("type.googleapis.com/google.protobuf.Struct")

Spec = Union["Message", Repeated, Enum, Scalar, _Any]
Message = dict[str, Spec]


def _enum(name: str, words: str, *, numbers: bool = True) -> Enum:
    return Enum(name, tuple(words.split()), numbers)


def _fields(spec: Spec, names: str) -> Message:
    return {name: spec for name in names.split()}


_BLOB: Message = {"data": BYTES, "mimeType": STRING, "displayName": STRING}
_FILE_DATA: Message = {"fileUri": STRING, "mimeType": STRING, "displayName": STRING}
_FUNCTION_RESPONSE: Message = {
    "id": STRING,
    "name": STRING,
    "response": STRUCT,
    "willContinue": BOOL,
    "scheduling": _enum("FunctionResponseScheduling", "SCHEDULING_UNSPECIFIED SILENT WHEN_IDLE INTERRUPT"),
    "parts": ANY,
}
_PART: Message = {
    "text": STRING,
    "inlineData": _BLOB,
    "fileData": _FILE_DATA,
    "functionCall": {"id": STRING, "name": STRING, "args": STRUCT, "partialArgs": ANY, "willContinue": BOOL},
    "functionResponse": _FUNCTION_RESPONSE,
    "executableCode": {"code": STRING, "language": ANY, "id": STRING},
    "codeExecutionResult": {"outcome": ANY, "output": STRING, "id": STRING},
    "thought": BOOL,
    "thoughtSignature": BYTES,
    "partMetadata": STRUCT,
    **_fields(
        ANY,
        "videoMetadata mediaResolution toolCall toolResponse audioTranscription mediaProcessing speechMetadata "
        "documentMetadata spreadsheetMetadata audioMetadata",
    ),
}
_CONTENT: Message = {"parts": Repeated(_PART), "role": STRING}

_FUNCTION_DECLARATION: Message = {
    "name": STRING,
    "description": STRING,
    "parameters": STRUCT,  # an OpenAPI schema subset: free-form here
    "parametersJsonSchema": ANY,
    "response": STRUCT,
    "responseJsonSchema": ANY,
    "behavior": _enum("Behavior", "UNSPECIFIED BLOCKING NON_BLOCKING"),
}
_TOOL: Message = {
    "functionDeclarations": Repeated(_FUNCTION_DECLARATION),
    **_fields(
        ANY,
        "retrieval computerUse fileSearch googleSearch googleMaps codeExecution enterpriseWebSearch "
        "googleSearchRetrieval parallelAiSearch urlContext mcpServers exaAiSearch",
    ),
}

_VOICE_CONFIG: Message = {
    "prebuiltVoiceConfig": {"voiceName": STRING},
    "replicatedVoiceConfig": {
        "mimeType": STRING,
        "voiceSampleAudio": BYTES,
        "consentAudio": BYTES,
        "voiceConsentSignature": ANY,
    },
    "voice": ANY,
}
_SPEECH_CONFIG: Message = {
    "voiceConfig": _VOICE_CONFIG,
    "languageCode": STRING,
    "multiSpeakerVoiceConfig": {
        "speakerVoiceConfigs": Repeated({"speaker": STRING, "voiceConfig": _VOICE_CONFIG})
    },
}
_TRANSCRIPTION: Message = {
    **_fields(Repeated(STRING), "languageCodes customVocabulary adaptationPhrases"),
    **_fields(BOOL, "wordTimestamp diarization"),
    **_fields(ANY, "languageAuto languageHints mode"),
    "sourceText": STRING,
}
_GENERATION_CONFIG: Message = {
    "responseModalities": Repeated(_enum("Modality", "MODALITY_UNSPECIFIED TEXT IMAGE AUDIO VIDEO")),
    "speechConfig": _SPEECH_CONFIG,
    "thinkingConfig": {"includeThoughts": BOOL, "thinkingBudget": INT32, "thinkingLevel": STRING},
    "mediaResolution": _enum(  # names only (docs/wire.md, "Images and media resolution")
        "MediaResolution",
        "MEDIA_RESOLUTION_UNSPECIFIED MEDIA_RESOLUTION_LOW MEDIA_RESOLUTION_MEDIUM MEDIA_RESOLUTION_HIGH",
        numbers=False,
    ),
    "translationConfig": {"echoTargetLanguage": BOOL, "targetLanguageCode": STRING},
    "audioTranscriptionConfig": _TRANSCRIPTION,
    **_fields(BOOL, "audioTimestamp enableAffectiveDialog responseLogprobs enableEnhancedCivicAnswers"),
    **_fields(INT32, "candidateCount logprobs maxOutputTokens seed"),
    **_fields(FLOAT, "frequencyPenalty presencePenalty temperature topK topP"),
    "responseMimeType": STRING,
    "stopSequences": Repeated(STRING),
    **_fields(ANY, "modelSelectionConfig responseJsonSchema responseSchema routingConfig responseFormat"),
}
_AUTOMATIC_ACTIVITY_DETECTION: Message = {
    "disabled": BOOL,
    "startOfSpeechSensitivity": _enum(
        "StartSensitivity", "START_SENSITIVITY_UNSPECIFIED START_SENSITIVITY_HIGH START_SENSITIVITY_LOW"
    ),
    "endOfSpeechSensitivity": _enum(
        "EndSensitivity", "END_SENSITIVITY_UNSPECIFIED END_SENSITIVITY_HIGH END_SENSITIVITY_LOW"
    ),
    "prefixPaddingMs": INT32,
    "silenceDurationMs": INT32,
}
_REALTIME_INPUT_CONFIG: Message = {
    "automaticActivityDetection": _AUTOMATIC_ACTIVITY_DETECTION,
    "activityHandling": _enum(
        "ActivityHandling", "ACTIVITY_HANDLING_UNSPECIFIED START_OF_ACTIVITY_INTERRUPTS NO_INTERRUPTION"
    ),
    "turnCoverage": _enum(
        "TurnCoverage",
        "TURN_COVERAGE_UNSPECIFIED TURN_INCLUDES_ONLY_ACTIVITY TURN_INCLUDES_ALL_INPUT "
        "TURN_INCLUDES_AUDIO_ACTIVITY_AND_ALL_VIDEO",
    ),
    "interimTranscriptTimestampEnabled": BOOL,
}
_SETUP: Message = {
    "model": STRING,
    "generationConfig": _GENERATION_CONFIG,
    "systemInstruction": _CONTENT,
    "tools": Repeated(_TOOL),
    "realtimeInputConfig": _REALTIME_INPUT_CONFIG,
    "sessionResumption": {"handle": STRING, "transparent": BOOL},
    "contextWindowCompression": {"triggerTokens": INT64, "slidingWindow": {"targetTokens": INT64}},
    "inputAudioTranscription": _TRANSCRIPTION,
    "outputAudioTranscription": _TRANSCRIPTION,
    "proactivity": {"proactiveAudio": BOOL, "proactiveVideo": BOOL},
    "historyConfig": {"initialHistoryInClientContent": BOOL},
    "safetySettings": Repeated({"category": ANY, "threshold": ANY, "method": ANY}),
    "avatarConfig": ANY,
    "explicitVadSignal": BOOL,
    "labels": ANY,
}

CLIENT_MESSAGE: Message = {
    "setup": _SETUP,
    "clientContent": {"turns": Repeated(_CONTENT), "turnComplete": BOOL},
    "realtimeInput": {
        "mediaChunks": Repeated(_BLOB),
        "audio": _BLOB,
        "video": _BLOB,
        "text": STRING,
        "activityStart": {},
        "activityEnd": {},
        "audioStreamEnd": BOOL,
    },
    "toolResponse": {"functionResponses": Repeated(_FUNCTION_RESPONSE)},
    "contextUpdate": {"systemInstruction": _CONTENT, "tools": {"tools": Repeated(_TOOL)}},
}
