"""Strict client-message validation, with the service's 1007/1008 close reasons (docs/wire.md, "Close codes").

`parse_client_frame` checks one frame against the schema (either casing, unknown names refused with their
snake_case path) and returns it camelCased; `check_setup` applies the model table to a setup. The reasons' wording
is livecli.protocol.close_reasons.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
from dataclasses import dataclass, field
from typing import Any

from livecli.errors import ProtocolError
from livecli.protocol import close_reasons as cr
from livecli.protocol.close_reasons import CloseReason, cut_reason
from livecli.protocol.models import VOICES, ModelInfo, bare_model_id, lookup, setup_refusals
from livecli.protocol.wire import INPUT_RATE, b64decode, camel, snake
from livecli.server.limits import has_lone_surrogate
from livecli.server.schema import ANY, CLIENT_MESSAGE, Enum, Message, Repeated, Scalar, Spec

__all__ = [
    "InvalidValue",
    "Refusal",
    "SetupInfo",
    "check_setup",
    "check_setup_shape",
    "decode_audio_blob",
    "parse_client_frame",
]

_RATE = re.compile(r"rate\s*=\s*(\d{1,9})")
MIN_RATE, MAX_RATE = 8000, 48000  # PCM input rates the local server resamples; others are refused


class Refusal(Exception):
    """The server refuses the session: close with `code` and `reason` (already cut to 123 bytes)."""

    def __init__(self, code: int, reason: str) -> None:
        self.code = code
        self.reason = cut_reason(reason)
        super().__init__(f"{code} {self.reason}")

    @classmethod
    def of(cls, reason: CloseReason, **values: str) -> Refusal:
        """A refusal with one of the service's reasons (its fields filled in) and that reason's code."""
        return cls(reason.code, reason.format(**values))


def _unknown(name: str, path: str) -> Refusal:
    return Refusal.of(cr.UNKNOWN_FIELD, name=name, where=f" at '{path}'" if path else "")


class InvalidValue(Refusal):
    """A value of the wrong type (or an enum value not in its list): the service's 1007, and for livecli's own
    check of a --setup file the parts of it: `path` (snake_case), the value `shown` and what was `expected`."""

    def __init__(self, path: str, shown: str, expected: str, type_name: str | None) -> None:
        kind = f" ({type_name})" if type_name else ""
        super().__init__(cr.INVALID_VALUE.code, cr.INVALID_VALUE.format(path=path, kind=kind, value=shown))
        self.path, self.shown, self.expected = path, shown, expected


def _invalid(path: str, value: object, type_name: str | None = None, expected: str = "") -> InvalidValue:
    shown = json.dumps(value, ensure_ascii=False)
    shown = shown if len(shown) <= 40 else shown[:37] + "..."
    return InvalidValue(path, shown, expected or type_name or "", type_name)


_INT_TEXT = re.compile(r"-?\d+")
_INT_RANGE = {"TYPE_INT32": 2**31, "TYPE_INT64": 2**63}


def _scalar(value: Any, spec: Scalar, path: str) -> Any:
    """A protobuf JSON scalar, normalized (ints and floats as numbers, bytes decoded), or Refusal."""
    kind = spec.type
    ok: Any = None
    if kind == "TYPE_STRING":
        ok = value if isinstance(value, str) else None
    elif kind == "TYPE_BOOL":
        ok = value if isinstance(value, bool) else None
    elif kind in _INT_RANGE:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        number = int(value) if isinstance(value, str) and _INT_TEXT.fullmatch(value) else value
        if isinstance(number, int) and not isinstance(number, bool):
            ok = number if -_INT_RANGE[kind] <= number < _INT_RANGE[kind] else None
    elif kind == "TYPE_FLOAT":
        if isinstance(value, int | float) and not isinstance(value, bool):
            ok = float(value)
        elif isinstance(value, str):
            with contextlib.suppress(ValueError):
                ok = float(value)
    elif kind == "TYPE_BYTES":
        with contextlib.suppress(ProtocolError):
            ok = b64decode(value)
    else:  # a Struct: any JSON object
        ok = value if isinstance(value, dict) else None
    if ok is None:
        raise _invalid(path, value, kind)
    return ok


def _enum_value(value: Any, spec: Enum, path: str) -> str:
    if isinstance(value, str) and value in spec.values:
        return value
    if spec.numbers and isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(spec.values):
        return spec.values[value]
    raise _invalid(path, value, spec.name, expected="one of " + ", ".join(spec.values))


def _walk(value: Any, spec: Spec, path: str) -> Any:
    """Check `value` against `spec`; return it normalized (camelCase keys, enum names, decoded bytes)."""
    if spec is ANY:
        return value
    if isinstance(spec, Scalar):
        return _scalar(value, spec, path)
    if isinstance(spec, Enum):
        return _enum_value(value, spec, path)
    if isinstance(spec, Repeated):
        if not isinstance(value, list):
            raise _invalid(path, value, expected="a list")
        return [_walk(item, spec.item, f"{path}[{index}]") for index, item in enumerate(value)]
    assert isinstance(spec, dict)
    return _walk_message(value, spec, path)


def _walk_message(value: Any, spec: Message, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _invalid(path, value, expected="an object")
    out: dict[str, Any] = {}
    for name, item in value.items():
        key = camel(name)
        sub = spec.get(key)
        if sub is None:
            raise _unknown(name, path)
        if item is None:
            continue  # protobuf JSON: null means the field is not set
        child = snake(key)
        out[key] = _walk(item, sub, f"{path}.{child}" if path else child)
    return out


def _not_json(token: str) -> Any:
    """NaN, Infinity and -Infinity: Python's json reads them, protobuf JSON (the service) refuses them."""
    raise ValueError(f"{token} is not JSON")


_JSON = json.JSONDecoder(parse_constant=_not_json)  # one decoder: json.loads with an option builds one per call


def _plain_audio(message: dict[str, Any]) -> dict[str, Any] | None:
    """The commonest frame, `{"realtimeInput":{"audio":{"data":...,"mimeType":...}}}` in camelCase with string
    values, as `_walk_message` would return it, without the walk (a third of the server's CPU per audio message);
    None for anything else, which takes the walk (and its refusals)."""
    if len(message) != 1:
        return None
    body = message.get("realtimeInput")
    if not isinstance(body, dict) or len(body) != 1:
        return None
    blob = body.get("audio")
    if not isinstance(blob, dict) or not 1 <= len(blob) <= 2:
        return None
    data, mime = blob.get("data"), blob.get("mimeType", "")
    if not isinstance(data, str) or not isinstance(mime, str) or len(blob) != 1 + ("mimeType" in blob):
        return None
    try:
        pcm = b64decode(data)
    except ProtocolError:
        return None
    return {"audio": {"data": pcm, "mimeType": mime} if "mimeType" in blob else {"data": pcm}}


_AUDIO_HEAD, _AUDIO_TAIL = '{"realtimeInput":{"audio":{', '"}}}'
_DATA_FIRST, _MIME_FIRST = ('"data":"', '","mimeType":"'), ('"mimeType":"', '","data":"')


def _compact_audio(frame: str) -> dict[str, Any] | None:
    """`_plain_audio` of an audio frame written compactly with its two fields in either order (as livecli's client
    and most clients write it), read without the JSON parser: with no quote or backslash inside the two strings
    (one memchr each) they are exactly what the parser would read. None for anything else, which is parsed."""
    if not frame.startswith(_AUDIO_HEAD) or not frame.endswith(_AUDIO_TAIL):
        return None
    inner = frame[len(_AUDIO_HEAD) : -len(_AUDIO_TAIL)]
    for first, between in (_DATA_FIRST, _MIME_FIRST):
        if inner.startswith(first):
            one, found, two = inner[len(first) :].partition(between)
            if found:
                data, mime = (one, two) if first is _DATA_FIRST[0] else (two, one)
                if '"' in data or "\\" in data or '"' in mime or "\\" in mime or not mime.isprintable():
                    return None
                try:
                    return {"audio": {"data": b64decode(data), "mimeType": mime}}
                except ProtocolError:
                    return None
    return None


def parse_client_frame(frame: str | bytes) -> tuple[str, dict[str, Any]]:
    """Validate one client frame; return (top-level camelCase name, its normalized body) or raise Refusal."""
    if isinstance(frame, str):
        audio = _compact_audio(frame)
        if audio is not None:
            return "realtimeInput", audio
    try:
        message = _JSON.decode(frame) if isinstance(frame, str) else json.loads(frame, parse_constant=_not_json)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise Refusal.of(cr.NOT_JSON) from None
    if not isinstance(message, dict) or has_lone_surrogate(frame, message):
        raise Refusal.of(cr.NOT_JSON)  # a lone surrogate: docs/wire.md, "Limits of the local server"
    audio = _plain_audio(message)
    if audio is not None:
        return "realtimeInput", audio
    normalized = _walk_message(message, CLIENT_MESSAGE, "")
    if len(normalized) != 1:
        raise Refusal.of(cr.INVALID_ARGUMENT)
    ((kind, body),) = normalized.items()
    return kind, body


def check_setup_shape(setup: dict[str, Any]) -> None:
    """Raise InvalidValue (or Refusal) where a camelCased setup body breaks the schema, as the server would; the
    client checks a merged --setup FILE with it before reading the setup (livecli.commands.session_setup)."""
    _walk(setup, CLIENT_MESSAGE["setup"], "setup")


def decode_audio_blob(blob: dict[str, Any], path: str) -> tuple[bytes, int]:
    """The PCM bytes and sample rate of a parsed audio Blob.

    The local server understands raw 16-bit PCM only (`audio/pcm`, optionally `;rate=N` with N in 8000–48000;
    other rates are resampled to 16 kHz on arrival). Other audio types (wav, flac, mp3...) are refused with 1007
    rather than heard as noise; a Blob without a mimeType is taken as 16 kHz PCM.
    """
    pcm = blob.get("data", b"")
    mime = str(blob.get("mimeType", "audio/pcm"))
    rate = _known_pcm_rate(mime) if len(mime) <= _CACHED_MIME_CHARS else _pcm_rate(mime)
    if rate is None:
        raise Refusal.of(cr.UNSUPPORTED_AUDIO, mime=repr(mime.strip()))
    if not MIN_RATE <= rate <= MAX_RATE:
        raise _invalid(f"{path}.mime_type", mime.strip(), "TYPE_STRING")
    return pcm, rate


def _pcm_rate(mime: str) -> int | None:
    """The sample rate a PCM mimeType declares (16 kHz when it names none), or None when it is not `audio/pcm`."""
    base, _, params = mime.strip().partition(";")
    if base.strip().lower() != "audio/pcm":
        return None
    match = _RATE.search(params)
    return int(match.group(1)) if match else INPUT_RATE


# Every audio message names its mimeType, nearly always the same few: they are parsed once (short ones only,
# so a client cannot make the cache hold megabytes).
_CACHED_MIME_CHARS = 64
_known_pcm_rate = functools.lru_cache(maxsize=64)(_pcm_rate)


@dataclass
class SetupInfo:
    """What a valid setup asks for, as the session needs it."""

    model: str
    info: ModelInfo | None
    modalities: tuple[str, ...]
    voice: str | None
    automatic_vad: bool
    vad: dict[str, Any]
    interrupts: bool
    resumption: bool
    resume_handle: str | None
    transparent: bool
    compression: bool
    function_names: tuple[str, ...]
    history_config: bool
    warnings: list[str] = field(default_factory=list)
    turn_coverage: str | None = None  # realtimeInputConfig.turnCoverage as sent (livecli.server.frames)
    tools: list[dict[str, Any]] = field(default_factory=list)  # the setup's tools (livecli.server.tool_model)


def check_setup(setup: dict[str, Any]) -> SetupInfo:
    """Apply the model table to a (schema-valid, camelCased) setup, or raise Refusal."""
    model = setup.get("model")
    if not isinstance(model, str) or not model:
        raise Refusal.of(cr.INVALID_ARGUMENT)
    info = lookup(model)
    warnings: list[str] = []
    if info is None:
        warnings.append(f"unknown model {bare_model_id(model)!r}: accepted with AUDIO and TEXT")
    generation = setup.get("generationConfig", {})
    modalities = tuple(generation.get("responseModalities") or ["AUDIO"])
    allowed = info.modalities if info else frozenset({"AUDIO", "TEXT"})
    if any(m not in allowed for m in modalities):
        raise Refusal.of(cr.NON_AUDIO if "AUDIO" not in modalities else cr.INVALID_ARGUMENT)
    if len(set(modalities)) > 1:
        raise Refusal.of(cr.INVALID_ARGUMENT)
    speech = generation.get("speechConfig", {})
    voice = speech.get("voiceConfig", {}).get("prebuiltVoiceConfig", {}).get("voiceName")
    if voice is not None and voice not in VOICES:
        raise Refusal.of(cr.NO_VOICE)
    if info is not None:
        _check_model_features(setup, info)
    realtime = setup.get("realtimeInputConfig", {})
    detection = realtime.get("automaticActivityDetection", {})
    resumption = setup.get("sessionResumption")
    tools = setup.get("tools", [])
    names = tuple(
        str(decl.get("name", ""))
        for tool in tools
        for decl in tool.get("functionDeclarations", [])
        if decl.get("name")
    )
    return SetupInfo(
        model=model,
        info=info,
        modalities=modalities,
        voice=voice,
        automatic_vad=detection.get("disabled") is not True,
        vad=detection,
        interrupts=realtime.get("activityHandling") != "NO_INTERRUPTION",
        resumption=isinstance(resumption, dict),
        resume_handle=(resumption or {}).get("handle") or None,
        transparent=(resumption or {}).get("transparent") is True,
        compression="contextWindowCompression" in setup,
        function_names=names,
        history_config=setup.get("historyConfig", {}).get("initialHistoryInClientContent") is True,
        warnings=warnings,
        turn_coverage=realtime.get("turnCoverage"),
        tools=list(tools),
    )


def _check_model_features(setup: dict[str, Any], info: ModelInfo) -> None:
    """The model table's refusals (livecli.protocol.models.setup_refusals, which the client's preflight shares)."""
    refused = setup_refusals(setup, info)
    if refused:
        raise Refusal.of(refused[0].close)
