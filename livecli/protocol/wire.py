"""Wire-level helpers shared by the client and the local server (docs/wire.md, "Framing").

Frames are JSON objects; the service parses protobuf JSON, so lowerCamelCase and snake_case names are both
accepted, and bytes are base64 in the standard or URL-safe alphabet.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from livecli.errors import ProtocolError

__all__ = [
    "INPUT_BYTES_PER_S",
    "INPUT_RATE",
    "OUTPUT_RATE",
    "b64decode",
    "b64encode",
    "camel",
    "dumps_frame",
    "loads_frame",
    "snake",
]

INPUT_RATE = 16000  # realtimeInput audio: 16 kHz mono s16le
OUTPUT_RATE = 24000  # reply audio, and the rate a bare `audio/pcm` mimeType means
INPUT_BYTES_PER_S = INPUT_RATE * 2

_SNAKE_PART = re.compile(r"_([a-z0-9])")
_CAMEL_PART = re.compile(r"(?<!^)([A-Z])")
_URLSAFE = bytes.maketrans(b"-_", b"+/")
# Lone surrogates (argv or files decoded with surrogateescape, or a "\ud800" escape in received JSON) have no
# UTF-8 form: a frame carrying one could not be sent.
_SURROGATE = re.compile("[\ud800-\udfff]")


def camel(name: str) -> str:
    """`voice_config` → `voiceConfig`; camelCase names pass through unchanged."""
    if "_" not in name:
        return name
    return _SNAKE_PART.sub(lambda m: m.group(1).upper(), name)


def snake(name: str) -> str:
    """`voiceConfig` → `voice_config` (used for the service's error paths, e.g. 'setup.generation_config')."""
    return _CAMEL_PART.sub(lambda m: "_" + m.group(1).lower(), name)


def dumps_frame(message: dict[str, Any]) -> str:
    """Compact JSON text of one message, as both ends send it: valid UTF-8 (lone surrogates become U+FFFD) and
    strict JSON (NaN and infinities, which JSON has no form for, raise ValueError)."""
    text = json.dumps(message, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text if text.isascii() else _SURROGATE.sub("\ufffd", text)


def loads_frame(frame: str | bytes) -> dict[str, Any]:
    """Decode one text or binary frame into a JSON object, or raise ProtocolError."""
    try:
        value = json.loads(frame)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"frame is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ProtocolError(f"frame is not a JSON object but {type(value).__name__}")
    return value


def b64decode(data: object) -> bytes:
    """Decode standard or URL-safe base64 (padding optional), or raise ProtocolError."""
    if not isinstance(data, str):
        raise ProtocolError(f"base64 data must be a string, not {type(data).__name__}")
    raw = data.encode("ascii", "replace")
    if b"-" in raw or b"_" in raw:
        raw = raw.translate(_URLSAFE)
    missing = -len(raw) % 4
    if missing == 3:
        raise ProtocolError("invalid base64 data: bad length")
    try:
        return binascii.a2b_base64(raw + b"=" * missing, strict_mode=True)  # = b64decode(validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ProtocolError(f"invalid base64 data: {exc}") from exc


def b64encode(data: bytes) -> str:
    """Standard-alphabet base64 with padding, as the service sends it."""
    return base64.b64encode(data).decode("ascii")
