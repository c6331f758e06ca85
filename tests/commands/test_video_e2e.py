"""--video end to end against livecli's own server: frames and audio arrive interleaved in time order inside one
activity, the server's echo says what it saw and heard, bad input stops before connecting.

The server's --record frame log gives the order of the client's messages; its echo ("turn 1: saw 6 frames
(64x48), heard 3.01 s of audio") what it decoded. Videos are real files written by PyAV in the test. The pacing
itself is checked on a fake clock (`paced`), never on the wall clock.
"""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import dev_only, local_server, recorded_frames, run_cli

from livecli.audio.pacing import Pacer
from livecli.auth.target import ConnectOptions
from livecli.commands.request import RunRequest, build_setup
from livecli.commands.session_setup import SessionOptions
from livecli.commands.video_input import AV_SESSION_LIMIT_S, VideoProgress, paced, warn_video_length
from livecli.media.video import AudioPiece, FramePiece, TimelineItem, open_video
from tests.audio.test_pacing import FakeClock, drive
from tests.commands.send_helpers import events, make_env, run
from tests.media.video_files import make_video, ramp_video

dev_only("av")
dev_only("PIL")

SECRET = "AIzaSyVIDEO-E2E-SECRET-0123456789abcdef"


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("videos")
    broken = folder / "broken.mp4"
    clip = make_video(folder / "clip.mp4")
    broken.write_bytes(Path(clip).read_bytes()[:1500])
    return {
        "clip": clip,
        "mute": make_video(folder / "mute.webm", vcodec="libvpx", acodec=None),
        "broken": str(broken),
    }


def client_messages(record: Path) -> list[dict[str, Any]]:
    """The messages the client sent, in order, as the server logged them."""
    return [event for event in recorded_frames(record) if event["from"] == "client" and "message" in event]


def server_kinds(record: Path) -> list[str]:
    """The kinds of the messages the server sent, in order, as it logged them."""
    return [event["kind"] for event in recorded_frames(record) if event["from"] == "server"]


def send_video(record: Path, *args: str, expect: int | None = 0) -> Any:
    with local_server(record=str(record)) as server:
        return run_cli(
            "send",
            "--endpoint",
            server.endpoint(),
            "--api-key",
            SECRET,
            "--speed",
            "0",
            "--json",
            *args,
            expect=expect,
        )


def transcript(result: Any) -> str:
    return " ".join(event["output_transcript"] or "" for event in result.of_type("turn_complete"))


@pytest.fixture(scope="module")
def clip_run(videos: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, list[dict[str, Any]]]:
    """`send --video clip.mp4 --fps 2`: the result and the messages the server logged."""
    record = tmp_path_factory.mktemp("clip") / "record.jsonl"
    result = send_video(record, "--video", videos["clip"], "--fps", "2")
    return result, client_messages(record)


def test_the_server_saw_the_frames_and_heard_the_audio(clip_run: tuple[Any, list[dict[str, Any]]]) -> None:
    result, _ = clip_run
    assert re.search(r"turn 1: saw 6 frames \(64x48\), heard 3\.0\d s of audio", transcript(result))


def test_frames_and_audio_go_inside_one_activity(clip_run: tuple[Any, list[dict[str, Any]]]) -> None:
    _, messages = clip_run
    kinds = [message["kind"] for message in messages]
    assert kinds[:2] == ["setup.model", "realtimeInput.activityStart"]
    assert kinds[-1] == "realtimeInput.activityEnd"
    assert set(kinds[2:-1]) == {"realtimeInput.video", "realtimeInput.audio"}


def test_frames_interleave_with_the_audio_in_time_order(clip_run: tuple[Any, list[dict[str, Any]]]) -> None:
    """Frame k (at k × 0.5 s) follows the audio chunks of 40 ms due before it: about 12.5 × k of them."""
    _, messages = clip_run
    audio_before = []
    audio = 0
    for message in messages:
        if message["kind"] == "realtimeInput.audio":
            audio += 1
        elif message["kind"] == "realtimeInput.video":
            audio_before.append(audio)
    expected = [math.ceil(12.5 * k) for k in range(6)]
    assert len(audio_before) == len(expected)
    assert all(abs(got - want) <= 1 for got, want in zip(audio_before, expected, strict=True)), audio_before


def test_json_reports_the_frames_sent(clip_run: tuple[Any, list[dict[str, Any]]]) -> None:
    result, _ = clip_run
    reports = result.of_type("frames_sent")
    assert reports[-1]["total_frames"] == 6
    assert (reports[-1]["width"], reports[-1]["height"]) == (64, 48)
    assert reports[-1]["mime"] == "image/jpeg"


def test_the_key_appears_nowhere(clip_run: tuple[Any, list[dict[str, Any]]]) -> None:
    result, _ = clip_run
    assert SECRET not in result.stdout
    assert SECRET not in result.stderr


def test_a_video_without_audio_sends_its_frames_then_the_prompt(videos: dict[str, str], tmp_path: Path) -> None:
    record = tmp_path / "record.jsonl"
    result = send_video(record, "--video", videos["mute"], "--prompt", "what moves?")
    kinds = [message["kind"] for message in client_messages(record)]
    assert kinds == [
        "setup.model",
        "realtimeInput.activityStart",
        *["realtimeInput.video"] * 3,
        "realtimeInput.text",
        "realtimeInput.activityEnd",
    ]
    assert 'saw 3 frames (64x48), heard "what moves?"' in transcript(result)
    assert server_kinds(record).count("serverContent.turnComplete") == 1  # no extra "heard 0.00 s of audio" turn


def test_a_corrupt_video_is_exit_6_before_connecting(videos: dict[str, str], tmp_path: Path) -> None:
    record = tmp_path / "record.jsonl"
    result = send_video(record, "--video", videos["broken"], expect=6)
    assert result.stderr.count("\n") == 1
    assert "broken.mp4: not a readable video" in result.stderr
    assert client_messages(record) == []


def test_without_pyav_the_error_names_the_pip_command(
    videos: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "av", None)
    result = send_video(tmp_path / "record.jsonl", "--video", videos["clip"], expect=2)
    assert "pip install 'livecli[media]'" in result.stderr


@pytest.mark.parametrize("fps", ["0", "5.5"])
def test_fps_out_of_range_is_a_usage_error(videos: dict[str, str], fps: str) -> None:
    result = run_cli("send", "--video", videos["clip"], "--fps", fps, "--local", expect=2)
    assert "--fps must be above 0 and at most 5" in result.stderr


def test_file_is_still_required_without_video() -> None:
    result = run_cli("send", "--local", expect=2)
    assert "Missing argument 'FILE...'" in result.stderr


def test_files_and_video_together_are_a_usage_error(videos: dict[str, str]) -> None:
    result = run_cli("send", "x.wav", "--video", videos["clip"], "--local", expect=2)
    assert "not both" in result.stderr


def test_prompt_without_video_is_a_usage_error() -> None:
    result = run_cli("send", "x.wav", "--prompt", "hi", "--local", expect=2)
    assert "--prompt goes with --video" in result.stderr


def test_a_mute_video_under_server_vad_needs_a_prompt(videos: dict[str, str]) -> None:
    result = run_cli("send", "--video", videos["mute"], "--turn-end", "vad", "--local", expect=2)
    assert "no audio track" in result.stderr


def test_dry_run_shows_the_videos_audio_plan(videos: dict[str, str]) -> None:
    result = run_cli("send", "--video", videos["clip"], "--dry-run", "--api-key", SECRET)
    assert "clip.mp4: 75 chunks" in result.stdout
    assert SECRET not in result.stdout


# --- the two-minute audio+video session limit ------------------------------------------------------------------


@pytest.fixture(scope="module")
def long_video(tmp_path_factory: pytest.TempPathFactory) -> str:
    seconds = AV_SESSION_LIMIT_S + 1
    return make_video(tmp_path_factory.mktemp("long") / "long.mkv", seconds=seconds, fps=1, acodec=None)


def _warnings(path: str, **session: Any) -> list[str]:
    """What `send --video path` warns about before connecting, with these session options."""
    req = RunRequest(connect=ConnectOptions(), video=path, session=SessionOptions(**session))
    warned: list[str] = []
    warn_video_length(open_video(path), build_setup(req, "models/gemini-3.8-live"), warned.append)
    return warned


def test_a_video_longer_than_two_minutes_is_warned_about_without_compression(long_video: str) -> None:
    (warning,) = _warnings(long_video)
    assert "after 2 minutes without context compression" in warning


def test_with_context_compression_there_is_no_warning(long_video: str) -> None:
    assert _warnings(long_video, context_compression=True) == []


def test_compression_from_a_setup_file_counts_too(long_video: str, tmp_path: Path) -> None:
    setup_file = tmp_path / "setup.json"
    setup_file.write_text('{"contextWindowCompression": {"slidingWindow": {}}}')
    assert _warnings(long_video, setup_file=str(setup_file)) == []


def test_a_short_video_is_not_warned_about(videos: dict[str, str]) -> None:
    assert _warnings(videos["clip"]) == []


# --- pacing, on a fake clock -----------------------------------------------------------------------------------


def _timeline() -> list[TimelineItem]:
    """2 s of a video: frames at 1 fps, 40 ms audio chunks, in time order (frames first on a tie)."""
    frames: list[TimelineItem] = [FramePiece(float(t), b"jpeg", "image/jpeg", 64, 48) for t in (0, 1)]
    audio: list[TimelineItem] = [AudioPiece(i * 0.04, b"\0" * 1280) for i in range(50)]
    return sorted(frames + audio, key=lambda item: (item.t_s, isinstance(item, AudioPiece)))


def _schedule(speed: float, jitter: list[float] | None = None) -> list[tuple[float, list[TimelineItem]]]:
    """When each write left on the fake clock (seconds after the first), with its items."""
    clock = FakeClock(jitter)
    pacer = Pacer(0.04, speed, clock=clock, sleep=clock.sleep)
    marks: list[float] = []

    async def run() -> list[tuple[float, list[TimelineItem]]]:
        writes = []
        async for batch in paced(VideoProgress(iter(_timeline())), pacer, lambda: marks.append(clock.now)):
            writes.append((clock.now - 100.0, batch))
        return writes

    return drive(run())


def test_no_item_leaves_before_it_is_due_and_none_drifts() -> None:
    jitter = [0.003, 0.0, 0.012, 0.001] * 20  # late wake-ups must not accumulate
    for left, batch in _schedule(1.0, jitter):
        due = max(item.t_s for item in batch)
        assert left >= due - 1e-9  # (float subtraction from the fake clock's start)
        assert left - due < 0.0131


def test_frames_and_audio_share_the_clock() -> None:
    writes = _schedule(1.0)
    frame_times = [left for left, batch in writes for item in batch if isinstance(item, FramePiece)]
    assert frame_times == pytest.approx([0.0, 1.0], abs=0.002)


def test_speed_scales_every_deadline() -> None:
    writes = _schedule(2.0)
    last_left, last_batch = writes[-1]
    assert last_batch[-1].t_s == pytest.approx(1.96)
    assert last_left == pytest.approx(0.98, abs=0.002)


def test_unpaced_items_leave_in_batches_without_sleeping() -> None:
    writes = _schedule(0.0)
    assert [len(batch) for _, batch in writes] == [25, 25, 2]
    assert {left for left, _ in writes} == {0.0}


def test_the_end_of_audio_is_marked_before_the_first_appended_chunk() -> None:
    clock = FakeClock()
    pacer = Pacer(0.04, 1.0, clock=clock, sleep=clock.sleep)
    items = [AudioPiece(0.0, b"a"), AudioPiece(0.04, b"b"), AudioPiece(0.08, b"", appended=True)]
    marks: list[int] = []
    sent: list[int] = []

    async def run() -> None:
        async for batch in paced(VideoProgress(iter(items)), pacer, lambda: marks.append(len(sent))):
            sent.extend(range(len(batch)))

    drive(run())
    assert marks == [2]  # after the two chunks of the file's audio, before the silence


def test_an_item_waiting_when_the_connection_closes_is_sent_by_the_next_attempt() -> None:
    """What a transparent resumption continues from: nothing taken from the timeline is lost or sent twice, and
    the next attempt's clock starts at the held item (it is not made to wait its whole time again)."""
    progress = VideoProgress(iter([AudioPiece(i * 0.04, bytes([i])) for i in range(6)]))
    clock = FakeClock()
    sent: list[int] = []

    async def closing_sleep(seconds: float) -> None:
        if len(clock.sleeps) == 2:  # the third wait: the wait for item 3
            raise ConnectionError("closed while waiting")
        await clock.sleep(seconds)

    async def attempt(sleep: Any) -> None:
        pacer = Pacer(0.04, 1.0, clock=clock, sleep=sleep, spin_s=0)
        async for batch in paced(progress, pacer, lambda: None):
            sent.extend(item.pcm[0] for item in batch if isinstance(item, AudioPiece))

    with pytest.raises(ConnectionError):
        drive(attempt(closing_sleep))
    assert sent == [0, 1, 2]
    resumed_at = clock.now
    drive(attempt(clock.sleep))
    assert sent == [0, 1, 2, 3, 4, 5]
    assert clock.now - resumed_at == pytest.approx(0.08, abs=1e-3)  # items 4 and 5; item 3 at once


# --- across reconnects ------------------------------------------------------------------------------------------


def test_a_video_through_two_go_aways_on_vertex_arrives_once_and_in_order(tmp_path: Path) -> None:
    """Transparent resumption (Vertex): connections that each take 5 s of audio; the server receives every sample
    of the track exactly once, in order, sees each frame once, and answers once."""
    samples = ramp_video(tmp_path / "ramp.mkv", 12)
    with local_server(max_connection_audio_s=5, keep_received_audio=True) as server:
        env, stdout, stderr = make_env()
        connect = ConnectOptions(endpoint=server.url, vertex=True, api_key=SECRET)
        req = RunRequest(
            connect=connect, json=True, video=str(tmp_path / "ramp.mkv"), speed=0, chunk_ms=100, max_reconnects=5
        )
        assert run(req, env) == 0
        received = server.thread.running.received_audio()
    assert len(events(stdout, "resumed")) >= 2
    assert events(stdout, "warning") == []  # no fallback to sending it again from its start
    [pcm] = received.values()
    assert np.array_equal(np.frombuffer(pcm, dtype=np.int16), samples)
    (turn,) = events(stdout, "turn_complete")
    assert turn["output_transcript"] == "turn 1: saw 12 frames (64x48), heard 12.00 s of audio"
    assert SECRET not in stdout.getvalue().decode()
    assert SECRET not in stderr.getvalue()


def test_images_go_first_in_the_videos_turn(videos: dict[str, str], tmp_path: Path) -> None:
    """`--video clip.mp4 --image small.jpg`: the image follows activityStart, before the video's first frame."""
    from PIL import Image

    image = tmp_path / "small.jpg"
    Image.new("RGB", (32, 24), (200, 30, 30)).save(image, "JPEG")
    record = tmp_path / "record.jsonl"
    result = send_video(record, "--video", videos["clip"], "--fps", "2", "--image", str(image))
    messages = client_messages(record)
    assert [message["kind"] for message in messages[:3]] == [
        "setup.model",
        "realtimeInput.activityStart",
        "realtimeInput.video",
    ]
    first = messages[2]["message"]["realtimeInput"]["video"]["data"]
    assert (record / first["sidecar"]).read_bytes() == image.read_bytes()
    assert "turn 1: saw 7 frames (32x24, 64x48" in transcript(result)


def test_a_prompt_with_a_video_is_one_turn_of_frames_audio_and_text(
    videos: dict[str, str], tmp_path: Path
) -> None:
    """The prompt is sent inside the video's activity: the server answers it with the frames and audio, once."""
    record = tmp_path / "record"
    result = send_video(record, "--video", videos["clip"], "--fps", "2", "--prompt", "and this?")
    assert len(result.of_type("turn_complete")) == 1
    assert server_kinds(record).count("serverContent.turnComplete") == 1
    assert re.search(
        r'turn 1: saw 6 frames \(64x48\), heard 3\.0\d s of audio and "and this\?"', transcript(result)
    )
