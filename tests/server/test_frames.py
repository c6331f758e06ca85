"""Video frames on the local server: checked (JPEG/PNG that decode, else 1007), counted into the turn they belong
to, and named by the echo's transcript ("turn 2: saw 3 frames (640x480), heard 2.40 s of audio")."""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from helpers import TEST_MIN, LocalServer, dev_only
from session_harness import MODEL, NO_VAD, Harness
from test_frames_headers import write_png

from livecli.protocol import close_reasons as cr
from livecli.server import frames
from livecli.server.probe import Probe, speechlike
from livecli.server.session import Close

SECOND = bytes(32000)  # one second of 16 kHz s16le silence
MODEL_25 = "models/gemini-2.5-flash-native-audio-preview-12-2025"
needs_pillow = pytest.mark.skipif(TEST_MIN, reason="JPEG frames are written with Pillow (the media extra)")


def video(data: bytes, mime: str = "image/png") -> dict[str, Any]:
    return {"realtimeInput": {"video": {"data": base64.b64encode(data).decode(), "mimeType": mime}}}


def jpeg(width: int, height: int) -> bytes:
    out = io.BytesIO()
    dev_only("PIL.Image").new("RGB", (width, height), (200, 30, 90)).save(out, "JPEG", quality=80)
    return out.getvalue()


def manual(model: str = MODEL, coverage: str | None = None) -> Harness:
    realtime: dict[str, Any] = {"automaticActivityDetection": {"disabled": True}}
    if coverage:
        realtime["turnCoverage"] = coverage
    h = Harness(reply_speed=0)
    h.send({"setup": {"model": model, "realtimeInputConfig": realtime}})
    return h


def bracketed_turn(h: Harness, *messages: dict[str, Any], audio: bytes = b"") -> None:
    h.send({"realtimeInput": {"activityStart": {}}})
    for message in messages:
        h.send(message)
    if audio:
        h.audio(audio)
    h.send({"realtimeInput": {"activityEnd": {}}})


def close_of(h: Harness) -> Close:
    (close,) = h.messages("Close")
    assert isinstance(close, Close)
    return close


def test_the_transcript_says_how_many_frames_of_which_size_and_in_which_turn() -> None:
    h = manual()
    bracketed_turn(h, audio=SECOND)
    frame = video(write_png(640, 480))
    bracketed_turn(h, frame, frame, frame, audio=SECOND * 2 + bytes(12800))
    assert h.transcripts() == [
        "turn 1: heard 1.00 s of audio",
        "turn 2: saw 3 frames (640x480), heard 2.40 s of audio",
    ]


def test_frames_of_different_sizes_and_a_single_frame() -> None:
    h = manual()
    bracketed_turn(h, video(write_png(4, 3)), video(write_png(8, 6)), video(write_png(4, 3)))
    bracketed_turn(h, video(write_png(2, 2)))
    assert h.transcripts() == [
        "turn 1: saw 3 frames (4x3, 8x6), heard 0.00 s of audio",
        "turn 2: saw 1 frame (2x2), heard 0.00 s of audio",
    ]


def test_a_frame_before_activity_start_is_dropped_under_only_activity() -> None:
    h = manual(coverage="TURN_INCLUDES_ONLY_ACTIVITY")
    h.send(video(write_png(9, 9)))
    bracketed_turn(h, video(write_png(4, 3)), audio=SECOND)
    assert h.transcripts() == ["turn 1: saw 1 frame (4x3), heard 1.00 s of audio"]


def test_only_activity_is_the_default_on_2_5_models_and_all_video_on_3_8() -> None:
    on_25 = manual(MODEL_25)
    on_25.send(video(write_png(9, 9)))
    bracketed_turn(on_25, audio=SECOND)
    on_38 = manual(MODEL)
    on_38.send(video(write_png(9, 9)))
    bracketed_turn(on_38, audio=SECOND)
    assert on_25.transcripts() == ["turn 1: heard 1.00 s of audio"]
    assert on_38.transcripts() == ["turn 1: saw 1 frame (9x9), heard 1.00 s of audio"]


def test_all_input_coverage_counts_frames_before_a_text_turn() -> None:
    h = manual(MODEL_25, coverage="TURN_INCLUDES_ALL_INPUT")
    h.send(video(write_png(5, 5)))
    h.send({"realtimeInput": {"text": "what is this"}})
    assert h.transcripts() == ['turn 1: saw 1 frame (5x5), heard "what is this"']


def test_under_vad_only_frames_during_speech_count_with_only_activity() -> None:
    h = Harness(reply_speed=0)
    vad = {"automaticActivityDetection": {"silenceDurationMs": 200}, "turnCoverage": "TURN_INCLUDES_ONLY_ACTIVITY"}
    h.send({"setup": {"model": MODEL, "realtimeInputConfig": vad}})
    h.send(video(write_png(7, 7)))  # silence so far: dropped
    speech = speechlike(0.6)
    h.stream(speech[: len(speech) // 2])
    h.send(video(write_png(3, 2)))  # while speaking: counted
    h.stream(speech[len(speech) // 2 :] + SECOND)
    (transcript,) = h.transcripts()
    assert transcript.startswith("turn 1: saw 1 frame (3x2), heard ")


def test_client_content_images_are_counted_in_their_turn() -> None:
    h = Harness(reply_speed=0)
    h.send({"setup": {"model": MODEL, **NO_VAD}})
    image = {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(write_png(6, 4)).decode()}}
    turn = {"role": "user", "parts": [image, {"text": "describe it"}]}
    h.send({"clientContent": {"turns": [turn], "turnComplete": True}})
    assert h.transcripts() == ['turn 1: saw 1 frame (6x4), heard "describe it"']


def test_image_media_chunks_are_frames() -> None:
    h = manual()
    chunk = {"mimeType": "image/png", "data": base64.b64encode(write_png(3, 3)).decode()}
    bracketed_turn(h, {"realtimeInput": {"mediaChunks": [chunk]}})
    assert h.transcripts() == ["turn 1: saw 1 frame (3x3), heard 0.00 s of audio"]


@pytest.mark.parametrize(
    ("message", "why"),
    [
        (video(b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"), "image/webp is not supported"),
        (video(write_png(4, 4), "video/mp4"), "video/mp4 is not supported"),
        (video(write_png(4, 4), ""), "no MIME type is not supported"),
        (video(write_png(4, 4), "image/jpeg"), "the data is PNG"),
        (video(write_png(4, 4)[:-12]), "PNG ends before IEND"),
        (video(b"not an image at all"), "neither JPEG nor PNG"),
    ],
)
def test_a_frame_that_is_not_a_jpeg_or_png_that_decodes_closes_1007(message: dict[str, Any], why: str) -> None:
    h = manual()
    h.send({"realtimeInput": {"activityStart": {}}})
    h.send(message)
    close = close_of(h)
    assert close.code == 1007
    assert cr.identify(close.reason) is cr.BAD_IMAGE
    assert close.reason.startswith("Invalid image at 'realtime_input.video' (")
    assert why in close.reason


def test_a_bad_client_content_image_names_its_part() -> None:
    h = Harness(reply_speed=0)
    h.send({"setup": {"model": MODEL, **NO_VAD}})
    image = {"inlineData": {"mimeType": "image/gif", "data": base64.b64encode(b"GIF89a").decode()}}
    h.send({"clientContent": {"turns": [{"parts": [{"text": "x"}, image]}], "turnComplete": True}})
    reason = close_of(h).reason
    assert reason.startswith("Invalid image at 'client_content.turns[0].parts[1].inline_data' (image/gif)")


def _bad_huffman_table(image: bytes) -> bytes:
    """A JPEG whose structure is intact but whose first Huffman table names a class and slot that do not exist."""
    at = image.index(b"\xff\xc4") + 4
    return image[:at] + b"\x3f" + image[at + 1 :]


@needs_pillow
def test_a_jpeg_with_corrupt_data_is_refused_when_pillow_decodes_it() -> None:
    h = manual()
    h.send({"realtimeInput": {"activityStart": {}}})
    h.send(video(_bad_huffman_table(jpeg(64, 48)), "image/jpeg"))
    reason = close_of(h).reason
    assert "does not decode" in reason


@needs_pillow
def test_without_pillow_the_structure_is_checked_and_corrupt_data_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The documented difference: without the media extra only the structure and size are checked."""
    monkeypatch.setattr(frames, "_pillow", lambda: None)
    h = manual()
    bracketed_turn(h, video(_bad_huffman_table(jpeg(64, 48)), "image/jpeg"))
    assert h.transcripts() == ["turn 1: saw 1 frame (64x48), heard 0.00 s of audio"]


@needs_pillow
async def test_jpeg_frames_over_a_websocket_reach_the_transcript(live_server: LocalServer) -> None:
    probe = await Probe.open(live_server.url)
    await probe.setup(**NO_VAD)
    frame = base64.b64encode(jpeg(640, 480)).decode()
    await probe.send({"realtimeInput": {"activityStart": {}}})
    for _ in range(3):
        await probe.send({"realtimeInput": {"video": {"data": frame, "mimeType": "image/jpeg"}}})
    await probe.send({"realtimeInput": {"activityEnd": {}}})
    turn = await probe.turn()
    assert turn.output_transcripts == ["turn 1: saw 3 frames (640x480), heard 0.00 s of audio"]
    await probe.send({"realtimeInput": {"video": {"data": frame, "mimeType": "image/png"}}})
    code, reason = await probe.closed()
    assert code == 1007
    assert reason is not None
    assert cr.identify(reason) is cr.BAD_IMAGE
