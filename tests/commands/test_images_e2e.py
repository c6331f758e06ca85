"""--image end to end against livecli's own server: what arrived, in which order, and what the server saw.

The server's --record frame log gives the order of the client's frames; its echo says what it decoded
("turn 1: saw 3 frames (640x480, ...)"). Images are real files written by Pillow in the test.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import SAMPLES, dev_only, local_server, recorded_frames, run_cli

Image = dev_only("PIL.Image")

HELLO_WAV = str(SAMPLES / "hello_16k.wav")
SECRET = "AIzaSyIMAGE-E2E-SECRET-0123456789abcdef"


@pytest.fixture(scope="module")
def pictures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One image of each kind: a JPEG that fits, a PNG larger than the target, a WebP, a truncated JPEG."""
    folder = tmp_path_factory.mktemp("pictures")
    paths = {name: folder / name for name in ("small.jpg", "large.png", "pic.webp", "broken.jpg")}
    Image.new("RGB", (640, 480), (20, 180, 40)).save(paths["small.jpg"], "JPEG")
    Image.linear_gradient("L").resize((3000, 1500)).convert("RGB").save(paths["large.png"], "PNG")
    Image.new("RGB", (320, 240), (10, 20, 230)).save(paths["pic.webp"], "WEBP")
    paths["broken.jpg"].write_bytes(paths["small.jpg"].read_bytes()[:400])
    return paths


@pytest.fixture
def recorded(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A local server of the test's own with a frame log: its endpoint and the log's path."""
    record = tmp_path / "record.jsonl"
    with local_server(record=str(record)) as server:
        yield server.endpoint(), record


def client_frames(record: Path) -> list[dict[str, Any]]:
    """The frames the client sent, in order, as the server logged them."""
    return [event for event in recorded_frames(record) if event["from"] == "client" and "message" in event]


def kinds(frames: list[dict[str, Any]]) -> list[str]:
    """The frames' kinds with runs of audio folded into one."""
    folded: list[str] = []
    for frame in frames:
        if not (folded and frame["kind"] == folded[-1] == "realtimeInput.audio"):
            folded.append(frame["kind"])
    return folded


def transcript(result: Any) -> str:
    return " ".join(event["output_transcript"] or "" for event in result.of_type("turn_complete"))


@pytest.fixture(scope="module")
def three_kinds(pictures: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, list[Any]]:
    """One `send` with a JPEG that fits, a large PNG and a WebP (in that order): its result and the frames the
    server logged."""
    record = tmp_path_factory.mktemp("three") / "record.jsonl"
    images = [pictures["small.jpg"], pictures["large.png"], pictures["pic.webp"]]
    flags = [arg for path in images for arg in ("--image", str(path))]
    with local_server(record=str(record)) as server:
        result = run_cli("send", HELLO_WAV, "--endpoint", server.endpoint(), "--speed", "0", "--json", *flags)
    return result, client_frames(record)


def test_send_puts_the_images_after_activity_start_and_before_the_audio(
    three_kinds: tuple[Any, list[Any]],
) -> None:
    _result, frames = three_kinds
    assert kinds(frames) == [
        "setup.model",
        "realtimeInput.activityStart",
        "realtimeInput.video",
        "realtimeInput.video",
        "realtimeInput.video",
        "realtimeInput.audio",
        "realtimeInput.activityEnd",
    ]


def test_the_server_saw_each_kind_in_the_first_turn(three_kinds: tuple[Any, list[Any]]) -> None:
    result, _frames = three_kinds
    assert "turn 1: saw 3 frames (640x480, 1024x512, 320x240)" in transcript(result)


def test_a_jpeg_that_fits_goes_byte_for_byte_and_the_others_as_jpeg(
    three_kinds: tuple[Any, list[Any]], pictures: dict[str, Path]
) -> None:
    result, frames = three_kinds
    sent = result.of_type("frames_sent")
    assert sent[0]["bytes"] == pictures["small.jpg"].stat().st_size
    assert [(event["width"], event["height"]) for event in sent] == [(640, 480), (1024, 512), (320, 240)]
    assert [event["total_frames"] for event in sent] == [1, 2, 3]
    videos = [
        frame["message"]["realtimeInput"]["video"] for frame in frames if frame["kind"] == "realtimeInput.video"
    ]
    assert [video["mimeType"] for video in videos] == ["image/jpeg"] * 3


def test_media_resolution_reaches_the_setup_and_sizes_the_image(
    pictures: dict[str, Path], recorded: tuple[str, Path]
) -> None:
    endpoint, record = recorded
    args = ("--image", str(pictures["large.png"]), "--media-resolution", "low")
    result = run_cli("send", HELLO_WAV, "--endpoint", endpoint, "--speed", "0", "--json", *args)
    setup = client_frames(record)[0]["message"]["setup"]
    assert setup["generationConfig"]["mediaResolution"] == "MEDIA_RESOLUTION_LOW"
    assert "saw 1 frame (512x256)" in transcript(result)


def test_under_server_vad_the_images_still_precede_the_audio(
    pictures: dict[str, Path], recorded: tuple[str, Path]
) -> None:
    endpoint, record = recorded
    args = ("--turn-end", "vad", "--settle-ms", "100", "--image", str(pictures["pic.webp"]))
    run_cli("send", HELLO_WAV, "--endpoint", endpoint, "--speed", "0", "--json", *args)
    assert kinds(client_frames(record))[:4] == [
        "setup.model",
        "realtimeInput.video",
        "realtimeInput.audio",
        "realtimeInput.audioStreamEnd",
    ]


def test_only_the_first_input_carries_the_images(pictures: dict[str, Path], recorded: tuple[str, Path]) -> None:
    endpoint, record = recorded
    args = ("--image", str(pictures["pic.webp"]))
    run_cli("send", HELLO_WAV, HELLO_WAV, "--endpoint", endpoint, "--speed", "0", "--json", *args)
    assert kinds(client_frames(record)).count("realtimeInput.video") == 1


def test_text_client_content_sends_the_images_as_inline_data_parts(
    pictures: dict[str, Path], recorded: tuple[str, Path]
) -> None:
    endpoint, record = recorded
    args = ("--client-content", "--image", str(pictures["small.jpg"]), "--image", str(pictures["pic.webp"]))
    result = run_cli("text", "what is in the picture", "--endpoint", endpoint, "--json", *args)
    (content,) = [frame for frame in client_frames(record) if frame["kind"] == "clientContent.turns"]
    parts = content["message"]["clientContent"]["turns"][0]["parts"]
    assert [part["inlineData"]["mimeType"] for part in parts[:2]] == ["image/jpeg", "image/jpeg"]
    assert parts[2] == {"text": "what is in the picture"}
    assert "saw 2 frames" in transcript(result)


def test_text_over_realtime_input_sends_the_frames_before_the_text(
    pictures: dict[str, Path], recorded: tuple[str, Path]
) -> None:
    endpoint, record = recorded
    run_cli("text", "describe it", "--endpoint", endpoint, "--json", "--image", str(pictures["large.png"]))
    assert kinds(client_frames(record))[1:] == ["realtimeInput.video", "realtimeInput.text"]


@pytest.mark.parametrize("command", ["send", "text"])
def test_a_corrupt_image_is_exit_6_in_one_line_before_connecting(
    pictures: dict[str, Path], recorded: tuple[str, Path], command: str
) -> None:
    endpoint, record = recorded
    broken = str(pictures["broken.jpg"])
    what = HELLO_WAV if command == "send" else "hello"
    result = run_cli(command, what, "--endpoint", endpoint, "--image", broken, expect=6)
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"livecli: error: {broken}: corrupt or truncated image (")
    assert client_frames(record) == []


def test_the_display_shows_each_frame_next_to_the_audio(
    pictures: dict[str, Path], recorded: tuple[str, Path]
) -> None:
    endpoint, _record = recorded
    result = run_cli(
        "send", HELLO_WAV, "--endpoint", endpoint, "--speed", "0", "--image", str(pictures["pic.webp"])
    )
    assert f"  sent {pictures['pic.webp']}: 1 frame, 320x240 JPEG, " in result.stderr
    assert "chunks, with 1 frame (" in result.stderr


def test_dry_run_lists_the_images_and_connects_nowhere(pictures: dict[str, Path]) -> None:
    args = ("--image", str(pictures["small.jpg"]), "--image", str(pictures["large.png"]))
    result = run_cli("send", HELLO_WAV, "--local", "--dry-run", "--json", *args)
    (report,) = result.json_lines
    assert [(image["type"], image["transcoded"]) for image in report["images"]] == [("JPEG", False), ("PNG", True)]
    assert report["images"][1]["width"] == 1024


def test_without_pillow_it_is_exit_2_naming_the_pip_command(
    pictures: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "PIL.Image", None)  # what `import PIL.Image` meets without Pillow
    result = run_cli("text", "hi", "--local", "--image", str(pictures["small.jpg"]), expect=2)
    assert "--image needs the optional media extra" in result.stderr
    assert "pip install 'livecli[media]'" in result.stderr


def test_the_key_appears_nowhere_when_images_are_sent(
    pictures: dict[str, Path], recorded: tuple[str, Path]
) -> None:
    endpoint, _record = recorded
    args = ("--api-key", SECRET, "--image", str(pictures["pic.webp"]), "-v")
    shown = run_cli("send", HELLO_WAV, "--endpoint", endpoint, "--speed", "0", *args)
    events = run_cli("send", HELLO_WAV, "--endpoint", endpoint, "--speed", "0", "--json", *args)
    dry = run_cli("send", HELLO_WAV, "--endpoint", endpoint, "--dry-run", *args)
    for result in (shown, events, dry):
        assert SECRET not in result.stdout + result.stderr
