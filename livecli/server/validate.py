"""Strict client-message validation, with the service's 1007/1008 close reasons (protocol.md §2, §3, §5).

`parse_client_frame` checks one frame against the schema (either casing, unknown names refused with their
snake_case path) and returns it camelCased; `check_setup` applies the model table to a setup.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from livecli.errors import ProtocolError
from livecli.protocol.models import VOICES, ModelInfo, Thinking, bare_model_id, lookup
from livecli.protocol.wire import b64decode, camel, snake
from livecli.server.schema import ANY, CLIENT_MESSAGE, Enum, Message, Repeated, Spec

__all__ = [
    "INVALID_ARGUMENT",
    "NON_AUDIO",
    "NOT_SUPPORTED",
    "NO_VOICE",
    "Refusal",
    "SetupInfo",
    "check_setup",
    "cut_reason",
    "decode_audio_blob",
    "parse_client_frame",
]

INVALID_ARGUMENT = "Request contains an invalid argument."
NOT_SUPPORTED = "Operation is not implemented, or supported, or enabled."
NO_VOICE = "No matching speaker voice found"
NON_AUDIO = "Cannot extract voices from a non-audio request"
_RATE = re.compile(r"rate=(\d+)")


def cut_reason(reason: str, limit: int = 123) -> str:
    """A close reason cut to the 123-byte close-frame limit, never inside a UTF-8 character."""
    raw = reason.encode("utf-8")
    if len(raw) <= limit:
        return reason
    return raw[:limit].decode("utf-8", "ignore")


class Refusal(Exception):
    """The server refuses the session: close with `code` and `reason` (already cut to 123 bytes)."""

    def __init__(self, code: int, reason: str) -> None:
        self.code = code
        self.reason = cut_reason(reason)
        super().__init__(f"{code} {self.reason}")


def _unknown(name: str, path: str) -> Refusal:
    where = f" at '{path}'" if path else ""
    return Refusal(1007, f'Invalid JSON payload received. Unknown name "{name}"{where}: Cannot find field.')


def _invalid(path: str, value: object) -> Refusal:
    shown = json.dumps(value)[:40]
    return Refusal(1007, f"Invalid JSON payload received. Invalid value at '{path}', {shown}")


def _walk(value: Any, spec: Spec, path: str) -> Any:
    """Check `value` against `spec`; return it with camelCase keys (free-form values verbatim)."""
    if spec is ANY:
        return value
    if isinstance(spec, Enum):
        items = value if isinstance(value, list) else [value]
        for index, item in enumerate(items):
            if not isinstance(item, str) or item not in spec.values:
                where = f"{path}[{index}]" if isinstance(value, list) else path
                raise Refusal(
                    1007, f"Invalid JSON payload received. Invalid value at '{where}' ({spec.name}), {item!r}"
                )
        return value
    if isinstance(spec, Repeated):
        if not isinstance(value, list):
            raise _invalid(path, value)
        return [_walk(item, spec.item, f"{path}[{index}]") for index, item in enumerate(value)]
    assert isinstance(spec, dict)
    return _walk_message(value, spec, path)


def _walk_message(value: Any, spec: Message, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _invalid(path, value)
    out: dict[str, Any] = {}
    for name, item in value.items():
        key = camel(name)
        sub = spec.get(key)
        if sub is None:
            raise _unknown(name, path)
        child = snake(key)
        out[key] = _walk(item, sub, f"{path}.{child}" if path else child)
    return out


def parse_client_frame(frame: str | bytes) -> tuple[str, dict[str, Any]]:
    """Validate one client frame; return (top-level camelCase name, its camelCased body) or raise Refusal."""
    try:
        message = json.loads(frame)
    except (ValueError, UnicodeDecodeError):
        raise Refusal(1007, "Invalid JSON payload received. Unexpected token.") from None
    if not isinstance(message, dict):
        raise Refusal(1007, "Invalid JSON payload received. Unexpected token.")
    normalized = _walk_message(message, CLIENT_MESSAGE, "")
    if len(normalized) != 1:
        raise Refusal(1007, INVALID_ARGUMENT)
    ((kind, body),) = normalized.items()
    return kind, body if isinstance(body, dict) else {}


def decode_audio_blob(blob: dict[str, Any], path: str) -> tuple[bytes, int]:
    """The PCM bytes and sample rate of a realtimeInput audio Blob (standard or URL-safe base64)."""
    try:
        pcm = b64decode(blob.get("data", ""))
    except ProtocolError:
        shown = str(blob.get("data"))[:20]
        raise Refusal(
            1007, f"Invalid JSON payload received. Invalid value at '{path}.data' (TYPE_BYTES), {shown!r}"
        ) from None
    mime = str(blob.get("mimeType", ""))
    match = _RATE.search(mime)
    return pcm, int(match.group(1)) if match else 16000


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


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def check_setup(setup: dict[str, Any]) -> SetupInfo:
    """Apply the model table to a (schema-valid, camelCased) setup, or raise Refusal."""
    model = setup.get("model")
    if not isinstance(model, str) or not model:
        raise Refusal(1007, INVALID_ARGUMENT)
    info = lookup(model)
    warnings: list[str] = []
    if info is None:
        warnings.append(f"unknown model {bare_model_id(model)!r}: accepted with AUDIO and TEXT")
    generation = setup.get("generationConfig", {})
    modalities = tuple(generation.get("responseModalities") or ["AUDIO"])
    allowed = info.modalities if info else frozenset({"AUDIO", "TEXT"})
    if any(m not in allowed for m in modalities):
        raise Refusal(1007, NON_AUDIO if "AUDIO" not in modalities else INVALID_ARGUMENT)
    if len(set(modalities)) > 1:
        raise Refusal(1007, INVALID_ARGUMENT)
    speech = generation.get("speechConfig", {})
    voice = speech.get("voiceConfig", {}).get("prebuiltVoiceConfig", {}).get("voiceName")
    if voice is not None and voice not in VOICES:
        raise Refusal(1007, NO_VOICE)
    if info is not None:
        _check_model_features(setup, generation, info)
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
        automatic_vad=not _truthy(detection.get("disabled", False)),
        vad=detection,
        interrupts=realtime.get("activityHandling") != "NO_INTERRUPTION",
        resumption=isinstance(resumption, dict),
        resume_handle=(resumption or {}).get("handle") or None,
        transparent=_truthy((resumption or {}).get("transparent", False)),
        compression="contextWindowCompression" in setup,
        function_names=names,
        history_config=_truthy(setup.get("historyConfig", {}).get("initialHistoryInClientContent", False)),
        warnings=warnings,
    )


def _check_model_features(setup: dict[str, Any], generation: dict[str, Any], info: ModelInfo) -> None:
    thinking = generation.get("thinkingConfig")
    if thinking is not None:
        level = str(thinking.get("thinkingLevel", "")).upper()
        ok = {
            Thinking.NONE: False,
            Thinking.BUDGET: "thinkingLevel" not in thinking,
            Thinking.LEVEL: "thinkingBudget" not in thinking and level in {"", "MINIMAL", "LOW", "MEDIUM", "HIGH"},
            Thinking.LEVEL_NO_MINIMAL: "thinkingBudget" not in thinking and level in {"", "LOW", "MEDIUM", "HIGH"},
        }[info.thinking]
        if not ok:
            raise Refusal(1007, INVALID_ARGUMENT)
    if _truthy(generation.get("enableAffectiveDialog", False)) and not info.affective_dialog:
        raise Refusal(1007, INVALID_ARGUMENT)
    if "systemInstruction" in setup and not info.system_instruction:
        raise Refusal(1007, INVALID_ARGUMENT)
    proactivity = setup.get("proactivity")
    if proactivity is not None:
        proactive = proactivity.get("proactiveAudio")
        if info.proactive_audio == "no" or (info.proactive_audio == "always" and proactive is False):
            raise Refusal(1007, INVALID_ARGUMENT)
    if not info.code_execution and any("codeExecution" in tool for tool in setup.get("tools", [])):
        raise Refusal(1008, NOT_SUPPORTED)
