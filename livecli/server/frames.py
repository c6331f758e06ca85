"""Video frames the local server receives: checked, then counted into the user turn they belong to (sans I/O).

A frame is an image Blob: `realtimeInput.video` (or an `image/*` entry of the older `mediaChunks`), or an
`inlineData` image part of a `clientContent` turn. It must be a JPEG or PNG that decodes, declared with its own
MIME type; anything else closes the session with 1007 (docs/wire.md, "Video frames"). Decoding: the structure and
size always come from livecli.server.image_headers (standard library); when Pillow (the `media` extra) is
installed the frame is also decoded in full, which catches corrupt compressed data the structure check cannot.

Which turn a frame belongs to follows `realtimeInputConfig.turnCoverage` (docs/wire.md, "Video frames"): under
TURN_INCLUDES_ONLY_ACTIVITY a frame outside an activity (before activityStart, or while the VAD hears no speech)
is dropped, as the service drops it; otherwise it joins the next user turn.
"""

from __future__ import annotations

import functools
import io
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from livecli.errors import MissingExtra
from livecli.extras import import_extra
from livecli.protocol import close_reasons as cr
from livecli.protocol.models import ModelInfo
from livecli.server.image_headers import BadImage, ImageHeader, read_image, sniff
from livecli.server.validate import Refusal

__all__ = [
    "DECODE_MAX_PIXELS",
    "NO_FRAMES",
    "FrameTally",
    "FramesSeen",
    "check_frame",
    "content_frames",
    "is_image_blob",
    "only_activity",
]

ONLY_ACTIVITY = "TURN_INCLUDES_ONLY_ACTIVITY"
ACCEPTED_TYPES = ("image/jpeg", "image/png")
# Larger frames are checked by their structure only: a full decode would cost hundreds of MB (livecli's choice).
DECODE_MAX_PIXELS = 4096 * 4096
SIZES_SHOWN = 3  # distinct frame sizes named in a transcript; more are summarised as "..."


def is_image_blob(blob: dict[str, Any]) -> bool:
    """Whether a Blob (a mediaChunks entry, an inlineData part) declares an image."""
    return str(blob.get("mimeType", "")).strip().lower().startswith("image/")


def check_frame(blob: dict[str, Any], path: str) -> ImageHeader:
    """The frame's kind and size, or Refusal (1007) when it is not a JPEG/PNG that decodes as declared."""
    mime = str(blob.get("mimeType", "")).strip()
    data = blob.get("data", b"")
    declared = mime.split(";", 1)[0].strip().lower()
    if declared not in ACCEPTED_TYPES:
        raise _bad(path, mime, f"{mime or 'no MIME type'} is not supported")
    found = sniff(data)
    if found is not None and f"image/{found}" != declared:
        raise _bad(path, mime, f"the data is {found.upper()}")
    try:
        header = read_image(data)
        _decode(data, header)
    except BadImage as exc:
        raise _bad(path, mime, str(exc)) from None
    return header


def _bad(path: str, mime: str, why: str) -> Refusal:
    return Refusal.of(cr.BAD_IMAGE, path=path, mime=mime or "?", why=why)


@functools.cache
def _pillow() -> ModuleType | None:
    """PIL.Image when the media extra is installed, else None (the server runs without it)."""
    try:
        return import_extra("PIL.Image", needed_by="decoding video frames")
    except MissingExtra:
        return None


def _decode(data: bytes, header: ImageHeader) -> None:
    """Decode the whole frame with Pillow, when installed and the frame is not too large; BadImage if it fails."""
    image_module = _pillow()
    if image_module is None or header.width * header.height > DECODE_MAX_PIXELS:
        return
    try:
        with image_module.open(io.BytesIO(data), formats=[header.kind.upper()]) as image:
            image.load()
    except Exception as exc:  # any failure to decode (OSError, SyntaxError, a warning made an error) is bad input
        raise BadImage(f"does not decode ({type(exc).__name__})") from None


def content_frames(turns: Iterable[dict[str, Any]]) -> list[ImageHeader]:
    """The images among clientContent turns' `inlineData` parts, each checked like a realtime frame."""
    found = []
    for t, turn in enumerate(turns):
        for p, part in enumerate(turn.get("parts", [])):
            blob = part.get("inlineData")
            if blob is not None and is_image_blob(blob):
                found.append(check_frame(blob, f"client_content.turns[{t}].parts[{p}].inline_data"))
    return found


def only_activity(coverage: str | None, info: ModelInfo | None) -> bool:
    """Whether frames outside an activity are dropped: the setup's turnCoverage, else the model's default
    (docs/wire.md, "Video frames": TURN_INCLUDES_ONLY_ACTIVITY on 2.5, audio activity and all video after)."""
    if coverage and coverage != "TURN_COVERAGE_UNSPECIFIED":
        return coverage == ONLY_ACTIVITY
    return info is not None and "2.5" in info.id


@dataclass(frozen=True)
class FramesSeen:
    """The frames of one user turn: how many, and their distinct sizes in the order they came."""

    count: int = 0
    sizes: tuple[str, ...] = ()

    def describe(self) -> str | None:
        """`saw 3 frames (640x480)` for a transcript, or None when the turn had none."""
        if not self.count:
            return None
        noun = "frame" if self.count == 1 else "frames"
        shown = ", ".join(self.sizes[:SIZES_SHOWN]) + (", ..." if len(self.sizes) > SIZES_SHOWN else "")
        return f"saw {self.count} {noun} ({shown})"


NO_FRAMES = FramesSeen()


@dataclass
class FrameTally:
    """Frames waiting for the user turn they belong to."""

    only_activity: bool
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("livecli.server"))
    dropped: int = 0
    _count: int = 0
    _sizes: list[str] = field(default_factory=list)

    def arrived(self, header: ImageHeader, *, in_activity: bool) -> None:
        """One checked frame; outside an activity under TURN_INCLUDES_ONLY_ACTIVITY it is dropped."""
        if self.only_activity and not in_activity:
            self.dropped += 1
            self.log.info("video frame outside an activity dropped (TURN_INCLUDES_ONLY_ACTIVITY)")
            return
        self.add([header])

    def add(self, headers: Iterable[ImageHeader]) -> None:
        """Frames that belong to the next turn whatever the coverage (a clientContent turn's own images)."""
        for header in headers:
            self._count += 1
            if header.size not in self._sizes:
                self._sizes.append(header.size)

    def take(self) -> FramesSeen:
        """The frames of the turn that just ended; the next turn starts with none."""
        seen = FramesSeen(self._count, tuple(self._sizes))
        self._count, self._sizes = 0, []
        return seen
