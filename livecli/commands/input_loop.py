"""The per-input loop of `send` and `text`: connect, then send each input paced as one turn and wait for its reply.

Each input is delivered through the Resumer (a connection that ends mid-input is resumed and the input sent
again); the session labels the turns that answer it, so which turns are whose reply is asked of the session
(`ClientSession.reply_turns`), never worked out here. How the server is reached comes from the command
(`Reach`): a fixed target, or for `--local` an in-process server the command starts, so the client side never
knows a server exists.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from livecli.audio.pacing import Pacer
from livecli.client.conversation import Conversation
from livecli.client.resume import Connection, Resumer
from livecli.commands.request import RunRequest
from livecli.commands.tool_setup import open_tools, with_tools
from livecli.commands.video_input import send_video, silence_tail, video_info
from livecli.protocol.client_messages import SetupConfig, inline_data_part
from livecli.protocol.endpoints import Target
from livecli.protocol.report import FramesSent, InputInfo, Reporter
from livecli.protocol.wire import INPUT_RATE

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from livecli.audio.decode import InputAudio
    from livecli.env import Env
    from livecli.media.images import ImageFrame
    from livecli.media.video import VideoInput
    from livecli.protocol.session import Turn

__all__ = ["Reach", "RunState", "converse", "reach_target", "send_plan"]

_MAX_BATCH = 25  # audio messages per write when several are due at once

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


def _whole_s(req: RunRequest, source: InputAudio | VideoInput) -> float | None:
    """How long an input takes to send when all of it must reach the server within one connection: with activity
    brackets (docs/wire.md, "goAway and resumption": an activity does not survive a reconnect without an index)."""
    if req.turn_end != "activity" or req.speed <= 0:
        return None
    return source.duration_s / req.speed


def _tail_chunks(req: RunRequest) -> int:
    return math.ceil(req.silence_ms / req.chunk_ms) if req.turn_end == "silence" else 0


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
    # The tool sources start first (a bad --tools file is a usage error before any connection) and close last.
    async with open_tools(req, env.environ, renderer, lambda: state.secrets) as tools, reach() as target:
        state.secrets = target.secrets
        setup = with_tools(setup, tools)
        conv = Conversation(setup, renderer, env.clock, send_stall_s=req.timeout, tools=tools)
        state.conversation = conv
        try:
            await conv.open(target, timeout=req.connect_timeout, environ=env.environ)
            resumer = state.resumer = Resumer(
                conv,
                Connection(target, req.connect_timeout, env.environ),
                renderer,
                max_reconnects=req.max_reconnects,
                enabled=req.resume,
                on_secrets=state.remember,
            )
            if req.prompt is not None:
                await resumer.deliver(functools.partial(_send_text, req, conv, renderer, images), 1, "text")
                state.delivered = 1
                return
            if video is not None:  # --video: one turn of frames and audio (commands/video_input)
                info = video_info(video, _tail_chunks(req), req.chunk_ms)
                tail = silence_tail(req, _tail_chunks(req))
                send_one = functools.partial(send_video, req, conv, video, info, renderer, env, tail)
                await resumer.deliver(send_one, 1, video.name, whole_s=_whole_s(req, video))
                state.delivered = 1
                return
            for number, source in enumerate(audio, 1):
                info = InputInfo(source.name, number, len(audio), source.duration_s, sum(send_plan(source, req)))
                send = functools.partial(
                    _send_audio, req, conv, source, info, renderer, env, images if number == 1 else ()
                )
                await resumer.deliver(send, number, info.name, whole_s=_whole_s(req, source))
                state.delivered = number
        finally:
            await conv.close()


async def _send_audio(
    req: RunRequest,
    conv: Conversation,
    source: InputAudio,
    info: InputInfo,
    renderer: Reporter,
    env: Env,
    images: Sequence[ImageFrame] = (),
) -> None:
    """One attempt at one audio input: its images, then its audio paced, end the turn, wait for the whole reply."""
    from livecli.audio.levels import silence_pcm16

    session = conv.session
    attempt = session.label_input(info.index, info.name)
    frames = session.begin_input()  # opens the turn: recorded before sending, which may fail
    await conv.send(frames)
    renderer.input_started(info)
    await _send_images(conv, images, info, renderer)
    pacer = Pacer(req.chunk_ms / 1000, req.speed, clock=env.clock)
    chunks = sent = 0
    pieces: Iterator[bytes] = source.pcm16(req.chunk_ms)
    if _tail_chunks(req):
        tail = silence_pcm16(req.chunk_ms, rate=INPUT_RATE)
        pieces = itertools.chain(pieces, [tail] * _tail_chunks(req))
    batch: list[str] = []
    speech_chunks = len(send_plan(source, req)) - _tail_chunks(req)
    for chunk in pieces:
        if chunks == speech_chunks:  # the rest is appended silence: the timings start from here
            session.end_of_audio()
        await pacer.wait(chunks)
        batch.append(session.audio(chunk))
        chunks += 1
        sent += len(chunk)
        # Chunks already due (unpaced, or catching up) leave together in one write, at most a second's worth
        # at a time so replies keep being read; each is still its own realtimeInput message. A paced chunk
        # leaves at once, before the next one is even decoded.
        if len(batch) >= _MAX_BATCH or not pacer.due(chunks):
            await conv.send(batch)
            renderer.input_progress(info, chunks, sent)
            batch = []
    if batch:
        await conv.send(batch)
        renderer.input_progress(info, chunks, sent)
    await conv.send(session.end_input(stream_end=req.turn_end == "vad"))
    renderer.input_ended(info, chunks, sent)
    settle = 0.0 if req.turn_end == "activity" else req.settle_ms / 1000
    await conv.wait_reply(attempt, settle_s=settle, timeout_s=req.timeout)


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


async def _send_text(
    req: RunRequest, conv: Conversation, renderer: Reporter, images: Sequence[ImageFrame]
) -> None:
    """One attempt at the prompt of `text` (after its images): one turn, then wait for the whole reply."""
    session = conv.session
    prompt = req.prompt or ""
    attempt = session.label_input(1, "text")
    info = InputInfo("text", 1, 1, 0.0, len(prompt.encode()), kind="text")
    renderer.input_started(info)
    if req.client_content:  # the images are inlineData parts of the same turn, before the text
        parts = tuple(inline_data_part(image.data, image.mime) for image in images)
        await conv.send(session.client_content(prompt, before_text=parts))
        _report_frames(images, info, renderer)
    else:
        await _send_images(conv, images, info, renderer)
        await conv.send(session.text(prompt))
    renderer.input_ended(info, 1, info.total_bytes)
    await conv.wait_reply(attempt, settle_s=0.0, timeout_s=req.timeout)
