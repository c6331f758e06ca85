"""Builders for every client message: one top-level field per message, JSON text, camelCase.

See docs/wire.md, "Setup" and "Client messages".

`audio_message` is the hot path (25 calls per second of audio at 40 ms chunks) and builds its string directly;
everything else goes through `encode` (compact `json.dumps`).
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass
from typing import Any

from livecli.protocol.wire import INPUT_RATE, b64encode, dumps_frame

__all__ = [
    "CLIENT_MESSAGE_KEYS",
    "FUNCTION_RESPONSE_SCHEDULINGS",
    "SetupConfig",
    "activity_end_message",
    "activity_start_message",
    "audio_message",
    "audio_stream_end_message",
    "client_content_message",
    "context_update_message",
    "encode",
    "inline_data_part",
    "merge_setup",
    "setup_message",
    "setup_payload",
    "system_instruction_content",
    "text_message",
    "tool_response_message",
    "video_message",
]

# docs/wire.md, "Framing": exactly one of these per client message (contextUpdate is newer, SDK 3.x).
CLIENT_MESSAGE_KEYS = frozenset({"setup", "clientContent", "realtimeInput", "toolResponse", "contextUpdate"})


@dataclass
class SetupConfig:
    """Everything that goes into the `setup` message.

    `model` is a bare id (`gemini-3.8-live`, sent as `models/gemini-3.8-live`) or a full wire form
    (`models/…`, `projects/…/models/…`), sent as given. `vad` holds automaticActivityDetection fields in
    camelCase (startOfSpeechSensitivity, endOfSpeechSensitivity, prefixPaddingMs, silenceDurationMs) and is
    ignored when `automatic_activity_detection` is False. `thinking`, `context_window_compression` and `tools`
    are sent verbatim; `builtin_tools` names tools the service runs (`googleSearch`, ...), each sent as
    `{"<name>": {}}` after `tools`. `extra` (camelCase) is merged into `setup` last by `merge_setup`, for
    fields livecli has no option for (`--setup FILE`), e.g. `{"proactivity": {"proactiveVideo": true}}`.
    """

    model: str
    modalities: tuple[str, ...] = ("AUDIO",)
    voice: str | None = None
    language: str | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    max_output_tokens: int | None = None
    seed: int | None = None
    affective_dialog: bool | None = None
    media_resolution: str | None = None  # the API's enum: MEDIA_RESOLUTION_LOW, _MEDIUM or _HIGH
    proactive_audio: bool | None = None
    system_instruction: str | None = None
    input_transcription: bool = True
    output_transcription: bool = True
    automatic_activity_detection: bool = True
    vad: dict[str, Any] | None = None
    activity_handling: str | None = None
    turn_coverage: str | None = None
    session_resumption: bool = True
    resume_handle: str | None = None
    transparent: bool = False
    context_window_compression: dict[str, Any] | None = None
    tools: list[dict[str, Any]] | None = None
    builtin_tools: tuple[str, ...] = ()
    thinking: dict[str, Any] | None = None
    extra: dict[str, Any] | None = None


def _wire_model(model: str) -> str:
    return model if "/" in model else f"models/{model}"


def _generation_config(cfg: SetupConfig) -> dict[str, Any]:
    generation: dict[str, Any] = {"responseModalities": [m.upper() for m in cfg.modalities]}
    speech: dict[str, Any] = {}
    if cfg.voice:
        speech["voiceConfig"] = {"prebuiltVoiceConfig": {"voiceName": cfg.voice}}
    if cfg.language:
        speech["languageCode"] = cfg.language
    if speech:
        generation["speechConfig"] = speech
    sampling = {
        "temperature": cfg.temperature,
        "topP": cfg.top_p,
        "topK": cfg.top_k,
        "maxOutputTokens": cfg.max_output_tokens,
        "seed": cfg.seed,
        "enableAffectiveDialog": cfg.affective_dialog,
        "mediaResolution": cfg.media_resolution,
    }
    generation.update((name, value) for name, value in sampling.items() if value is not None)
    if cfg.thinking is not None:
        generation["thinkingConfig"] = dict(cfg.thinking)
    return generation


def _realtime_input_config(cfg: SetupConfig) -> dict[str, Any]:
    realtime: dict[str, Any] = {}
    if not cfg.automatic_activity_detection:
        realtime["automaticActivityDetection"] = {"disabled": True}
    elif cfg.vad:
        realtime["automaticActivityDetection"] = dict(cfg.vad)
    if cfg.activity_handling:
        realtime["activityHandling"] = cfg.activity_handling
    if cfg.turn_coverage:
        realtime["turnCoverage"] = cfg.turn_coverage
    return realtime


def system_instruction_content(text: str) -> dict[str, Any]:
    """A system instruction as the Content the service takes; the SDK adds role "user" (docs/wire.md, "SDK
    behaviour")."""
    return {"parts": [{"text": text}], "role": "user"}


def setup_payload(cfg: SetupConfig) -> dict[str, Any]:
    """The whole `{"setup": {...}}` message as a dict (camelCase; never a JSON null)."""
    setup: dict[str, Any] = {"model": _wire_model(cfg.model), "generationConfig": _generation_config(cfg)}
    if cfg.system_instruction is not None:
        setup["systemInstruction"] = system_instruction_content(cfg.system_instruction)
    tools = [dict(tool) for tool in cfg.tools or ()] + [{name: {}} for name in cfg.builtin_tools]
    if tools:
        setup["tools"] = tools
    realtime = _realtime_input_config(cfg)
    if realtime:
        setup["realtimeInputConfig"] = realtime
    if cfg.session_resumption or cfg.resume_handle:
        # `{}` asks for handles; `{"handle": null}` would be a different (invalid) message.
        resumption: dict[str, Any] = {"handle": cfg.resume_handle} if cfg.resume_handle else {}
        if cfg.transparent:
            resumption["transparent"] = True  # Vertex only (docs/wire.md, "goAway and resumption")
        setup["sessionResumption"] = resumption
    if cfg.context_window_compression is not None:
        setup["contextWindowCompression"] = dict(cfg.context_window_compression)
    if cfg.proactive_audio is not None:
        setup["proactivity"] = {"proactiveAudio": cfg.proactive_audio}
    # Setup level, not generationConfig: the server refuses the latter with 1007 (docs/wire.md, "Setup").
    if cfg.input_transcription:
        setup["inputAudioTranscription"] = {}
    if cfg.output_transcription:
        setup["outputAudioTranscription"] = {}
    return {"setup": merge_setup(setup, cfg.extra or {})}


def merge_setup(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """`over` merged into a copy of `base`: objects merged recursively, anything else (lists too) replaced, and a
    `None` (JSON null: "not set", docs/wire.md, "Framing") removes the field, so no null is ever sent."""
    merged = dict(base)
    for key, value in over.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_setup(merged[key], value)
        elif isinstance(value, dict):
            merged[key] = merge_setup({}, value)
        else:
            merged[key] = value
    return merged


def encode(msg: dict[str, Any]) -> str:
    """Compact JSON text (valid UTF-8: lone surrogates become U+FFFD) for one client message with one known key."""
    if len(msg) != 1 or next(iter(msg)) not in CLIENT_MESSAGE_KEYS:
        raise ValueError(f"a client message has exactly one top-level key of {sorted(CLIENT_MESSAGE_KEYS)}")
    return dumps_frame(msg)


def setup_message(cfg: SetupConfig) -> str:
    """The `setup` message as JSON text."""
    return encode(setup_payload(cfg))


_AUDIO_TAIL: dict[int, str] = {}


def audio_message(pcm: bytes, rate: int = INPUT_RATE) -> str:
    """`{"realtimeInput":{"audio":{"data":…,"mimeType":"audio/pcm;rate=16000"}}}` built without json.dumps.

    Standard base64 needs no JSON escaping, so plain concatenation gives the same text as `encode`.
    """
    tail = _AUDIO_TAIL.get(rate)
    if tail is None:
        if type(rate) is not int or rate <= 0:
            raise ValueError(f"sample rate must be a positive int, not {rate!r}")
        tail = _AUDIO_TAIL[rate] = f'","mimeType":"audio/pcm;rate={rate}"}}}}}}'
    return '{"realtimeInput":{"audio":{"data":"' + binascii.b2a_base64(pcm, newline=False).decode("ascii") + tail


def text_message(text: str) -> str:
    """`realtimeInput.text`: a user text turn over the realtime channel."""
    return encode({"realtimeInput": {"text": text}})


def video_message(data: bytes, mime: str) -> str:
    """`realtimeInput.video`: one image frame (e.g. `image/jpeg`)."""
    return encode({"realtimeInput": {"video": {"data": b64encode(data), "mimeType": mime}}})


def activity_start_message() -> str:
    """`realtimeInput.activityStart` (only with automatic activity detection disabled)."""
    return '{"realtimeInput":{"activityStart":{}}}'


def activity_end_message() -> str:
    """`realtimeInput.activityEnd` (only with automatic activity detection disabled)."""
    return '{"realtimeInput":{"activityEnd":{}}}'


def audio_stream_end_message() -> str:
    """`realtimeInput.audioStreamEnd` (only with automatic activity detection on)."""
    return '{"realtimeInput":{"audioStreamEnd":true}}'


def context_update_message(system_instruction: str) -> str:
    """`contextUpdate`: a new system instruction mid-session (docs/wire.md, "Client messages")."""
    return encode({"contextUpdate": {"systemInstruction": system_instruction_content(system_instruction)}})


def inline_data_part(data: bytes, mime: str) -> dict[str, Any]:
    """A Content part carrying bytes (`inlineData` Blob), e.g. an image in a clientContent turn."""
    return {"inlineData": {"mimeType": mime, "data": b64encode(data)}}


def client_content_message(
    turns: list[dict[str, Any]] | str,
    turn_complete: bool = True,
    *,
    before_text: tuple[dict[str, Any], ...] = (),
) -> str:
    """`clientContent`: turns (Content dicts), or one user text turn when given a string, after the parts
    `before_text` (e.g. images as `inline_data_part`s)."""
    if isinstance(turns, str):
        turns = [{"parts": [*before_text, {"text": turns}], "role": "user"}]
    return encode({"clientContent": {"turns": turns, "turnComplete": turn_complete}})


# A functionResponse's `scheduling`: when a NON_BLOCKING call's result reaches the model (docs/wire.md,
# "Tool calls").
FUNCTION_RESPONSE_SCHEDULINGS = ("INTERRUPT", "WHEN_IDLE", "SILENT")


def tool_response_message(responses: list[dict[str, Any]]) -> str:
    """`toolResponse` with functionResponses `[{"id", "name", "response", …}]`; `id` is mandatory."""
    for response in responses:
        if not isinstance(response.get("id"), str):
            raise ValueError("each function response needs the string id of its toolCall")
    return encode({"toolResponse": {"functionResponses": responses}})
