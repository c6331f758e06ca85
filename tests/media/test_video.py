"""--video: frames sampled at --fps, the audio track as 16 kHz chunks, one timeline in time order, bounded."""

from __future__ import annotations

import itertools
import math
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from helpers import dev_only

from livecli.errors import MediaInputError, MissingExtra, UsageError
from livecli.media.video import AudioPiece, FramePiece, check_fps, open_video
from livecli.protocol.wire import INPUT_BYTES_PER_S, INPUT_RATE
from tests.media.video_files import TONE_HZ, make_video

dev_only("av")
dev_only("PIL")


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> str:
    """3 s of 64x48 at 10 fps, MPEG-4 with a 48 kHz stereo AAC tone, in MP4."""
    return make_video(tmp_path_factory.mktemp("video") / "clip.mp4")


def frames_of(path: str, fps: float) -> list[FramePiece]:
    return [item for item in open_video(path).timeline(fps, 40) if isinstance(item, FramePiece)]


def audio_of(path: str, chunk_ms: int = 40) -> list[AudioPiece]:
    return [item for item in open_video(path).timeline(1, chunk_ms) if isinstance(item, AudioPiece)]


@pytest.mark.parametrize(("fps", "count"), [(1, 3), (2, 6), (5, 15), (0.5, 2)])
def test_frames_are_sampled_at_the_fps(clip: str, fps: float, count: int) -> None:
    assert len(frames_of(clip, fps)) == count


def test_frames_are_due_on_the_fps_ticks(clip: str) -> None:
    assert [round(frame.t_s, 3) for frame in frames_of(clip, 2)] == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5]


def test_each_sampled_frame_is_the_one_shown_at_its_tick(clip: str) -> None:
    pil = dev_only("PIL.Image")
    import io

    greys = [pil.open(io.BytesIO(frame.data)).convert("L").getpixel((32, 24)) for frame in frames_of(clip, 1)]
    assert greys == pytest.approx([0, 80, 160], abs=6)  # frames 0, 10, 20 (grey 8·i)


def test_frames_are_jpeg_at_the_video_size(clip: str) -> None:
    frame = frames_of(clip, 1)[0]
    assert frame.data.startswith(b"\xff\xd8\xff")
    assert frame.mime == "image/jpeg"
    assert (frame.width, frame.height) == (64, 48)


def test_frames_larger_than_the_target_are_scaled_down_keeping_the_aspect(tmp_path: Path) -> None:
    path = make_video(tmp_path / "wide.mp4", seconds=1, fps=2, size=(320, 180), acodec=None)
    frames = [item for item in open_video(path).timeline(1, 40, long_side=160) if isinstance(item, FramePiece)]
    assert (frames[0].width, frames[0].height) == (160, 90)


def test_the_timeline_is_in_time_order_with_frames_before_audio_due_with_them(clip: str) -> None:
    items = list(open_video(clip).timeline(2, 40))
    times = [item.t_s for item in items]
    assert times == sorted(times)
    at_one_second = [type(item).__name__ for item in items if math.isclose(item.t_s, 1.0, abs_tol=1e-6)]
    assert at_one_second == ["FramePiece", "AudioPiece"]


def test_frames_and_audio_interleave(clip: str) -> None:
    kinds = [isinstance(item, FramePiece) for item in open_video(clip).timeline(1, 40)]
    frame_positions = [i for i, is_frame in enumerate(kinds) if is_frame]
    assert frame_positions[0] == 0
    assert 20 < frame_positions[1] < 30  # 1 s in: after ~25 audio chunks of 40 ms
    assert 45 < frame_positions[2] < 55


@pytest.mark.parametrize("rate", [16000, 48000])
def test_the_audio_track_becomes_16k_mono_chunks_as_long_as_the_video(tmp_path: Path, rate: int) -> None:
    path = make_video(tmp_path / f"tone{rate}.mkv", acodec="pcm_s16le", rate=rate)
    pieces = audio_of(path)
    assert sum(len(p.pcm) for p in pieces) / INPUT_BYTES_PER_S == pytest.approx(3.0, abs=0.01)
    assert {len(p.pcm) for p in pieces[:-1]} == {1280}
    assert [round(p.t_s, 3) for p in pieces[:3]] == [0.0, 0.04, 0.08]


def test_the_audio_is_the_files_tone(clip: str) -> None:
    pcm = b"".join(p.pcm for p in audio_of(clip))
    samples = np.frombuffer(pcm, "<i2").astype(np.float64)
    spectrum = np.abs(np.fft.rfft(samples))
    peak_hz = np.argmax(spectrum) * INPUT_RATE / len(samples)
    assert peak_hz == pytest.approx(TONE_HZ, abs=2)


def test_webm_vp8_with_opus_decodes(tmp_path: Path) -> None:
    path = make_video(tmp_path / "clip.webm", vcodec="libvpx", acodec="libopus")
    video = open_video(path)
    assert video.has_audio
    assert len(frames_of(path, 1)) == 3
    assert sum(len(p.pcm) for p in audio_of(path)) / INPUT_BYTES_PER_S == pytest.approx(3.0, abs=0.05)


def test_h264_in_mov_decodes(tmp_path: Path) -> None:
    path = make_video(tmp_path / "clip.mov", vcodec="libx264", acodec="aac")
    assert len(frames_of(path, 1)) == 3


def test_a_video_without_audio_has_frames_only(tmp_path: Path) -> None:
    path = make_video(tmp_path / "silent.mp4", acodec=None)
    video = open_video(path)
    items = list(video.timeline(1, 40))
    assert not video.has_audio
    assert video.audio_bytes == 0
    assert all(isinstance(item, FramePiece) for item in items)
    assert len(items) == 3


def test_appended_silence_follows_the_audio_and_is_marked(clip: str) -> None:
    tail = [b"\0" * 1280] * 5
    items = [item for item in open_video(clip).timeline(1, 40, tail=tail) if isinstance(item, AudioPiece)]
    assert [item.appended for item in items[-6:]] == [False, True, True, True, True, True]
    assert items[-1].t_s == pytest.approx(items[-5].t_s + 0.16)


def test_the_probe_reports_size_duration_and_audio(clip: str) -> None:
    video = open_video(clip)
    assert (video.width, video.height) == (64, 48)
    assert video.duration_s == pytest.approx(3.0, abs=0.05)
    assert (video.audio_rate, video.audio_channels) == (48000, 2)


def test_a_corrupt_file_is_one_media_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 20)
    with pytest.raises(MediaInputError, match=r"^.*bad\.mp4: not a readable video \("):
        open_video(str(bad))


def test_a_truncated_mp4_is_found_before_sending(clip: str, tmp_path: Path) -> None:
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(Path(clip).read_bytes()[:2000])
    with pytest.raises(MediaInputError, match=r"cut\.mp4"):
        open_video(str(cut))


def test_an_audio_file_is_not_a_video() -> None:
    from helpers import SAMPLES

    with pytest.raises(MediaInputError, match="no video stream"):
        open_video(str(SAMPLES / "hello_16k.wav"))


def test_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(MediaInputError, match="no such file"):
        open_video(str(tmp_path / "absent.mp4"))


def test_a_directory_is_not_a_video(tmp_path: Path) -> None:
    with pytest.raises(MediaInputError, match="is a directory"):
        open_video(str(tmp_path))


@pytest.mark.parametrize("fps", [0, -1, 5.5, float("nan")])
def test_fps_outside_0_to_5_is_a_usage_error(fps: float) -> None:
    with pytest.raises(UsageError, match="--fps"):
        check_fps(fps)


def test_fps_5_is_taken() -> None:
    assert check_fps(5) == 5


def test_without_pyav_the_error_names_the_pip_command(monkeypatch: pytest.MonkeyPatch, clip: str) -> None:
    monkeypatch.setitem(sys.modules, "av", None)
    with pytest.raises(MissingExtra, match=r"--video needs .*pip install 'livecli\[media\]'"):
        open_video(clip)


def test_memory_stays_bounded_for_a_long_video(tmp_path: Path) -> None:
    """40 s of 48 kHz stereo decodes to 15 MB of float samples; the timeline holds a block at a time."""
    seconds = 40
    path = make_video(tmp_path / "long.mkv", seconds=seconds, fps=1, acodec="pcm_s16le")
    decoded_bytes = seconds * 48000 * 2 * 4
    items = open_video(path).timeline(1, 200)
    warm = sum(1 for _ in itertools.islice(items, 10))  # one-off costs: Pillow's JPEG plugin, the resampler plan
    tracemalloc.start()
    try:
        count = warm + sum(1 for _ in items)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == seconds + seconds * 5
    assert peak < decoded_bytes / 10
