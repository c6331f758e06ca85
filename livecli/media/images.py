"""`--image FILE`: read one image, tell its type from its content, and make the frame livecli sends.

The rule (docs/wire.md, "Images and media resolution"): a JPEG or PNG goes as it is when it fits the target
(its long side at most the target's pixels, at most `MAX_AS_IS_BYTES`, upright: no EXIF orientation to apply);
anything else Pillow opens (WebP, AVIF, GIF's first frame, BMP, TIFF, HEIF where pillow-heif is installed) and
anything larger is transcoded to JPEG, keeping the aspect ratio and applying the EXIF orientation. The type comes
from the bytes, never from the name. Every problem is one MediaInputError("<name>: <problem>") (exit 6), raised
while the images are loaded, before any connection.

Pillow is imported only here, inside functions, through livecli.extras (`livecli --help` never imports it).
"""

from __future__ import annotations

import functools
import importlib
import io
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from livecli.errors import MediaInputError, UsageError, cannot_open
from livecli.extras import import_extra

if TYPE_CHECKING:
    from PIL.Image import Image

__all__ = [
    "DEFAULT_LONG_SIDE_PX",
    "JPEG_QUALITY",
    "LONG_SIDE_PX",
    "MAX_AS_IS_BYTES",
    "MAX_IMAGE_FILE_BYTES",
    "MEDIA_RESOLUTIONS",
    "ImageFrame",
    "content_type",
    "load_image",
    "load_images",
    "long_side_px",
    "media_resolution_setting",
    "to_jpeg",
]

# livecli's choice (docs/wire.md, "Images and media resolution": the pixel sizes behind mediaResolution are not
# published): the long side, in pixels, an image is scaled down to for each --media-resolution, and without one.
LONG_SIDE_PX = {"low": 512, "medium": 768, "high": 1536}
DEFAULT_LONG_SIDE_PX = 1024
MEDIA_RESOLUTIONS = tuple(LONG_SIDE_PX)

# The most livecli reads of one image file (a photo is a few MiB; a bigger file is refused, never read whole),
# and the largest JPEG or PNG sent as it is (bigger ones, e.g. with a large EXIF block or trailing data, are
# transcoded, so a frame stays far under the 16 MiB frame limit even base64-encoded).
MAX_IMAGE_FILE_BYTES = 64 << 20
MAX_AS_IS_BYTES = 4 << 20
JPEG_QUALITY = 85

# The signatures of the two types sent as they are (docs/wire.md, "Client messages": `video` takes image Blobs).
_SIGNATURES = {b"\xff\xd8\xff": "JPEG", b"\x89PNG\r\n\x1a\n": "PNG"}
_MIME = {"JPEG": "image/jpeg", "PNG": "image/png"}
_EXIF_ORIENTATION = 0x0112  # the EXIF tag; 1 means upright


@dataclass(frozen=True)
class ImageFrame:
    """One image as it will be sent: the bytes, their MIME type and size, and what the file held."""

    name: str  # the file as the user named it
    data: bytes
    mime: str  # image/jpeg or image/png
    width: int
    height: int
    source_type: str  # the file's type from its content: JPEG, PNG, WEBP, GIF, BMP, TIFF, ...
    transcoded: bool  # False: the file's own bytes


def long_side_px(resolution: str | None) -> int:
    """The target long side for a --media-resolution (None: livecli's default)."""
    return DEFAULT_LONG_SIDE_PX if resolution is None else LONG_SIDE_PX[resolution]


def media_resolution_setting(resolution: str | None) -> str | None:
    """`generationConfig.mediaResolution` as the API spells it (MEDIA_RESOLUTION_LOW, ...) for a
    --media-resolution (None: not sent, the service's default).

    Raises:
        UsageError: not one of low, medium, high.
    """
    if resolution is None:
        return None
    if resolution not in LONG_SIDE_PX:
        raise UsageError(f"--media-resolution must be one of {', '.join(MEDIA_RESOLUTIONS)}, not {resolution!r}")
    return f"MEDIA_RESOLUTION_{resolution.upper()}"


def content_type(data: bytes) -> str | None:
    """JPEG or PNG when the bytes start with that type's signature, else None (Pillow identifies the rest)."""
    return next((kind for magic, kind in _SIGNATURES.items() if data.startswith(magic)), None)


def load_images(paths: Sequence[str], resolution: str | None = None) -> list[ImageFrame]:
    """Every --image, in order, ready to send (the first bad one raises MediaInputError)."""
    return [load_image(path, resolution) for path in paths]


def load_image(path: str, resolution: str | None = None) -> ImageFrame:
    """One image file as the frame to send.

    Raises:
        MediaInputError: missing, unreadable, too large, not an image, or corrupt.
        MissingExtra: Pillow (the `livecli[media]` extra) is not installed.
    """
    data = _read(path)
    pil = import_extra("PIL.Image", needed_by="--image")
    ops = import_extra("PIL.ImageOps", needed_by="--image")
    _register_heif()
    with warnings.catch_warnings():
        # Pillow warns about odd but readable files (corrupt EXIF, palette transparency): not worth a line of
        # their own. A decompression bomb warning (an image over Pillow's pixel limit) is made an error, so the
        # size is refused before any pixel is decoded.
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", pil.DecompressionBombWarning)
        try:
            with pil.open(io.BytesIO(data)) as image:
                return _frame(path, data, image, long_side_px(resolution), ops)
        except (pil.DecompressionBombWarning, pil.DecompressionBombError):
            limit = pil.MAX_IMAGE_PIXELS or 0
            raise MediaInputError(
                f"{path}: too many pixels to decode safely (more than {limit / 1e6:.0f} megapixels): "
                "scale it down first"
            ) from None
        except pil.UnidentifiedImageError:
            raise MediaInputError(
                f"{path}: not an image livecli can read (JPEG, PNG, WebP, AVIF, GIF, BMP, TIFF)"
            ) from None
        except Exception as exc:  # Pillow's decoders raise many types (OSError, SyntaxError, ValueError, ...)
            raise MediaInputError(f"{path}: corrupt or truncated image ({_reason(exc)})") from None


def to_jpeg(image: Image, long_side: int) -> tuple[bytes, int, int]:
    """`image` as JPEG bytes, scaled down (never up) to `long_side` with its aspect ratio kept; alpha is laid on
    white (JPEG has none). Returns the bytes, width and height. For frames already upright (the caller applies
    any EXIF orientation)."""
    pil = import_extra("PIL.Image", needed_by="--image")
    rgb = _rgb(image, pil)
    if max(rgb.size) > long_side:
        rgb = rgb.copy() if rgb is image else rgb
        rgb.thumbnail((long_side, long_side), pil.Resampling.LANCZOS)
    out = io.BytesIO()
    rgb.save(out, "JPEG", quality=JPEG_QUALITY)
    return out.getvalue(), rgb.width, rgb.height


@functools.cache
def _register_heif() -> bool:
    """Let Pillow open HEIF/HEIC photos where the pillow-heif plugin is installed (it is not part of the media
    extra: a separate, optional install). Registered once; False when it is not there."""
    try:
        plugin = importlib.import_module("pillow_heif")
    except ImportError:
        return False
    plugin.register_heif_opener()
    return True


def _read(path: str) -> bytes:
    """The file's bytes, at most MAX_IMAGE_FILE_BYTES of them (a bigger file is refused, not read whole)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_IMAGE_FILE_BYTES + 1)
    except IsADirectoryError:
        raise MediaInputError(f"{path}: is a directory, not an image") from None
    except (OSError, ValueError) as exc:
        raise MediaInputError(cannot_open(path, exc)) from None
    if len(data) > MAX_IMAGE_FILE_BYTES:
        raise MediaInputError(
            f"{path}: larger than {MAX_IMAGE_FILE_BYTES >> 20} MiB, the most livecli reads for an image"
        )
    if not data:
        raise MediaInputError(f"{path}: empty file, not an image")
    return data


def _frame(path: str, data: bytes, image: Image, long_side: int, ops: Any) -> ImageFrame:
    """Decode `image` whole (a truncated file fails here, before connecting) and make its frame."""
    kind = content_type(data)
    source_type = kind or str(image.format or "unknown")
    if kind == "JPEG" and max(image.size) > long_side:
        # Decode at 1/2..1/8 scale where that still covers the target size: less memory and time for big photos.
        scale = long_side / max(image.size)
        image.draft("RGB", (math.ceil(image.width * scale), math.ceil(image.height * scale)))
    image.load()
    orientation = image.getexif().get(_EXIF_ORIENTATION, 1)
    as_is = (
        kind is not None
        and max(image.size) <= long_side
        and len(data) <= MAX_AS_IS_BYTES
        and orientation == 1
        and image.mode != "CMYK"  # many decoders show CMYK JPEGs with wrong colours
    )
    if as_is and kind is not None:
        return ImageFrame(path, data, _MIME[kind], image.width, image.height, source_type, transcoded=False)
    upright = ops.exif_transpose(image)
    jpeg, width, height = to_jpeg(upright, long_side)
    return ImageFrame(path, jpeg, _MIME["JPEG"], width, height, source_type, transcoded=True)


def _rgb(image: Image, pil: Any) -> Image:
    """`image` in a mode JPEG takes (RGB or L): transparency laid on white, other modes converted."""
    if image.mode in ("RGB", "L"):
        return image
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        flat = pil.new("RGB", rgba.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat  # type: ignore[no-any-return]
    if image.mode.startswith("I;16"):  # 16-bit grey (PNG, TIFF): keep the top 8 bits
        return image.point(lambda value: value / 256).convert("L")
    return image.convert("RGB")


def _reason(exc: BaseException) -> str:
    """Pillow's message on one line (it can name internal states; the type says what kind of failure)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:160]
