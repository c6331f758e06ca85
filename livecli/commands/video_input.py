"""`send --video FILE`: one turn of a video's frames and audio, interleaved in presentation-time order and paced on
one absolute-deadline clock; the checks a video gets before connecting.

The turn is built like an audio input's (commands/input_loop `_send_audio`): `begin_input` (activityStart under
`--turn-end activity`), then the timeline of livecli.media.video (frames as `realtimeInput.video`, audio chunks
as `realtimeInput.audio`), then `--prompt`'s text inside the same turn, then `end_input`, then the reply. Frames
are sent after activityStart, since a frame before it is dropped (docs/wire.md, "Video frames"); livecli's other
choices are in docs/wire.md, "Video files".
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING

from livecli.audio.pacing import Pacer
from livecli.commands.request import RunRequest
from livecli.errors import UsageError
from livecli.protocol.client_messages import SetupConfig, setup_payload
from livecli.protocol.report import FramesSent, InputInfo, Reporter
from livecli.protocol.wire import INPUT_RATE

if TYPE_CHECKING:
    from livecli.client.conversation import Conversation
    from livecli.env import Env
    from livecli.media.video import FramePiece, TimelineItem, VideoInput

__all__ = [
    "AV_SESSION_LIMIT_S",
    "open_video_input",
    "send_video",
    "silence_tail",
    "video_info",
    "warn_video_length",
]

_MAX_BATCH = 25  # messages per write when several are due at once (as for audio: replies keep being read)
FRAMES_REPORT_EVERY_S = 10.0  # of the video: how often the frames sent are reported

# The service's session limit for audio with video, without context window compression (docs/wire.md, "Limits").
AV_SESSION_LIMIT_S = 120.0


def open_video_input(req: RunRequest) -> VideoInput | None:
    """The --video file, probed before connecting (MediaInputError, exit 6; MissingExtra without PyAV/Pillow).

    A video without audio and without --prompt under server VAD is refused (UsageError): nothing would end its
    turn, since the server's detector hears no speech.
    """
    if req.video is None:
        return None
    from livecli.media.video import check_fps, open_video

    check_fps(req.fps)
    video = open_video(req.video)
    if not video.has_audio and req.video_prompt is None and req.turn_end != "activity":
        raise UsageError(
            f"{video.name} has no audio track: under --turn-end {req.turn_end} nothing would end the turn; "
            "add --prompt TEXT or use --turn-end activity"
        )
    return video


def warn_video_length(video: VideoInput, setup: SetupConfig, warn: Callable[[str], None]) -> None:
    """Before connecting: the service ends audio+video sessions at 2 minutes without context compression (asked
    for by --context-compression, its token options, or a --setup file: whatever the setup as sent holds)."""
    compressed = "contextWindowCompression" in setup_payload(setup)["setup"]
    if video.duration_s > AV_SESSION_LIMIT_S and not compressed:
        warn(
            f"{video.name} lasts {video.duration_s:.0f} s: the service ends audio+video sessions after "
            f"{AV_SESSION_LIMIT_S / 60:.0f} minutes without context compression (add --context-compression)"
        )


def video_info(video: VideoInput, tail_chunks: int, chunk_ms: int) -> InputInfo:
    """The input as the displays show it: its audio (track and appended silence); frames are reported as sent."""
    from livecli.audio.chunks import chunk_bytes

    audio_s = video.duration_s if video.has_audio else 0.0
    return InputInfo(video.name, 1, 1, audio_s, video.audio_bytes + tail_chunks * chunk_bytes(chunk_ms))


async def send_video(
    req: RunRequest,
    conv: Conversation,
    video: VideoInput,
    info: InputInfo,
    renderer: Reporter,
    env: Env,
    tail: list[bytes],
) -> None:
    """One attempt at the video input: frames and audio paced together, the prompt, end the turn, wait for the
    whole reply. `tail`: silence chunks appended after the audio (`--turn-end silence`)."""
    from livecli.media.images import long_side_px
    from livecli.media.video import FramePiece

    session = conv.session
    attempt = session.label_input(info.index, info.name)
    await conv.send(session.begin_input())  # opens the turn: recorded before sending, which may fail
    renderer.input_started(info)
    items = video.timeline(req.fps, req.chunk_ms, long_side=long_side_px(req.media_resolution), tail=tail)
    progress = _Progress(video.name, info, renderer)
    pacer = Pacer(req.chunk_ms / 1000, req.speed, clock=env.clock)
    async for batch in paced(items, pacer, session.end_of_audio):
        frames = [
            session.video(item.data, item.mime) if isinstance(item, FramePiece) else session.audio(item.pcm)
            for item in batch
        ]
        await conv.send(frames)
        for item in batch:
            progress.add(item)
        progress.report(batch[-1].t_s)
    progress.report(0.0, final=True)
    if req.video_prompt is not None:
        await conv.send([session.input_text(req.video_prompt)])
    await conv.send(session.end_input(stream_end=req.turn_end == "vad"))
    renderer.input_ended(info, progress.chunks, progress.audio_bytes)
    settle = 0.0 if req.turn_end == "activity" else req.settle_ms / 1000
    await conv.wait_reply(attempt, settle_s=settle, timeout_s=req.timeout)


async def paced(
    items: Iterator[TimelineItem], pacer: Pacer, end_of_audio: Callable[[], None]
) -> AsyncIterator[list[TimelineItem]]:
    """The timeline as writes, on the pacer's clock: each item waits until it is due; items already due (unpaced,
    or catching up) leave together, at most _MAX_BATCH at a time so replies keep being read; a paced item leaves
    at once, before the next one is even decoded. `end_of_audio` is called before the first appended chunk
    (`--turn-end silence`): the turn's timings start from there (docs/wire.md, "Reply timing")."""
    from livecli.media.video import AudioPiece

    batch: list[TimelineItem] = []
    tail_started = False
    current = next(items, None)
    while current is not None:
        following = next(items, None)
        if isinstance(current, AudioPiece) and current.appended and not tail_started:
            end_of_audio()
            tail_started = True
        await pacer.wait_until(current.t_s)
        batch.append(current)
        if len(batch) >= _MAX_BATCH or following is None or not pacer.due_at(following.t_s):
            yield batch
            batch = []
        current = following


class _Progress:
    """What went out so far: audio chunks and bytes, and the frames not yet reported.

    Frames are reported every FRAMES_REPORT_EVERY_S of the video and at its end, not per frame: at 1 fps a
    ten-minute video would be 600 display lines. The audio progress is reported after every write (the
    renderers throttle it)."""

    def __init__(self, source: str, info: InputInfo, renderer: Reporter) -> None:
        self.source, self.info, self.renderer = source, info, renderer
        self.chunks = self.audio_bytes = 0
        self.frames = self.frame_bytes = 0
        self._new: list[FramePiece] = []
        self._reported_at = 0.0

    def add(self, item: TimelineItem) -> None:
        from livecli.media.video import FramePiece

        if isinstance(item, FramePiece):
            self._new.append(item)
            self.frames += 1
            self.frame_bytes += len(item.data)
        else:
            self.chunks += 1
            self.audio_bytes += len(item.pcm)

    def report(self, t_s: float, *, final: bool = False) -> None:
        """After a write that reached `t_s` into the video: the frames (when due), then the audio progress."""
        if self._new and (final or t_s - self._reported_at >= FRAMES_REPORT_EVERY_S):
            last = self._new[-1]
            nbytes = sum(len(frame.data) for frame in self._new)
            sent = FramesSent(
                self.source,
                len(self._new),
                nbytes,
                last.width,
                last.height,
                last.mime,
                self.frames,
                self.frame_bytes,
            )
            self.renderer.frames_sent(self.info, sent)
            self._new, self._reported_at = [], t_s
        if self.chunks and not final:
            self.renderer.input_progress(self.info, self.chunks, self.audio_bytes)


def silence_tail(req: RunRequest, chunks: int) -> list[bytes]:
    """`chunks` chunks of silence (the tail of `--turn-end silence`), each `--chunk-ms` long."""
    from livecli.audio.levels import silence_pcm16

    return list(itertools.repeat(silence_pcm16(req.chunk_ms, rate=INPUT_RATE), chunks))
