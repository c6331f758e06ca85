"""The standard-library JPEG/PNG parser the local server judges video frames with (no media extra needed)."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from helpers import TEST_MIN, dev_only
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from livecli.server.image_headers import MAX_INFLATED, PNG_SIGNATURE, BadImage, read_image, sniff

ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))
DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}
SAMPLES = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def write_png(
    width: int, height: int, colour: int = 2, depth: int = 8, interlace: int = 0, seed: int = 0
) -> bytes:
    """A valid PNG written with the standard library only (rows of varied bytes, filter types 0-4)."""
    bits = depth * SAMPLES[colour]
    passes = [(0, 0, 1, 1)] if not interlace else list(ADAM7)
    raw = bytearray()
    for x0, y0, dx, dy in passes:
        pass_w, pass_h = (width - x0 + dx - 1) // dx, (height - y0 + dy - 1) // dy
        if pass_w <= 0 or pass_h <= 0:
            continue
        row_bytes = (pass_w * bits + 7) // 8
        for row in range(pass_h):
            raw.append((row + seed) % 5)
            raw += bytes((seed + row * 7 + i) % 256 for i in range(row_bytes))
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, interlace)
    palette = _chunk(b"PLTE", bytes(range(3 * 4))) if colour == 3 else b""
    data = zlib.compress(bytes(raw))
    idat = _chunk(b"IDAT", data[: len(data) // 2]) + _chunk(b"IDAT", data[len(data) // 2 :])
    return PNG_SIGNATURE + _chunk(b"IHDR", header) + palette + idat + _chunk(b"IEND", b"")


@st.composite
def png_params(draw: st.DrawFn) -> tuple[int, int, int, int, int]:
    colour = draw(st.sampled_from(sorted(DEPTHS)))
    depth = draw(st.sampled_from(DEPTHS[colour]))
    return draw(st.integers(1, 40)), draw(st.integers(1, 40)), colour, depth, draw(st.integers(0, 1))


@given(png_params(), st.integers(0, 255))
def test_any_valid_png_reads_as_its_size(params: tuple[int, int, int, int, int], seed: int) -> None:
    width, height, colour, depth, interlace = params
    header = read_image(write_png(width, height, colour, depth, interlace, seed))
    assert (header.kind, header.width, header.height) == ("png", width, height)
    assert header.size == f"{width}x{height}"


@given(png_params(), st.data())
def test_a_truncated_png_is_refused(params: tuple[int, int, int, int, int], data: st.DataObject) -> None:
    image = write_png(*params)
    cut = data.draw(st.integers(0, len(image) - 1))
    with pytest.raises(BadImage):
        read_image(image[:cut])


@given(png_params(), st.data())
def test_a_png_with_any_byte_changed_is_refused(
    params: tuple[int, int, int, int, int], data: st.DataObject
) -> None:
    """The signature is fixed and every chunk up to IEND carries a CRC: a byte changed anywhere is caught."""
    image = bytearray(write_png(*params))
    index = data.draw(st.integers(0, len(image) - 1))
    image[index] ^= data.draw(st.integers(1, 255))
    with pytest.raises(BadImage):
        read_image(bytes(image))


def test_png_rows_must_match_the_size_and_use_known_filters() -> None:
    good = write_png(4, 3)
    taller_header = struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0)
    taller = good[:8] + _chunk(b"IHDR", taller_header) + good[8 + 25 :]
    with pytest.raises(BadImage, match="does not match its size"):
        read_image(taller)
    rows = bytes([9] + [0] * 12) * 3  # filter type 9 does not exist
    header = struct.pack(">IIBBBBB", 4, 3, 8, 2, 0, 0, 0)
    bad_filter = PNG_SIGNATURE + _chunk(b"IHDR", header)
    bad_filter += _chunk(b"IDAT", zlib.compress(rows)) + _chunk(b"IEND", b"")
    with pytest.raises(BadImage, match="filter type"):
        read_image(bad_filter)


def test_a_palette_png_needs_its_palette() -> None:
    image = write_png(3, 3, colour=3, depth=8)
    start = image.index(b"PLTE") - 4
    without = image[:start] + image[start + 12 + 12 :]
    with pytest.raises(BadImage, match="palette"):
        read_image(without)


@settings(max_examples=300)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_raise_only_bad_image(blob: bytes) -> None:
    for data in (blob, PNG_SIGNATURE + blob, b"\xff\xd8\xff" + blob):
        try:
            header = read_image(data)
        except BadImage:
            continue
        assert header.width > 0
        assert header.height > 0


def test_the_kind_comes_from_the_content() -> None:
    assert sniff(write_png(2, 2)) == "png"
    assert sniff(b"\xff\xd8\xff\xe0") == "jpeg"
    assert sniff(b"GIF89a") is None
    with pytest.raises(BadImage, match="neither JPEG nor PNG"):
        read_image(b"RIFF\x00\x00\x00\x00WEBPVP8 ")


# --- JPEG: written by Pillow (the media extra) ---------------------------------------------------------------

jpeg_cases = st.tuples(
    st.integers(1, 300), st.integers(1, 300), st.sampled_from(["RGB", "L", "CMYK"]), st.booleans()
)


def _jpeg(width: int, height: int, mode: str, progressive: bool) -> bytes:
    image_module = dev_only("PIL.Image")
    out = io.BytesIO()
    image_module.new(mode, (width, height), 90).save(out, "JPEG", progressive=progressive, quality=80)
    return out.getvalue()


pytestmark_jpeg = pytest.mark.skipif(TEST_MIN, reason="JPEG samples are written with Pillow")


@pytestmark_jpeg
@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(jpeg_cases)
def test_any_pillow_jpeg_reads_as_its_size(case: tuple[int, int, str, bool]) -> None:
    width, height, mode, progressive = case
    header = read_image(_jpeg(width, height, mode, progressive))
    assert (header.kind, header.width, header.height) == ("jpeg", width, height)


@pytestmark_jpeg
@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(jpeg_cases, st.data())
def test_a_truncated_jpeg_is_refused(case: tuple[int, int, str, bool], data: st.DataObject) -> None:
    image = _jpeg(*case)
    cut = data.draw(st.integers(0, len(image) - 1))
    with pytest.raises(BadImage):
        read_image(image[:cut])


@pytestmark_jpeg
def test_a_jpeg_without_a_frame_header_or_scan_is_refused() -> None:
    image = _jpeg(8, 8, "RGB", False)
    with pytest.raises(BadImage, match="no image data"):
        read_image(b"\xff\xd8\xff\xd9")
    sof = image.index(b"\xff\xc0")
    (length,) = struct.unpack_from(">H", image, sof + 2)
    no_frame = image[:sof] + image[sof + 2 + length :]
    with pytest.raises(BadImage, match="scan before its frame header"):
        read_image(no_frame)


def test_a_png_claiming_gigabytes_is_measured_without_inflating_its_rows() -> None:
    """A small file can claim 30000x30000 pixels: its structure is checked, its rows are not inflated."""
    rows = zlib.compress(bytes(1000))

    def claiming(side: int) -> bytes:
        header = struct.pack(">IIBBBBB", side, side, 8, 6, 0, 0, 0)
        return PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", rows) + _chunk(b"IEND", b"")

    assert side_bytes(30000) > MAX_INFLATED
    assert read_image(claiming(30000)).size == "30000x30000"
    with pytest.raises(BadImage, match="does not match its size"):
        read_image(claiming(300))  # within the limit, the same rows are inflated and found short


def side_bytes(side: int) -> int:
    return side * (1 + 4 * side)
