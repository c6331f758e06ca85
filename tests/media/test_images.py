"""livecli.media.images: which images go as they are, which are transcoded, and every bad file as one line."""

from __future__ import annotations

import io
import sys
import tempfile
import types
from pathlib import Path

import pytest
from helpers import dev_only
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from livecli.errors import AudioInputError, MediaInputError, MissingExtra
from livecli.media import images
from livecli.media.images import ImageFrame, content_type, load_image, load_images, long_side_px

Image = dev_only("PIL.Image")


def write_image(path: Path, size: tuple[int, int], fmt: str, mode: str = "RGB", **save: object) -> Path:
    """A real image file of `size` in `fmt` (a gradient, so it is not trivially compressible)."""
    width, height = size
    image = Image.linear_gradient("L").resize(size).convert(mode) if mode != "L" else Image.new("L", size, 90)
    if mode == "RGB":
        image = Image.merge("RGB", (image.getchannel(0), Image.new("L", size, 40), Image.new("L", size, 200)))
    assert image.size == (width, height)
    image.save(path, fmt, **save)
    return path


def decoded(frame: ImageFrame) -> tuple[str | None, tuple[int, int]]:
    """What the frame's bytes are, as a decoder sees them."""
    with Image.open(io.BytesIO(frame.data)) as image:
        return image.format, image.size


def test_a_jpeg_that_fits_goes_as_it_is(tmp_path: Path) -> None:
    path = write_image(tmp_path / "photo.jpg", (640, 480), "JPEG")
    frame = load_image(str(path))
    assert frame.data == path.read_bytes()
    assert frame.mime == "image/jpeg"
    assert frame.transcoded is False
    assert (frame.width, frame.height) == (640, 480)


def test_a_png_that_fits_goes_as_it_is(tmp_path: Path) -> None:
    path = write_image(tmp_path / "shot.png", (300, 200), "PNG")
    frame = load_image(str(path))
    assert frame.data == path.read_bytes()
    assert frame.mime == "image/png"


def test_a_large_png_becomes_a_jpeg_of_the_target_size_with_its_aspect(tmp_path: Path) -> None:
    path = write_image(tmp_path / "big.png", (2400, 1200), "PNG")
    frame = load_image(str(path))
    assert frame.transcoded is True
    assert frame.source_type == "PNG"
    assert frame.mime == "image/jpeg"
    assert decoded(frame) == ("JPEG", (1024, 512))
    assert (frame.width, frame.height) == (1024, 512)


@pytest.mark.parametrize(
    ("resolution", "long_side"), [("low", 512), ("medium", 768), ("high", 1536), (None, 1024)]
)
def test_media_resolution_sets_the_long_side(tmp_path: Path, resolution: str | None, long_side: int) -> None:
    path = write_image(tmp_path / "tall.png", (1000, 2000), "PNG")
    frame = load_image(str(path), resolution)
    assert frame.height == min(long_side, 2000)
    assert frame.width == frame.height // 2
    assert long_side_px(resolution) == long_side


@pytest.mark.parametrize(("size", "sent"), [((4000, 3000), (512, 384)), ((4000, 1000), (512, 128))])
def test_a_large_jpeg_is_scaled_down(tmp_path: Path, size: tuple[int, int], sent: tuple[int, int]) -> None:
    """Decoded at a reduced scale (JPEG draft mode) that still covers the target, for photos and panoramas."""
    path = write_image(tmp_path / "huge.jpg", size, "JPEG")
    frame = load_image(str(path), "low")
    assert decoded(frame) == ("JPEG", sent)


def test_webp_becomes_jpeg(tmp_path: Path) -> None:
    path = write_image(tmp_path / "pic.webp", (320, 240), "WEBP")
    frame = load_image(str(path))
    assert frame.source_type == "WEBP"
    assert decoded(frame) == ("JPEG", (320, 240))


def test_transparency_is_laid_on_white(tmp_path: Path) -> None:
    path = tmp_path / "clear.webp"
    Image.new("RGBA", (50, 50), (0, 0, 0, 0)).save(path, "WEBP", lossless=True)
    frame = load_image(str(path))
    with Image.open(io.BytesIO(frame.data)) as image:
        darkest, _brightest = image.convert("L").getextrema()
    assert darkest > 240  # white, not the black of the transparent pixels


def test_a_gif_sends_its_first_frame(tmp_path: Path) -> None:
    path = tmp_path / "anim.gif"
    first, second = Image.new("RGB", (40, 30), (255, 0, 0)), Image.new("RGB", (40, 30), (0, 0, 255))
    first.save(path, "GIF", save_all=True, append_images=[second], duration=100, loop=0)
    frame = load_image(str(path))
    with Image.open(io.BytesIO(frame.data)) as image:
        red, _green, blue = image.convert("RGB").getpixel((20, 15))
    assert red > 200
    assert blue < 60


@pytest.mark.parametrize("fmt", ["BMP", "TIFF"])
def test_other_formats_pillow_opens_become_jpeg(tmp_path: Path, fmt: str) -> None:
    path = write_image(tmp_path / f"pic.{fmt.lower()}", (64, 48), fmt)
    frame = load_image(str(path))
    assert frame.source_type == fmt
    assert decoded(frame) == ("JPEG", (64, 48))


def test_16_bit_grey_keeps_its_levels(tmp_path: Path) -> None:
    path = tmp_path / "depth.png"
    Image.new("I;16", (600, 600), 32768).save(path, "PNG")  # larger than the target: transcoded
    frame = load_image(str(path), "low")
    with Image.open(io.BytesIO(frame.data)) as image:
        level = image.convert("L").getpixel((10, 10))
    assert 100 < level < 160  # mid grey, not clipped to white


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    """A landscape-stored photo whose EXIF says "rotate 90°" is sent upright (portrait), not as stored."""
    exif = Image.Exif()
    exif[0x0112] = 6
    path = write_image(tmp_path / "phone.jpg", (200, 100), "JPEG", exif=exif.tobytes())
    frame = load_image(str(path))
    assert frame.transcoded is True
    assert decoded(frame) == ("JPEG", (100, 200))


def test_the_type_comes_from_the_content_not_the_name(tmp_path: Path) -> None:
    png_named_jpg = write_image(tmp_path / "really_png.jpg", (30, 20), "PNG")
    jpeg_named_png = write_image(tmp_path / "really_jpeg.png", (30, 20), "JPEG")
    webp_named_png = write_image(tmp_path / "really_webp.png", (30, 20), "WEBP")
    assert load_image(str(png_named_jpg)).mime == "image/png"
    assert load_image(str(jpeg_named_png)).mime == "image/jpeg"
    assert load_image(str(webp_named_png)).transcoded is True


def test_content_type_knows_the_two_signatures() -> None:
    assert content_type(b"\xff\xd8\xff\xe0rest") == "JPEG"
    assert content_type(b"\x89PNG\r\n\x1a\nrest") == "PNG"
    assert content_type(b"RIFF....WEBP") is None


def test_a_truncated_jpeg_is_bad_input_in_one_line(tmp_path: Path) -> None:
    whole = write_image(tmp_path / "whole.jpg", (400, 300), "JPEG").read_bytes()
    path = tmp_path / "cut.jpg"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(MediaInputError) as caught:
        load_image(str(path))
    message = str(caught.value)
    assert message.startswith(f"{path}: corrupt or truncated image")
    assert "\n" not in message


def test_a_media_error_is_an_audio_input_error() -> None:
    """Bad input media, whatever the kind, is exit 6 (the exit table maps AudioInputError)."""
    assert issubclass(MediaInputError, AudioInputError)


@pytest.mark.parametrize(
    ("content", "problem"),
    [(b"hello, not an image\n", "not an image livecli can read"), (b"", "empty file")],
)
def test_what_is_not_an_image_is_named(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "notes.png"
    path.write_bytes(content)
    with pytest.raises(MediaInputError, match=problem):
        load_image(str(path))


def test_a_missing_file_and_a_directory(tmp_path: Path) -> None:
    with pytest.raises(MediaInputError, match="no such file"):
        load_image(str(tmp_path / "absent.jpg"))
    with pytest.raises(MediaInputError, match="is a directory"):
        load_image(str(tmp_path))


def test_a_file_over_the_read_limit_is_refused_unread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_image(tmp_path / "big.png", (200, 200), "PNG")
    monkeypatch.setattr(images, "MAX_IMAGE_FILE_BYTES", 100)
    with pytest.raises(MediaInputError, match="larger than 0 MiB, the most livecli reads"):
        load_image(str(path))


def test_a_decompression_bomb_is_bad_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Over Pillow's pixel limit the image is refused from its header, before decoding (here the limit is
    lowered, so the test does not need a 90-megapixel file)."""
    path = write_image(tmp_path / "bomb.png", (200, 200), "PNG")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10_000)
    with pytest.raises(MediaInputError, match="too many pixels to decode safely"):
        load_image(str(path))


def test_an_oversized_as_is_candidate_is_transcoded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_image(tmp_path / "heavy.png", (200, 200), "PNG")
    monkeypatch.setattr(images, "MAX_AS_IS_BYTES", 100)
    assert load_image(str(path)).mime == "image/jpeg"


def test_load_images_keeps_the_order(tmp_path: Path) -> None:
    first = write_image(tmp_path / "a.png", (10, 10), "PNG")
    second = write_image(tmp_path / "b.jpg", (10, 10), "JPEG")
    assert [frame.name for frame in load_images([str(first), str(second)])] == [str(first), str(second)]


def test_without_pillow_it_is_a_usage_error_naming_the_pip_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_image(tmp_path / "a.png", (10, 10), "PNG")
    monkeypatch.setitem(sys.modules, "PIL.Image", None)  # what `import PIL.Image` meets without Pillow
    with pytest.raises(
        MissingExtra, match=r"--image needs the optional media extra .*pip install 'livecli\[media\]'"
    ):
        load_image(str(path))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    prefix=st.sampled_from(
        [b"", b"\xff\xd8\xff\xe0", b"\x89PNG\r\n\x1a\n", b"GIF89a", b"RIFF\x00\x00\x00\x00WEBPVP8 "]
    ),
    body=st.binary(max_size=300),
)
def test_any_bytes_are_a_frame_or_one_media_error(prefix: bytes, body: bytes) -> None:
    """Whatever a file holds, loading it gives a frame or a MediaInputError: never another exception."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.img"
        path.write_bytes(prefix + body)
        try:
            frame = load_image(str(path))
        except MediaInputError as exc:
            assert str(exc).startswith(str(path))
        else:
            assert frame.data


def test_heif_opens_through_pillow_heif_where_it_is_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pillow-heif is not part of the media extra: where it is installed its opener is registered (once)."""
    registered: list[bool] = []
    plugin = types.ModuleType("pillow_heif")
    plugin.register_heif_opener = lambda: registered.append(True)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pillow_heif", plugin)
    images._register_heif.cache_clear()
    try:
        path = write_image(tmp_path / "a.png", (10, 10), "PNG")
        load_image(str(path))
        load_image(str(path))
    finally:
        images._register_heif.cache_clear()
    assert registered == [True]


def test_without_pillow_heif_nothing_is_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pillow_heif", None)
    images._register_heif.cache_clear()
    try:
        assert images._register_heif() is False
    finally:
        images._register_heif.cache_clear()


def test_avif_becomes_jpeg(tmp_path: Path) -> None:
    path = write_image(tmp_path / "pic.avif", (64, 48), "AVIF")
    frame = load_image(str(path))
    assert frame.source_type == "AVIF"
    assert decoded(frame) == ("JPEG", (64, 48))
