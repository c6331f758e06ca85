"""JPEG and PNG checked and measured with the standard library only (docs/wire.md, "Video frames").

The local server must judge a video frame without the optional media extra: `read_image` walks the file's
structure and returns its kind and size, or raises BadImage saying what is wrong.

- PNG: the signature, every chunk's length and CRC, IHDR first (size, a valid bit depth / colour type pair),
  PLTE before the data when the colour type needs one, at least one IDAT, IEND; the IDAT stream is inflated (in
  pieces, never held whole) and must hold exactly the bytes the header's size calls for, each row starting with a
  valid filter type (unless the rows add up to more than MAX_INFLATED). What is left unchecked is only the
  filtered pixel values themselves, which cannot be wrong.
- JPEG: SOI, every marker segment's length, a frame header (SOFn) with a non-zero size and 1 to 4 components
  before the first scan, entropy-coded data that ends at a marker, and EOI. The Huffman data is not decoded: a
  corrupt scan passes here and is caught only by a full decode (Pillow, when installed).
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

__all__ = ["MAX_INFLATED", "BadImage", "ImageHeader", "read_image", "sniff"]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_MAX_SIDE = 2**31 - 1
# PNG: the bit depths each colour type allows, and its samples per pixel.
_PNG_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}
_PNG_SAMPLES = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
# Adam7 passes: (x start, y start, x step, y step).
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))
_INFLATE_PIECE = 1 << 16
# A PNG whose rows are larger than this is checked without inflating them: a small file can claim gigabytes.
MAX_INFLATED = 64 * 2**20

# JPEG markers that start a frame (SOF0-3, 5-7, 9-11, 13-15), and those that stand alone without a length.
_JPEG_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
_SOI, _EOI, _SOS = 0xD8, 0xD9, 0xDA


class BadImage(ValueError):
    """Not a JPEG or PNG this parser accepts; the message says what is wrong, in a few words."""


@dataclass(frozen=True)
class ImageHeader:
    """What a frame is: `kind` "jpeg" or "png", and its size in pixels."""

    kind: str
    width: int
    height: int

    @property
    def mime(self) -> str:
        """The MIME type of this kind, e.g. image/jpeg."""
        return f"image/{self.kind}"

    @property
    def size(self) -> str:
        """The size as `WIDTHxHEIGHT`."""
        return f"{self.width}x{self.height}"


def sniff(data: bytes) -> str | None:
    """ "jpeg" or "png" from the first bytes, or None: the type comes from the content, never from a name."""
    if data.startswith(PNG_SIGNATURE):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    return None


def read_image(data: bytes) -> ImageHeader:
    """The kind and size of a whole JPEG or PNG, after checking its structure; BadImage otherwise."""
    kind = sniff(data)
    if kind == "png":
        return _read_png(data)
    if kind == "jpeg":
        return _read_jpeg(data)
    raise BadImage("neither JPEG nor PNG")


# --- PNG -----------------------------------------------------------------------------------------------------


def _png_chunks(data: bytes) -> list[tuple[bytes, int, int]]:
    """(type, start, end) of each chunk's data up to IEND; CRCs checked."""
    chunks: list[tuple[bytes, int, int]] = []
    pos = len(PNG_SIGNATURE)
    while True:
        if pos + 12 > len(data):
            raise BadImage("PNG ends before IEND")
        (length,) = struct.unpack_from(">I", data, pos)
        kind = data[pos + 4 : pos + 8]
        start, end = pos + 8, pos + 8 + length
        if not kind.isalpha():
            raise BadImage("PNG chunk type is not four letters")
        name = kind.decode("ascii")
        if length > _MAX_SIDE or end + 4 > len(data):
            raise BadImage(f"PNG chunk {name} runs past the end")
        (crc,) = struct.unpack_from(">I", data, end)
        if zlib.crc32(data[pos + 4 : end]) != crc:
            raise BadImage(f"PNG chunk {name} has a bad CRC")
        chunks.append((kind, start, end))
        pos = end + 4
        if kind == b"IEND":
            return chunks


def _read_png(data: bytes) -> ImageHeader:
    chunks = _png_chunks(data)
    kind, start, end = chunks[0]
    if kind != b"IHDR" or end - start != 13:
        raise BadImage("PNG does not start with IHDR")
    width, height, depth, colour, compression, filtering, interlace = struct.unpack_from(">IIBBBBB", data, start)
    if not (0 < width <= _MAX_SIDE and 0 < height <= _MAX_SIDE):
        raise BadImage("PNG size out of range")
    if depth not in _PNG_DEPTHS.get(colour, ()):
        raise BadImage(f"PNG colour type {colour} with bit depth {depth}")
    if compression != 0 or filtering != 0 or interlace not in (0, 1):
        raise BadImage("PNG compression, filter or interlace method unknown")
    names = [name for name, _, _ in chunks]
    if b"IDAT" not in names:
        raise BadImage("PNG has no image data")
    if colour == 3 and (b"PLTE" not in names or names.index(b"PLTE") > names.index(b"IDAT")):
        raise BadImage("PNG palette missing")
    rows = _png_rows(width, height, depth * _PNG_SAMPLES[colour], interlace == 1)
    if sum(count * size for count, size in rows) <= MAX_INFLATED:
        _inflate_rows([data[s:e] for name, s, e in chunks if name == b"IDAT"], rows)
    return ImageHeader("png", width, height)


def _png_rows(width: int, height: int, bits_per_pixel: int, interlaced: bool) -> list[tuple[int, int]]:
    """(row count, bytes per row including the filter byte) of each pass."""
    if not interlaced:
        return [(height, 1 + (width * bits_per_pixel + 7) // 8)]
    rows = []
    for x0, y0, dx, dy in _ADAM7:
        pass_w, pass_h = (width - x0 + dx - 1) // dx, (height - y0 + dy - 1) // dy
        if pass_w > 0 and pass_h > 0:
            rows.append((pass_h, 1 + (pass_w * bits_per_pixel + 7) // 8))
    return rows


def _inflate_rows(pieces: list[bytes], rows: list[tuple[int, int]]) -> None:
    """The zlib stream must inflate to exactly the rows' bytes, each row's first byte a filter type (0-4)."""
    starts = _row_starts(rows)
    expected = sum(count * size for count, size in rows)
    inflater = zlib.decompressobj()
    produced = 0
    try:
        for piece in pieces:
            pending = piece
            while pending:
                out = inflater.decompress(pending, _INFLATE_PIECE)
                pending = inflater.unconsumed_tail
                produced = _check_filters(out, produced, starts, expected)
        while not inflater.eof:
            out = inflater.decompress(b"", _INFLATE_PIECE)
            if not out:
                break
            produced = _check_filters(out, produced, starts, expected)
    except zlib.error:
        raise BadImage("PNG image data does not inflate") from None
    if not inflater.eof or produced != expected:
        raise BadImage("PNG image data does not match its size")


def _row_starts(rows: list[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """(first byte, row size, rows) of each pass, in stream order."""
    starts, offset = [], 0
    for count, size in rows:
        starts.append((offset, size, count))
        offset += count * size
    return starts


def _check_filters(out: bytes, produced: int, starts: list[tuple[int, int, int]], expected: int) -> int:
    """Check the filter bytes that fall in `out` (stream offset `produced`); return the new offset."""
    end = produced + len(out)
    if end > expected:
        raise BadImage("PNG image data is longer than its size")
    for first, size, count in starts:
        last = first + size * count
        if last <= produced or first >= end:
            continue
        row = max(0, (produced - first + size - 1) // size)
        offset = first + row * size
        filters = out[offset - produced : min(end, last) - produced : size]
        if filters and max(filters) > 4:
            raise BadImage("PNG row has an unknown filter type")
    return end


# --- JPEG ----------------------------------------------------------------------------------------------------


def _read_jpeg(data: bytes) -> ImageHeader:
    pos, size, scans = 2, None, 0
    while True:
        marker, pos = _next_marker(data, pos)
        if marker == _EOI:
            break
        if marker in _JPEG_STANDALONE or marker == _SOI:
            if marker == _SOI:
                raise BadImage("JPEG has a second start of image")
            continue
        if pos + 2 > len(data):
            raise BadImage("JPEG ends inside a marker")
        (length,) = struct.unpack_from(">H", data, pos)
        if length < 2 or pos + length > len(data):
            raise BadImage(f"JPEG segment 0x{marker:02X} runs past the end")
        segment = data[pos + 2 : pos + length]
        pos += length
        if marker in _JPEG_SOF:
            if size is not None:
                raise BadImage("JPEG has two frame headers")
            size = _jpeg_frame(segment)
        elif marker == _SOS:
            if size is None:
                raise BadImage("JPEG scan before its frame header")
            if not segment or len(segment) != 4 + 2 * segment[0]:
                raise BadImage("JPEG scan header is malformed")
            scans += 1
            pos = _skip_entropy(data, pos)
    if size is None or scans == 0:
        raise BadImage("JPEG has no image data")
    return ImageHeader("jpeg", *size)


def _next_marker(data: bytes, pos: int) -> tuple[int, int]:
    """The marker at `pos` (fill bytes 0xFF skipped) and the position after it."""
    if pos >= len(data) or data[pos] != 0xFF:
        raise BadImage("JPEG ends before its end marker" if pos >= len(data) else "JPEG marker expected")
    while pos < len(data) and data[pos] == 0xFF:
        pos += 1
    if pos >= len(data):
        raise BadImage("JPEG ends before its end marker")
    if data[pos] == 0x00:
        raise BadImage("JPEG marker expected")
    return data[pos], pos + 1


def _jpeg_frame(segment: bytes) -> tuple[int, int]:
    """Width and height from a frame header (SOFn)."""
    if len(segment) < 6:
        raise BadImage("JPEG frame header is too short")
    _precision, height, width, components = struct.unpack_from(">BHHB", segment)
    if not 1 <= components <= 4 or len(segment) != 6 + 3 * components:
        raise BadImage("JPEG frame header is malformed")
    if width == 0 or height == 0:
        raise BadImage("JPEG size is zero")
    return width, height


def _skip_entropy(data: bytes, pos: int) -> int:
    """The position of the marker that ends a scan's entropy-coded data (0xFF00 and restarts are data)."""
    while True:
        pos = data.find(b"\xff", pos)
        if pos < 0 or pos + 1 >= len(data):
            raise BadImage("JPEG ends inside its image data")
        following = data[pos + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
            pos += 1 if following == 0xFF else 2
            continue
        return pos
