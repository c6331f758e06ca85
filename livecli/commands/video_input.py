"""`send --video FILE`: one turn of a video's frames and audio, interleaved in presentation-time order and paced on
one absolute-deadline clock; the checks a video gets before connecting.

The turn is built like an audio input's (input_loop `send_audio_input`): `begin_input` (activityStart under
`--turn-end activity`), then the --image frames (as an audio input's turn has them), then the timeline of
livecli.media.video (frames as `realtimeInput.video`, audio chunks as `realtimeInput.audio`), then `--prompt`'s
text inside the same turn, then `end_input`, then the reply. Frames are sent after activityStart, since a frame
before it is dropped (docs/wire.md, "Video frames"); livecli's other choices are in docs/wire.md, "Video files".
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TYPE_CHECKING

from livecli.audio.pacing import MAX_DUE_AT_ONCE, Pacer
from livecli.commands.request import RunRequest
from livecli.errors import UsageError
from livecli.protocol.client_messages import SetupConfig, setup_payload
from livecli.protocol.report import FramesSent, InputInfo, Reporter
from livecli.protocol.wire import INPUT_RATE

if TYPE_CHECKING:
    from livecli.client.conversation import Conversation
    from livecli.env import Env
    from livecli.media.video import FramePiece, TimelineItem, VideoInput
    from livecli.protocol.turns import InputTag

__all__ = [
    "AV_SESSION_LIMIT_S",
    "open_video_input",
    "send_video",
    "silence_tail",
    "video_info",
    "warn_video_length",
]

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
    progress: VideoProgress,
    send_images: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """One attempt at the video input: the --image frames (`send_images`), then frames and audio paced together,
    the prompt, end the turn, wait for the whole reply. `tail`: silence chunks appended after the audio
    (`--turn-end silence`).

    After a transparent resumption (Vertex: the Resumer resent what the server had not consumed) the attempt goes
    on where `progress` stands; after any other reconnect the video is sent again from its start (an activity does
    not survive one: docs/wire.md, "goAway and resumption").
    """
    from livecli.media.images import long_side_px
    from livecli.media.video import FramePiece

    session = conv.session
    if progress.tag is None or not session.resumed_transparently:
        progress.tag = session.label_input(info.index, info.name)
        progress.restart(
            video.timeline(req.fps, req.chunk_ms, long_side=long_side_px(req.media_resolution), tail=tail)
        )
        frames = session.begin_input()  # opens the turn: recorded before sending, which may fail
        await conv.send(frames)
        renderer.input_started(info)
        if send_images is not None:  # after activityStart, before the first frame (docs/wire.md, "Video files")
            await send_images()
    pacer = Pacer(req.chunk_ms / 1000, req.speed, clock=env.clock, sleep=conv.pause)  # replies applied meanwhile
    async for batch in paced(progress, pacer, session.end_of_audio):
        frames = [
            session.video(item.data, item.mime) if isinstance(item, FramePiece) else session.audio(item.pcm)
            for item in batch
        ]
        progress.built(batch)  # numbered: a transparent resumption resends them if unacknowledged
        await conv.send(frames)
        progress.report(info, renderer, batch[-1].t_s)
    if not progress.ended:
        frames = [session.input_text(req.video_prompt)] if req.video_prompt is not None else []
        frames += session.end_input(stream_end=req.turn_end == "vad")
        progress.ended = True
        await conv.send(frames)
        progress.report(info, renderer, 0.0, final=True)
        renderer.input_ended(info, progress.chunks, progress.audio_bytes)
    settle = 0.0 if req.turn_end == "activity" else req.settle_ms / 1000
    await conv.wait_reply(progress.tag, settle_s=settle, timeout_s=req.timeout)


async def paced(
    progress: VideoProgress, pacer: Pacer, end_of_audio: Callable[[], None]
) -> AsyncIterator[list[TimelineItem]]:
    """The rest of the timeline as writes, on the pacer's clock from its first item: each item waits until it is
    due; items already due (unpaced, or catching up) leave together, at most MAX_DUE_AT_ONCE at a time so
    replies keep being read; a paced item leaves at once, before the next one is even decoded. An item stays in
    `progress` until it is yielded, so a close while it waits loses nothing. `end_of_audio` is called before the
    first appended chunk (`--turn-end silence`): the turn's timings start from there (docs/wire.md, "Reply
    timing")."""
    from livecli.media.video import AudioPiece

    batch: list[TimelineItem] = []
    current = progress.peek()
    origin = current.t_s if current is not None else 0.0
    while current is not None:
        if isinstance(current, AudioPiece) and current.appended and not progress.tail_started:
            end_of_audio()
            progress.tail_started = True
        await pacer.wait_until(current.t_s - origin)
        batch.append(progress.take())
        following = progress.peek()
        if len(batch) >= MAX_DUE_AT_ONCE or following is None or not pacer.due_at(following.t_s - origin):
            yield batch
            batch = []
        current = following


class VideoProgress:
    """Where the video's sending stands, kept across the Resumer's attempts at it: the timeline being read, the
    items taken from it but not yet in a message, and what was sent (for the displays).

    Frames are reported every FRAMES_REPORT_EVERY_S of the video and at its end, not per frame: at 1 fps a
    ten-minute video would be 600 display lines. The audio progress is reported after every write (the
    renderers throttle it)."""

    def __init__(self, items: Iterator[TimelineItem] | None = None) -> None:
        self.tag: InputTag | None = None  # the current attempt (None: not begun)
        self.restart(items if items is not None else iter(()))

    def restart(self, items: Iterator[TimelineItem]) -> None:
        """Start over on `items` (a new attempt from the video's start)."""
        self._items = items
        self._held: TimelineItem | None = None
        self.tail_started = self.ended = False
        self.chunks = self.audio_bytes = self.frames = self.frame_bytes = 0
        self._unreported: list[FramePiece] = []
        self._reported_at = 0.0

    def peek(self) -> TimelineItem | None:
        """The next item to send (decoded now if need be), or None at the end."""
        if self._held is None:
            self._held = next(self._items, None)
        return self._held

    def take(self) -> TimelineItem:
        """The next item, no longer held."""
        item = self.peek()
        assert item is not None
        self._held = None
        return item

    def built(self, batch: list[TimelineItem]) -> None:
        """These items are in messages now."""
        from livecli.media.video import FramePiece

        for item in batch:
            if isinstance(item, FramePiece):
                self._unreported.append(item)
                self.frames += 1
                self.frame_bytes += len(item.data)
            else:
                self.chunks += 1
                self.audio_bytes += len(item.pcm)

    def report(self, info: InputInfo, renderer: Reporter, t_s: float, *, final: bool = False) -> None:
        """After a write that reached `t_s` into the video: the frames (when due), then the audio progress."""
        if self._unreported and (final or t_s - self._reported_at >= FRAMES_REPORT_EVERY_S):
            last = self._unreported[-1]
            nbytes = sum(len(frame.data) for frame in self._unreported)
            sent = FramesSent(
                info.name,
                len(self._unreported),
                nbytes,
                last.width,
                last.height,
                last.mime,
                self.frames,
                self.frame_bytes,
            )
            renderer.frames_sent(info, sent)
            self._unreported, self._reported_at = [], t_s
        if self.chunks and not final:
            renderer.input_progress(info, self.chunks, self.audio_bytes)


def silence_tail(req: RunRequest, chunks: int) -> list[bytes]:
    """`chunks` chunks of silence (the tail of `--turn-end silence`), each `--chunk-ms` long."""
    from livecli.audio.levels import silence_pcm16

    return list(itertools.repeat(silence_pcm16(req.chunk_ms, rate=INPUT_RATE), chunks))
