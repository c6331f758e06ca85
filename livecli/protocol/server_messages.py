"""Builders for every server message, as the service sends them (docs/wire.md, "Server messages").

Each returns the JSON bytes of one message, camelCase, compact; the local server sends them as BINARY frames
(docs/wire.md, "Framing"). Audio is the hot path, so `audio_content` builds its frame by concatenation.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from typing import Any

from livecli.protocol.wire import OUTPUT_RATE, dumps_frame

__all__ = [
    "audio_content",
    "encode",
    "format_duration",
    "generation_complete",
    "go_away",
    "input_transcription",
    "interrupted",
    "output_transcription",
    "resumption_update",
    "setup_complete",
    "text_content",
    "tool_call",
    "tool_call_cancellation",
    "turn_complete",
    "usage_metadata",
]


def encode(message: dict[str, Any]) -> bytes:
    """Compact JSON bytes of one message (docs/wire.md, "Framing")."""
    return dumps_frame(message).encode("utf-8")


def format_duration(seconds: float) -> str:
    """A protobuf JSON Duration: `"50s"`, `"1.5s"` (to the nanosecond, the type's own precision)."""
    text = f"{seconds:.9f}".rstrip("0").rstrip(".")
    return f"{text}s"


def setup_complete(session_id: str | None = None) -> bytes:
    """`{"setupComplete":{}}` (optionally with a sessionId)."""
    return encode({"setupComplete": {"sessionId": session_id} if session_id else {}})


def audio_content(pcm: bytes, rate: int = OUTPUT_RATE) -> bytes:
    """One modelTurn audio part: 16-bit mono PCM at `rate`, standard base64."""
    data = base64.b64encode(pcm)
    return (
        b'{"serverContent":{"modelTurn":{"parts":[{"inlineData":{"mimeType":"audio/pcm;rate='
        + str(int(rate)).encode()
        + b'","data":"'
        + data
        + b'"}}]}}}'
    )


def text_content(text: str, *, thought: bool = False) -> bytes:
    """One modelTurn text part (TEXT modality, or a thought part)."""
    part: dict[str, Any] = {"text": text}
    if thought:
        part["thought"] = True
    return encode({"serverContent": {"modelTurn": {"parts": [part]}}})


def input_transcription(text: str, finished: bool = False) -> bytes:
    """What the server heard of the user's input."""
    body: dict[str, Any] = {"text": text}
    if finished:
        body["finished"] = True
    return encode({"serverContent": {"inputTranscription": body}})


def output_transcription(text: str, finished: bool = False) -> bytes:
    """What the reply audio says."""
    body: dict[str, Any] = {"text": text}
    if finished:
        body["finished"] = True
    return encode({"serverContent": {"outputTranscription": body}})


def generation_complete() -> bytes:
    """All content of the turn has been generated (precedes turnComplete)."""
    return encode({"serverContent": {"generationComplete": True}})


def usage_metadata(
    prompt_tokens: int, response_tokens: int, prompt_modality: str = "AUDIO", response_modality: str = "AUDIO"
) -> dict[str, Any]:
    """A Gemini-API usageMetadata object (docs/wire.md, "Server messages")."""
    return {
        "promptTokenCount": prompt_tokens,
        "responseTokenCount": response_tokens,
        "totalTokenCount": prompt_tokens + response_tokens,
        "promptTokensDetails": [{"modality": prompt_modality, "tokenCount": prompt_tokens}],
        "responseTokensDetails": [{"modality": response_modality, "tokenCount": response_tokens}],
    }


def turn_complete(
    usage: Mapping[str, Any] | None = None, reason: str | None = None, waiting_for_input: bool | None = None
) -> bytes:
    """turnComplete, with usageMetadata as a sibling key when given."""
    content: dict[str, Any] = {"turnComplete": True}
    if reason:
        content["turnCompleteReason"] = reason
    if waiting_for_input is not None:
        content["waitingForInput"] = waiting_for_input
    message: dict[str, Any] = {"serverContent": content}
    if usage is not None:
        message["usageMetadata"] = dict(usage)
    return encode(message)


def interrupted() -> bytes:
    """Barge-in: the rest of the reply was dropped."""
    return encode({"serverContent": {"interrupted": True}})


def tool_call(calls: Iterable[Mapping[str, Any]]) -> bytes:
    """`{"toolCall":{"functionCalls":[{"id","name","args"}]}}`."""
    return encode({"toolCall": {"functionCalls": [dict(call) for call in calls]}})


def tool_call_cancellation(ids: Iterable[str]) -> bytes:
    """Pending tool calls discarded by an interruption."""
    return encode({"toolCallCancellation": {"ids": list(ids)}})


def go_away(time_left_s: float) -> bytes:
    """`{"goAway":{"timeLeft":"50s"}}`: the connection closes (1008) after timeLeft."""
    return encode({"goAway": {"timeLeft": format_duration(time_left_s)}})


def resumption_update(handle: str, resumable: bool, index: int | None = None) -> bytes:
    """sessionResumptionUpdate; the index only when the setup asked for `transparent`."""
    body: dict[str, Any] = {"newHandle": handle, "resumable": resumable}
    if index is not None:
        body["lastConsumedClientMessageIndex"] = str(index)  # int64 → string in protobuf JSON
    return encode({"sessionResumptionUpdate": body})
