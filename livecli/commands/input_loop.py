"""The per-input loop of `send` and `text`: connect, then send each input paced as one turn and wait for its reply.

Each input is delivered through the Resumer (a connection that ends mid-input is resumed and the input goes on:
docs/wire.md, "Resending input"); where its sending stands is kept across attempts (`Progress`): after a
transparent resumption (Vertex) it goes on where it was, under server VAD from where the server last answered,
with activity brackets from its start. The session labels the turns that answer it, so which turns are whose
reply is asked of the session (`ClientSession.reply_turns`), never worked out here. How the server is reached
comes from the command (`Reach`): a fixed target, or for `--local` an in-process server the command starts, so
the client side never knows a server exists.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from livecli.audio.pacing import MAX_DUE_AT_ONCE, Pacer
from livecli.client.conversation import Conversation
from livecli.client.resume import Connection, Resumer
from livecli.commands.request import RunRequest
from livecli.commands.tool_setup import open_tools, with_tools
from livecli.commands.video_input import VideoProgress, send_video, silence_tail, video_info
from livecli.protocol.client_messages import SetupConfig, inline_data_part
from livecli.protocol.endpoints import Target
from livecli.protocol.report import FramesSent, InputInfo, Reporter
from livecli.protocol.wire import INPUT_RATE

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from livecli.audio.decode import InputAudio
    from livecli.client.transport import LinkTap
    from livecli.env import Env
    from livecli.media.images import ImageFrame
    from livecli.media.video import VideoInput
    from livecli.protocol.reply_audio import ReplyAudio
    from livecli.protocol.session import Turn
    from livecli.protocol.turns import InputTag

__all__ = [
    "LiveConversation",
    "Progress",
    "Reach",
    "RunState",
    "converse",
    "one_connection_send_s",
    "open_conversation",
    "reach_target",
    "send_audio_input",
    "send_plan",
    "send_text_input",
    "with_transparent_resumption",
]

_MAX_BATCH = MAX_DUE_AT_ONCE  # audio messages per write when several are due at once

# How to reach the server: entering it yields the target (for --local: once the command's server is up);
# leaving it releases what it started.
Reach = Callable[[], AbstractAsyncContextManager[Target]]


def reach_target(target: Target) -> Reach:
    """A server that is already there: the target as resolved."""

    @asynccontextmanager
    async def reach() -> AsyncIterator[Target]:
        yield target

    return reach


@dataclass
class RunState:
    """What the run achieved so far, for writing replies after success, failure or Ctrl-C."""

    secrets: tuple[str, ...] = ()
    conversation: Conversation | None = None
    resumer: Resumer | None = None
    delivered: int = 0  # inputs answered, in order (input N is answered when N <= delivered)
    # Where turns keep their reply audio (commands/reply_spill: on disk beside the output); None: in memory.
    new_reply_audio: Callable[[], ReplyAudio] | None = None
    # Sees every frame of every connection (--record DIR: client/record's ClientRecorder); None: not recorded.
    tap: LinkTap | None = None

    def reply_turns(self, number: int) -> list[Turn]:
        """The turns that answer input `number` (1-based), as the session labelled them."""
        return self.conversation.session.reply_turns(number) if self.conversation is not None else []

    def remember(self, secrets: tuple[str, ...]) -> None:
        """More secrets to mask (refreshed credentials)."""
        self.secrets = tuple(dict.fromkeys(self.secrets + secrets))


def send_plan(audio: InputAudio, req: RunRequest) -> list[int]:
    """The sizes of the audio messages one input becomes, the silence tail of `--turn-end silence` included."""
    from livecli.audio.chunks import chunk_bytes, chunk_plan

    plan = chunk_plan(round(audio.duration_s * INPUT_RATE) * 2, req.chunk_ms)
    return plan + [chunk_bytes(req.chunk_ms)] * _tail_chunks(req)


@dataclass
class Progress:
    """Where one input's sending stands, kept across the Resumer's attempts at it."""

    tag: InputTag | None = None  # its current attempt (None: not begun)
    pieces: Iterator[bytes] = dataclasses.field(default_factory=lambda: iter(()))
    held: bytes | None = None  # taken from `pieces`, not yet in a message (a close came while it waited)
    chunks: int = 0  # audio messages built, counted from the input's start (skipped ones included)
    sent: int = 0  # their bytes
    ended: bool = False  # the input's end was built (activityEnd, audioStreamEnd, or its text)

    def next_chunk(self) -> bytes | None:
        if self.held is None:
            self.held = next(self.pieces, None)
        return self.held


def with_transparent_resumption(setup: SetupConfig, target: Target) -> SetupConfig:
    """On Vertex, ask for transparent resumption (the acknowledged index, so a reconnect resends exactly what the
    server missed); the Gemini API refuses the field (docs/wire.md, "Setup" and "Resending input")."""
    vertex = target.backend.removeprefix("local ").startswith("vertex")
    return dataclasses.replace(setup, transparent=vertex and setup.session_resumption)


def one_connection_send_s(req: RunRequest, source: InputAudio | VideoInput, setup: SetupConfig) -> float | None:
    """How long an input takes to send when all of it must reach the server within one connection: with activity
    brackets and no transparent resumption (docs/wire.md, "Resending input": without an acknowledged index an
    activity does not survive a reconnect)."""
    if req.turn_end != "activity" or req.speed <= 0 or setup.transparent:
        return None
    return source.duration_s / req.speed


def _tail_chunks(req: RunRequest) -> int:
    return math.ceil(req.silence_ms / req.chunk_ms) if req.turn_end == "silence" else 0


@dataclass
class LiveConversation:
    """A conversation made for one run, its tools declared and its state wired, not yet connected: `connect()`
    opens it and returns the Resumer that delivers its inputs. A command can set up what needs the Conversation
    (talk's loop) before connecting, and close it before the conversation closes."""

    conversation: Conversation
    target: Target
    req: RunRequest
    env: Env
    renderer: Reporter
    state: RunState

    async def connect(self) -> Resumer:
        """Open the connection (setupComplete within --connect-timeout); the Resumer reconnects it later."""
        req, env, state = self.req, self.env, self.state
        await self.conversation.open(self.target, timeout=req.connect_timeout, environ=env.environ)
        state.resumer = Resumer(
            self.conversation,
            Connection(self.target, req.connect_timeout, env.environ),
            self.renderer,
            max_reconnects=req.max_reconnects,
            enabled=req.resume,
            on_secrets=state.remember,
        )
        return state.resumer


@asynccontextmanager
async def open_conversation(
    req: RunRequest, env: Env, setup: SetupConfig, renderer: Reporter, state: RunState, reach: Reach
) -> AsyncIterator[LiveConversation]:
    """The run's conversation (send, text, chat, talk and batch alike), closed on the way out (also on failure).

    The tool sources start first (a bad --tools file is a usage error before any connection) and close last;
    the setup gets their declarations and, on Vertex, transparent resumption; `state` gets the conversation,
    where its reply audio goes and its recording tap.
    """
    async with open_tools(req, env.environ, renderer, lambda: state.secrets) as tools, reach() as target:
        state.secrets = target.secrets
        setup = with_transparent_resumption(with_tools(setup, tools), target)
        conv = Conversation(setup, renderer, env.clock, send_stall_s=req.timeout, tools=tools)
        state.conversation = conv
        if state.new_reply_audio is not None:
            conv.session.new_reply_audio = state.new_reply_audio
        conv.tap = state.tap
        try:
            yield LiveConversation(conv, target, req, env, renderer, state)
        finally:
            await conv.close()


async def converse(
    req: RunRequest,
    env: Env,
    setup: SetupConfig,
    audio: list[InputAudio],
    renderer: Reporter,
    state: RunState,
    reach: Reach,
    images: Sequence[ImageFrame] = (),
    video: VideoInput | None = None,
) -> None:
    """Connect, deliver every input in order, then close (also on failure); `state` records the progress.
    `images` (--image) go with the first input's turn; `video` (--video) is the one input when given."""
    async with open_conversation(req, env, setup, renderer, state, reach) as live:
        conv, resumer = live.conversation, await live.connect()
        if req.prompt is not None:
            text = functools.partial(send_text_input, req, conv, renderer, images, Progress())
            await resumer.deliver(text, 1, "text")
            state.delivered = 1
            return
        if video is not None:  # --video: one turn of frames and audio (commands/video_input)
            info = video_info(video, _tail_chunks(req), req.chunk_ms)
            tail = silence_tail(req, _tail_chunks(req))
            progress = VideoProgress()
            images_first = functools.partial(_send_images, conv, images, info, renderer)
            send_one = functools.partial(
                send_video, req, conv, video, info, renderer, env, tail, progress, images_first
            )
            await resumer.deliver(
                send_one, 1, video.name, whole_s=one_connection_send_s(req, video, conv.session.setup)
            )
            state.delivered = 1
            return
        for number, source in enumerate(audio, 1):
            info = InputInfo(source.name, number, len(audio), source.duration_s, sum(send_plan(source, req)))
            send = functools.partial(
                send_audio_input, req, conv, source, info, renderer, env, images if number == 1 else (), Progress()
            )
            await resumer.deliver(
                send, number, info.name, whole_s=one_connection_send_s(req, source, conv.session.setup)
            )
            state.delivered = number


async def send_audio_input(
    req: RunRequest,
    conv: Conversation,
    source: InputAudio,
    info: InputInfo,
    renderer: Reporter,
    env: Env,
    images: Sequence[ImageFrame],
    progress: Progress,
) -> None:
    """One attempt at one audio input: its images, then its audio paced, end the turn, wait for the whole reply.

    A later attempt (after a reconnect) goes on where `progress` stands when the session resumed transparently
    (the Resumer resent the unacknowledged tail first); under server VAD it sends the audio after the last turn
    the server answered; with activity brackets the whole input again (docs/wire.md, "Resending input").
    """
    session = conv.session
    if progress.tag is None or not session.resumed_transparently:
        first = 0
        if progress.tag is not None and req.turn_end != "activity":
            first = session.inputs.heard_through(progress.tag)
            session.inputs.resume(progress.tag)
        else:
            progress.tag = session.label_input(info.index, info.name)
        _rewind(progress, _pieces(req, source), first)
        frames = session.begin_input(first_chunk=first)  # opens the turn: recorded before sending, which may fail
        await conv.send(frames)
        renderer.input_started(info)
        if not first:
            await _send_images(conv, images, info, renderer)
    start = progress.chunks
    pacer = Pacer(req.chunk_ms / 1000, req.speed, clock=env.clock, sleep=conv.pause)
    batch: list[str] = []
    speech_chunks = len(send_plan(source, req)) - _tail_chunks(req)
    while (chunk := progress.next_chunk()) is not None:
        if progress.chunks == speech_chunks:  # the rest is appended silence: the timings start from here
            session.end_of_audio()
        await pacer.wait(progress.chunks - start)
        batch.append(session.audio(chunk))
        progress.held = None
        progress.chunks += 1
        progress.sent += len(chunk)
        # Chunks already due (unpaced, or catching up) leave together in one write, at most a second's worth
        # at a time so replies keep being read; each is still its own realtimeInput message. A paced chunk
        # leaves at once, before the next one is even decoded.
        if len(batch) >= _MAX_BATCH or not pacer.due(progress.chunks - start):
            await conv.send(batch)
            renderer.input_progress(info, progress.chunks, progress.sent)
            batch = []
    if batch:
        await conv.send(batch)
        renderer.input_progress(info, progress.chunks, progress.sent)
    if not progress.ended:
        frames = session.end_input(stream_end=req.turn_end == "vad")
        progress.ended = True  # built (numbered): a transparent resumption resends it if unacknowledged
        await conv.send(frames)
        renderer.input_ended(info, progress.chunks, progress.sent)
    settle = 0.0 if req.turn_end == "activity" else req.settle_ms / 1000
    await conv.wait_reply(progress.tag, settle_s=settle, timeout_s=req.timeout)


def _pieces(req: RunRequest, source: InputAudio) -> Iterator[bytes]:
    """The input's audio messages from its start, the silence of `--turn-end silence` appended."""
    from livecli.audio.levels import silence_pcm16

    pieces: Iterator[bytes] = source.pcm16(req.chunk_ms)
    if _tail_chunks(req):
        tail = silence_pcm16(req.chunk_ms, rate=INPUT_RATE)
        pieces = itertools.chain(pieces, [tail] * _tail_chunks(req))
    return pieces


def _rewind(progress: Progress, pieces: Iterator[bytes], first: int) -> None:
    """Start `progress` over on `pieces`, the first `first` of them skipped (already answered)."""
    progress.pieces, progress.held, progress.ended = pieces, None, False
    progress.chunks = progress.sent = 0
    for chunk in itertools.islice(pieces, first):
        progress.chunks += 1
        progress.sent += len(chunk)


async def _send_images(
    conv: Conversation, images: Sequence[ImageFrame], info: InputInfo, renderer: Reporter
) -> None:
    """The --image frames as `realtimeInput.video`: after the turn's activityStart and before its audio or text,
    since a frame sent before activityStart is dropped (docs/wire.md, "Images and media resolution")."""
    for image in images:
        await conv.send([conv.session.video(image.data, image.mime)])
    _report_frames(images, info, renderer)


def _report_frames(images: Sequence[ImageFrame], info: InputInfo, renderer: Reporter) -> None:
    total_bytes = 0
    for count, image in enumerate(images, 1):
        size = len(image.data)
        total_bytes += size
        sent = FramesSent(image.name, 1, size, image.width, image.height, image.mime, count, total_bytes)
        renderer.frames_sent(info, sent)


async def send_text_input(
    req: RunRequest,
    conv: Conversation,
    renderer: Reporter,
    images: Sequence[ImageFrame],
    progress: Progress,
    *,
    prompt: str | None = None,
    number: int = 1,
    name: str = "text",
) -> None:
    """One attempt at the prompt of `text` (after its images): one turn, then wait for the whole reply. After a
    transparent resumption that resent it (the Resumer sent the tail), only the wait. `prompt`, `number` and
    `name`: another text input than `text`'s one prompt (a line of `chat`)."""
    session = conv.session
    if progress.tag is not None and progress.ended and session.resumed_transparently:
        await conv.wait_reply(progress.tag, settle_s=0.0, timeout_s=req.timeout)
        return
    prompt = (req.prompt or "") if prompt is None else prompt
    attempt = progress.tag = session.label_input(number, name)
    info = InputInfo(name, number, 1, 0.0, len(prompt.encode()), kind="text")
    renderer.input_started(info)
    if req.client_content:  # the images are inlineData parts of the same turn, before the text
        parts = tuple(inline_data_part(image.data, image.mime) for image in images)
        frames = session.client_content(prompt, before_text=parts)
        progress.ended = True  # built (numbered): a transparent resumption resends it if unacknowledged
        await conv.send(frames)
        _report_frames(images, info, renderer)
    else:
        await _send_images(conv, images, info, renderer)
        frames = session.text(prompt)
        progress.ended = True
        await conv.send(frames)
    renderer.input_ended(info, 1, info.total_bytes)
    await conv.wait_reply(attempt, settle_s=0.0, timeout_s=req.timeout)
