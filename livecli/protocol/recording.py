"""The recording format's pure parts (docs/recording.md): names, version, frame lines, payloads moved out and back.

A recording is a directory: `recording.json` (version, side, target and setup with secrets removed, outcome),
`frames.jsonl` (one line per frame or connection event, both directions), `input.wav` / `reply.wav` (the audio
each side sent, as PCM sidecars) and `media/` (images). Client (`send --record`), server (`serve --record`),
`livecli replay` and `serve --replay` all read and write this one format; the files themselves are written and
read by `livecli.audio.recording`. Standard library only, no I/O here.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from livecli.protocol.redact import Redactor, redact_url

__all__ = [
    "CLIENT",
    "FORMAT",
    "FRAMES",
    "MEDIA",
    "META",
    "SERVER",
    "VERSION",
    "Sidecar",
    "externalize",
    "frame_kind",
    "frame_line",
    "internalize",
    "is_payload_ref",
    "parse_frame",
    "public_target",
    "resumed_handle",
    "sidecar_for",
]

FORMAT = "livecli-recording"
VERSION = 1
META = "recording.json"
FRAMES = "frames.jsonl"
MEDIA = "media"
# Who sent a frame (the `from` field): absolute, so one reader serves recordings made on either side.
CLIENT = "client"
SERVER = "server"
# The rates the Live API uses (docs/wire.md, "Audio"): the sidecars at these rates get the short names.
_DEFAULT_RATE = {CLIENT: 16000, SERVER: 24000}
_SIDECAR_BASE = {CLIENT: "input", SERVER: "reply"}
# Headers whose value is a credential whatever it looks like: recorded as the mask.
_SECRET_HEADERS = frozenset({"x-goog-api-key", "authorization", "proxy-authorization", "cookie"})
_IMAGE_SUFFIX = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


@dataclass(frozen=True)
class Sidecar:
    """Where a payload goes: a PCM WAV (`rate` set: appended, its place given as a byte offset into the WAV's
    data) or a file of its own under media/ (`rate` None)."""

    name: str
    rate: int | None


def sidecar_for(sender: str, mime: str, count: int) -> Sidecar:
    """The sidecar of a payload `sender` sent with this mimeType; `count`: payloads of its kind so far (names the
    media files). PCM goes to input.wav / reply.wav (input-8000.wav and the like at another rate)."""
    kind, _, params = mime.partition(";")
    kind = kind.strip().lower()
    if kind in ("audio/pcm", "audio/l16"):
        rate = _DEFAULT_RATE[sender]
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip().lower() == "rate" and value.strip().isdigit():
                rate = int(value.strip())
        base = _SIDECAR_BASE[sender]
        return Sidecar(f"{base}.wav" if rate == _DEFAULT_RATE[sender] else f"{base}-{rate}.wav", rate)
    suffix = _IMAGE_SUFFIX.get(kind, "bin")
    return Sidecar(f"{MEDIA}/{sender}-{count + 1:05d}.{suffix}", None)


def frame_kind(message: Any) -> str:
    """The message's type, e.g. `realtimeInput.audio`, `serverContent.modelTurn`, `setupComplete`; `malformed`
    for anything that is not a JSON object."""
    if not isinstance(message, dict) or not message:
        return "malformed"
    top = next(iter(message))
    body = message[top]
    return f"{top}.{next(iter(body))}" if isinstance(body, dict) and body else str(top)


def is_payload_ref(value: Any) -> bool:
    """Whether `value` is the reference a payload was replaced by (`{"sidecar": ..., "bytes": ...}`)."""
    return (
        isinstance(value, dict) and isinstance(value.get("sidecar"), str) and isinstance(value.get("bytes"), int)
    )


# Places a payload and returns its reference: (sender, mimeType, bytes) -> {"sidecar", "offset"?, "bytes"}.
Place = Callable[[str, str, bytes], dict[str, Any]]


def externalize(message: Any, sender: str, place: Place) -> Any:
    """`message` with every Blob's base64 `data` (a dict with `data` and `mimeType`/`mime_type`: audio, images,
    inline data) decoded and handed to `place`, and replaced by the reference it returns. Data that is not base64
    stays as it was."""
    if isinstance(message, list):
        return [externalize(item, sender, place) for item in message]
    if not isinstance(message, dict):
        return message
    mime = message.get("mimeType", message.get("mime_type"))
    data = message.get("data")
    out = {key: externalize(value, sender, place) for key, value in message.items() if key != "data"}
    if "data" in message:
        out = {key: out.get(key, data) for key in message}  # the original key order
        if isinstance(data, str) and isinstance(mime, str):
            try:
                raw = base64.b64decode(data, validate=True)
            except (binascii.Error, ValueError):
                raw = None
            if raw is not None:
                out["data"] = place(sender, mime, raw)
    return out


def internalize(message: Any, read: Callable[[dict[str, Any]], bytes]) -> Any:
    """The inverse of `externalize`: each reference replaced by its payload, base64 again (`read` fetches it)."""
    if isinstance(message, list):
        return [internalize(item, read) for item in message]
    if not isinstance(message, dict):
        return message
    return {
        key: base64.b64encode(read(value)).decode("ascii")
        if key == "data" and is_payload_ref(value)
        else internalize(value, read)
        for key, value in message.items()
    }


def resumed_handle(message: Any) -> str | None:
    """The resumption handle a setup message resumes (camelCase or snake_case), if any."""
    setup = message.get("setup") if isinstance(message, dict) else None
    resumption = (
        setup.get("sessionResumption", setup.get("session_resumption")) if isinstance(setup, dict) else None
    )
    handle = resumption.get("handle") if isinstance(resumption, dict) else None
    return str(handle) if handle else None


def public_target(
    url: str, headers: dict[str, str], model: str, backend: str, secrets: Iterable[str]
) -> dict[str, Any]:
    """The resolved target as a recording keeps it: the URL with its credentials masked, each header's value
    masked when it is a credential (or quotes one), the model and the backend."""
    redactor = Redactor(secrets)
    shown = {
        name: "***" if name.lower() in _SECRET_HEADERS else redactor.text(value) for name, value in headers.items()
    }
    return {"url": redact_url(url, secrets), "headers": shown, "model": model, "backend": backend}


def frame_line(t: float, conn: int, sender: str, message: Any, size: int, binary: bool) -> dict[str, Any]:
    """One frames.jsonl line for a frame (its payloads already moved out by `externalize`)."""
    return {
        "t": round(t, 6),
        "conn": conn,
        "from": sender,
        "kind": frame_kind(message) if message is not None else "malformed",
        "bytes": size,
        "binary": binary,
        "message": message,
    }


def parse_frame(frame: str | bytes) -> Any:
    """A frame's JSON value, or None when it is not JSON."""
    try:
        return json.loads(frame)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
