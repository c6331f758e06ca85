"""Parse one server message into events; anything malformed raises ProtocolError.

Rules, from docs/wire.md ("Framing", "Server messages", "Audio"):
* Text or binary frames; camelCase or snake_case keys at every level; standard or URL-safe base64.
* Unknown fields are ignored at every depth, and a message with no recognised top-level key gives `[]`
  (forward compatible: a newer server may send messages this client does not know yet).
* A JSON `null` counts as an absent field (proto3 JSON); any other wrong type is a ProtocolError.
* Event order: top-level keys in wire order; inside serverContent: inputTranscription, modelTurn parts,
  outputTranscription, interrupted. Then usageMetadata (wherever it sits in the message), then
  generationComplete and turnComplete last, so a consumer can attach usage to the turn those end.
* The reply sample rate comes from the part's mimeType `audio/pcm;rate=N`. A bare `audio/pcm` means 24000 Hz,
  the documented output format (docs/wire.md, "Audio"); any other audio mimeType without a rate is a ProtocolError.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from livecli.errors import ProtocolError
from livecli.protocol.events import (
    AudioChunk,
    FunctionCall,
    GenerationComplete,
    GoAway,
    InputTranscription,
    Interrupted,
    OutputTranscription,
    ResumptionUpdate,
    ServerEvent,
    SetupComplete,
    TextPart,
    ToolCall,
    ToolCallCancellation,
    TurnComplete,
    Usage,
)
from livecli.protocol.wire import OUTPUT_RATE, b64decode, camel, loads_frame

__all__ = ["audio_rate", "parse_protobuf_duration", "parse_server_message"]

_INT_TEXT = re.compile(r"[+-]?[0-9]{1,20}")
_RATE_TEXT = re.compile(r"\s*[0-9]{1,7}\s*")  # ASCII digits only; int() of thousands of digits raises ValueError
_DURATION_TEXT = re.compile(r"\s*([-+0-9.eE]{1,40})s\s*")  # protobuf Duration JSON ("-1.5s"), no nan/inf/1_0


def _obj(value: Any, path: str) -> dict[str, Any]:
    """A JSON object with its keys in camelCase (one pass; lookups after that are plain `dict.get`)."""
    if not isinstance(value, dict):
        raise ProtocolError(f"{path}: expected an object, got {type(value).__name__}")
    return _camel_keys(value)


def _camel_keys(obj: dict[str, Any]) -> dict[str, Any]:
    for key in obj:
        if "_" in key:
            return {camel(key): item for key, item in obj.items()}
    return obj  # already camelCase: the common case, no copy


def _args(value: Any, path: str) -> dict[str, Any]:
    """Function-call arguments: an object kept exactly as sent (its keys are user data, not field names)."""
    if not isinstance(value, dict):
        raise ProtocolError(f"{path}: expected an object, got {type(value).__name__}")
    return value


def _str(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise ProtocolError(f"{path}: expected a string, got {type(value).__name__}")
    return value


def _bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise ProtocolError(f"{path}: expected a boolean, got {type(value).__name__}")
    return value


def _list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise ProtocolError(f"{path}: expected a list, got {type(value).__name__}")
    return value


def _int(value: Any, path: str) -> int:
    """int32/int64: a JSON number or a decimal string (proto3 JSON)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INT_TEXT.fullmatch(value):
        return int(value)
    raise ProtocolError(f"{path}: expected an integer, got {type(value).__name__}")


def _opt(obj: dict[str, Any], name: str, path: str, check: Any) -> Any:
    value = obj.get(name)
    return None if value is None else check(value, f"{path}.{name}")


_RATE_CACHE: dict[str, int] = {}


def audio_rate(mime: str) -> int:
    """Sample rate from an audio mimeType (`audio/pcm;rate=24000` → 24000), or ProtocolError."""
    rate = _RATE_CACHE.get(mime)
    if rate is not None:
        return rate
    kind, *params = (piece.strip() for piece in mime.split(";"))
    for param in params:
        key, _, value = param.partition("=")
        if key.strip().lower() == "rate":
            if not _RATE_TEXT.fullmatch(value) or not 0 < int(value) <= 1_000_000:
                raise ProtocolError(f"bad sample rate in audio mimeType {mime[:60]!r}")
            rate = int(value)
            break
    else:
        if kind.lower() != "audio/pcm":
            raise ProtocolError(f"audio mimeType without a sample rate: {mime[:60]!r}")
        rate = OUTPUT_RATE
    if len(_RATE_CACHE) < 64:
        _RATE_CACHE[mime] = rate
    return rate


def parse_protobuf_duration(value: Any, path: str = "duration") -> float:
    """A protobuf Duration: `"50s"`, `"1.5s"`, or `{"seconds": …, "nanos": …}` → seconds."""
    if isinstance(value, str):
        match = _DURATION_TEXT.fullmatch(value)
        try:
            seconds = float(match.group(1)) if match else math.inf
        except ValueError:
            seconds = math.inf
        if math.isinf(seconds):
            raise ProtocolError(f"{path}: bad duration {value[:40]!r}")
        return seconds
    obj = _obj(value, path)
    seconds = _opt(obj, "seconds", path, _int) or 0
    nanos = _opt(obj, "nanos", path, _int) or 0
    return seconds + nanos / 1e9


def _parts(model_turn: dict[str, Any], events: list[ServerEvent]) -> None:
    parts = model_turn.get("parts")
    if parts is None:
        return
    path = "serverContent.modelTurn.parts"
    for i, part in enumerate(_list(parts, path)):
        # The hot path (one audio part per frame): error paths are formatted only when raising.
        part = _obj(part, path) if type(part) is not dict else _camel_keys(part)
        inline = part.get("inlineData")
        if inline is not None:
            inline = _obj(inline, f"{path}[{i}].inlineData")
            mime = inline.get("mimeType")
            if type(mime) is not str:
                mime = _str(mime, f"{path}[{i}].inlineData.mimeType")
            if mime.startswith("audio/") or mime[:6].lower() == "audio/":  # images etc. are not for us
                data = inline.get("data")
                events.append(AudioChunk(b"" if data is None else b64decode(data), audio_rate(mime), mime))
        text = part.get("text")
        if text is not None:
            thought = _opt(part, "thought", f"{path}[{i}]", _bool) or False
            events.append(TextPart(_str(text, f"{path}[{i}].text"), thought))


def _transcription(value: Any, path: str) -> tuple[str, bool]:
    obj = _obj(value, path)
    text = _opt(obj, "text", path, _str) or ""
    return text, _opt(obj, "finished", path, _bool) or False


def _server_content(content: dict[str, Any], events: list[ServerEvent], ends: list[ServerEvent]) -> None:
    path = "serverContent"
    value = content.get("inputTranscription")
    if value is not None:
        events.append(InputTranscription(*_transcription(value, f"{path}.inputTranscription")))
    value = content.get("modelTurn")
    if value is not None:
        _parts(_obj(value, f"{path}.modelTurn"), events)
    value = content.get("outputTranscription")
    if value is not None:
        events.append(OutputTranscription(*_transcription(value, f"{path}.outputTranscription")))
    if _opt(content, "interrupted", path, _bool):
        events.append(Interrupted())
    if _opt(content, "generationComplete", path, _bool):
        ends.append(GenerationComplete())
    reason = _opt(content, "turnCompleteReason", path, _str)
    waiting = _opt(content, "waitingForInput", path, _bool)
    # turnCompleteReason/waitingForInput only qualify a turnComplete; alone they end nothing.
    if _opt(content, "turnComplete", path, _bool):
        ends.append(TurnComplete(reason, waiting))


def _tool_call(value: Any) -> ToolCall:
    path = "toolCall"
    calls = []
    for i, call in enumerate(_opt(_obj(value, path), "functionCalls", path, _list) or ()):
        where = f"{path}.functionCalls[{i}]"
        call = _obj(call, where)
        args = _opt(call, "args", where, _args) or {}
        name = _str(call.get("name"), f"{where}.name")
        if call.get("id") is None:  # its toolResponse must carry it back (docs/wire.md, "Tool calls")
            raise ProtocolError(f"{where}: a function call without an id ({name[:60]!r} cannot be answered)")
        calls.append(FunctionCall(_str(call["id"], f"{where}.id"), name, args))
    return ToolCall(tuple(calls))


def _cancellation(value: Any) -> ToolCallCancellation:
    path = "toolCallCancellation"
    ids = _opt(_obj(value, path), "ids", path, _list) or ()
    return ToolCallCancellation(tuple(_str(i, f"{path}.ids[{n}]") for n, i in enumerate(ids)))


def _usage(value: Any) -> Usage:
    path = "usageMetadata"
    raw = _obj(value, path)
    response = _opt(raw, "responseTokenCount", path, _int)
    if response is None:
        response = _opt(raw, "candidatesTokenCount", path, _int)  # Vertex's name (docs/wire.md, "Server messages")
    return Usage(
        _opt(raw, "promptTokenCount", path, _int), response, _opt(raw, "totalTokenCount", path, _int), raw
    )


def _go_away(value: Any) -> GoAway:
    time_left = _obj(value, "goAway").get("timeLeft")
    return GoAway(None if time_left is None else parse_protobuf_duration(time_left, "goAway.timeLeft"))


def _resumption(value: Any) -> ResumptionUpdate:
    path = "sessionResumptionUpdate"
    obj = _obj(value, path)
    return ResumptionUpdate(
        _opt(obj, "newHandle", path, _str) or "",
        _opt(obj, "resumable", path, _bool) or False,
        _opt(obj, "lastConsumedClientMessageIndex", path, _int),
    )


def _setup_complete(value: Any) -> SetupComplete:
    return SetupComplete(_opt(_obj(value, "setupComplete"), "sessionId", "setupComplete", _str))


_SIMPLE: dict[str, Callable[[Any], ServerEvent]] = {
    "setupComplete": _setup_complete,
    "toolCall": _tool_call,
    "toolCallCancellation": _cancellation,
    "goAway": _go_away,
    "sessionResumptionUpdate": _resumption,
}


def parse_server_message(frame: str | bytes) -> list[ServerEvent]:
    """Events of one server frame, in the order described in the module docstring; raises only ProtocolError."""
    try:
        message = loads_frame(frame)
    except RecursionError as exc:  # absurdly deep nesting
        raise ProtocolError("frame is nested too deeply") from exc
    events: list[ServerEvent] = []
    ends: list[ServerEvent] = []
    usage: Usage | None = None
    for key, value in message.items():
        if value is None:
            continue
        name = camel(key)
        if name == "serverContent":
            _server_content(_obj(value, name), events, ends)
        elif name == "usageMetadata":
            usage = _usage(value)
        elif (build := _SIMPLE.get(name)) is not None:
            events.append(build(value))
    if usage is not None:
        events.append(usage)
    events.extend(ends)
    return events
