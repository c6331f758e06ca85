"""`send` and `text`: preflight, connect, stream each input paced as one turn, collect and write the replies.

No option parsing and no exit codes here: `cli_send` builds a RunRequest, the CLI boundary maps errors.
Whatever happens (an error, a close, Ctrl-C) the reply audio received so far is written and reported.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from livecli.audio.pacing import Pacer
from livecli.auth.target import LOCAL_PLACEHOLDER_URL, resolve_target
from livecli.client.conversation import Conversation
from livecli.client.hints import with_hint
from livecli.client.resume import Connection, Resumer
from livecli.commands.checks import check_replies, compile_expectation
from livecli.commands.output import OutputPlan, plan_output, write_text
from livecli.commands.request import RunRequest, build_setup
from livecli.errors import LivecliError, ServerClosed
from livecli.protocol.client_messages import SetupConfig, setup_message
from livecli.protocol.endpoints import Target
from livecli.protocol.redact import printable, redact
from livecli.protocol.report import InputInfo, Reporter
from livecli.protocol.wire import INPUT_RATE, OUTPUT_RATE
from livecli.render.console import make_renderer

if TYPE_CHECKING:
    from livecli.audio.decode import InputAudio
    from livecli.env import Env
    from livecli.protocol.session import Turn

__all__ = ["run"]

_MAX_BATCH = 25  # audio messages per write when several are due at once


@dataclass
class InputReply:
    """One input and the turns that answered it."""

    name: str
    destination: str | None
    attempts: list[int] = field(default_factory=list)  # first turn of each attempt (resent after a reconnect)
    done: bool = False

    @property
    def first_turn(self) -> int | None:
        """The first turn of the latest attempt."""
        return self.attempts[-1] if self.attempts else None

    @property
    def earliest_turn(self) -> int | None:
        """The first turn of the first attempt."""
        return self.attempts[0] if self.attempts else None

    def start_attempt(self, first_turn: int) -> None:
        """The input is being sent (again) and its reply starts at turn `first_turn`."""
        self.attempts.append(first_turn)

    def turns(self, conversation: Conversation | None, stop: int | None = None) -> list[Turn]:
        """The reply (turns before `stop`): the answered attempt's; after a failure the latest partial one.

        Only one attempt is ever kept: a resent input is answered from its start again, so joining the
        attempts would repeat the reply's beginning in the file.
        """
        if conversation is None or not self.attempts:
            return []
        ends: list[int | None] = [*self.attempts[1:], stop]
        spans = [
            [t for t in conversation.turns_since(start) if (end is None or t.index < end) and _kept(t)]
            for start, end in zip(self.attempts, ends, strict=True)
        ]
        if self.done:
            return spans[-1]
        return next((span for span in reversed(spans) if any(t.has_reply for t in span)), spans[-1])


def _kept(turn: Turn) -> bool:
    """Whether a turn belongs in the reply (not an empty one cut by a reconnect)."""
    return turn.has_reply or turn.end != "disconnected"


@dataclass
class RunState:
    """What the run achieved so far, for writing replies after success, failure or Ctrl-C."""

    replies: list[InputReply]
    conversation: Conversation | None = None
    resumer: Resumer | None = None
    secrets: tuple[str, ...] = ()


def run(req: RunRequest, env: Env, status_of: Callable[[BaseException], int]) -> int:
    """Run `send` or `text`; returns 0 or raises (errors propagate to the CLI boundary).

    `status_of` is the CLI's exit-status table: the `--json` error and summary lines carry the status the
    process will exit with, and only the CLI knows it.
    """
    names = list(req.inputs) if req.prompt is None else ["text"]
    plan = plan_output(req.output, list(req.inputs) if req.prompt is None else ["reply"], json=req.json)
    expectation = compile_expectation(req.expect_transcript)
    local_url = LOCAL_PLACEHOLDER_URL if req.connect.local else None
    preview = resolve_target(req.connect, env.environ, local_url=local_url, fetch_credentials=not req.dry_run)
    setup = build_setup(req, preview.model)
    with contextlib.ExitStack() as stack:
        audio = [stack.enter_context(_open(name, env)) for name in req.inputs]
        if req.dry_run:
            from livecli.commands.dry_run import dry_run

            plans = {a.name: _send_plan(a, req) for a in audio}
            return dry_run(preview, setup_message(setup), plans, env, req.json)
        renderer = make_renderer(env, json=req.json, verbosity=req.verbosity)
        state = RunState([InputReply(name, plan.destination(i)) for i, name in enumerate(names)])
        state.secrets = preview.secrets
        status = 0
        try:
            asyncio.run(_converse(req, env, setup, audio, renderer, state, preview))
            check_replies(
                [(r.name, r.turns(state.conversation, _stop(state, i))) for i, r in enumerate(state.replies)],
                expectation,
                req.min_reply_s,
            )
        except BaseException as exc:
            status = status_of(exc)
            if isinstance(exc, LivecliError):
                with_hint(exc, client_content=req.client_content)
                _redact_error(exc, state.secrets)
                renderer.error(exc, status)
            raise
        finally:
            _finish(req, env, plan, state, renderer, failed=status != 0, status=status)
    return 0


class _ToRenderer(logging.Handler):
    """The in-process server's warnings, shown as the client's own warning lines (not bare log lines)."""

    def __init__(self, renderer: Reporter) -> None:
        super().__init__(logging.WARNING)
        self.renderer = renderer

    def emit(self, record: logging.LogRecord) -> None:
        self.renderer.warning(f"local server: {record.getMessage()}")


def _local_logger(renderer: Reporter) -> logging.Logger:
    logger = logging.getLogger("livecli.local")
    logger.handlers = [_ToRenderer(renderer)]
    logger.setLevel(logging.WARNING)
    logger.propagate = False
    return logger


def _open(name: str, env: Env) -> InputAudio:
    from livecli.audio.decode import open_input

    return open_input(name, stdin=env.stdin)


def _send_plan(audio: InputAudio, req: RunRequest) -> list[int]:
    """The sizes of the audio messages one input becomes, the silence tail of `--turn-end silence` included."""
    from livecli.audio.decode import chunk_bytes, chunk_plan

    plan = chunk_plan(round(audio.duration_s * INPUT_RATE) * 2, req.chunk_ms)
    return plan + [chunk_bytes(req.chunk_ms)] * _tail_chunks(req)


def _tail_chunks(req: RunRequest) -> int:
    return math.ceil(req.silence_ms / req.chunk_ms) if req.turn_end == "silence" else 0


def _redact_error(exc: LivecliError, secrets: Sequence[str]) -> None:
    """Mask secrets a server may have echoed back, in the message and in a close reason."""
    text = str(exc)
    cleaned = redact(text, secrets)
    if cleaned != text:
        exc.args = (cleaned,)
    if isinstance(exc, ServerClosed):
        exc.reason = redact(exc.reason, secrets)


def _stop(state: RunState, index: int) -> int | None:
    """The first turn of the input after `index` (its reply ends there), if it was sent."""
    following = state.replies[index + 1] if index + 1 < len(state.replies) else None
    return following.earliest_turn if following is not None else None


async def _converse(
    req: RunRequest,
    env: Env,
    setup: SetupConfig,
    audio: list[InputAudio],
    renderer: Reporter,
    state: RunState,
    target: Target,
) -> None:
    server = None
    conversation: Conversation | None = None
    try:
        if req.connect.local:
            from livecli.server import ServerConfig, start_server

            # The in-process server paces its replies like the client paces its input (--speed 0: neither).
            config = ServerConfig(host="127.0.0.1", port=0, reply_speed=req.speed, logger=_local_logger(renderer))
            server = await start_server(config)
            target = resolve_target(req.connect, env.environ, local_url=server.url)
            state.secrets = target.secrets
        conversation = state.conversation = Conversation(setup, renderer, env.clock)
        await conversation.open(target, timeout=req.connect_timeout, environ=env.environ)

        def remember(secrets: tuple[str, ...]) -> None:
            state.secrets = tuple(dict.fromkeys(state.secrets + secrets))

        resumer = state.resumer = Resumer(
            conversation,
            Connection(target, req.connect_timeout, env.environ),
            renderer,
            max_reconnects=req.max_reconnects,
            enabled=req.resume,
            on_secrets=remember,
        )
        conv = conversation
        if req.prompt is not None:
            reply = state.replies[0]
            await resumer.deliver(lambda: _send_text(req, conv, reply, renderer), "text", _answered(conv, reply))
            reply.done = True
        else:
            for index, (reply, source) in enumerate(zip(state.replies, audio, strict=True)):
                info = InputInfo(
                    source.name, index + 1, len(audio), source.duration_s, sum(_send_plan(source, req))
                )

                def attempt(reply: InputReply = reply, source: InputAudio = source, info: InputInfo = info) -> Any:
                    return _send_audio(req, conv, reply, source, info, renderer, env)

                await resumer.deliver(attempt, info.name, _answered(conv, reply))
                reply.done = True
    finally:
        if conversation is not None:
            await conversation.close()
        if server is not None:
            await server.close()


def _answered(conv: Conversation, reply: InputReply) -> Callable[[], bool]:
    """Whether the reply to an input has completed (so a close after it needs no resend)."""

    def answered() -> bool:
        if reply.first_turn is None:
            return False
        turns = conv.turns_since(reply.first_turn)
        ended = [t for t in turns if t.over and t.end != "disconnected"]
        return bool(ended) and all(t.over for t in turns) and any(t.has_reply for t in ended)

    return answered


async def _send_audio(
    req: RunRequest,
    conv: Conversation,
    reply: InputReply,
    source: InputAudio,
    info: InputInfo,
    renderer: Reporter,
    env: Env,
) -> None:
    from livecli.audio.decode import silence

    session = conv.session
    conv.input_name = info.name
    frames = session.begin_input()  # opens the turn: recorded before sending, which may fail
    turn = session.current_turn
    reply.start_attempt(turn.index if turn is not None else len(session.turns) + 1)
    await conv.send(frames)
    renderer.input_started(info)
    pacer = Pacer(req.chunk_ms / 1000, req.speed, clock=env.clock)
    chunks = sent = 0
    pieces: Iterator[bytes] = source.pcm16(req.chunk_ms)
    if _tail_chunks(req):
        pieces = itertools.chain(pieces, [silence(req.chunk_ms)] * _tail_chunks(req))
    batch: list[str] = []
    for chunk in pieces:
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
    assert reply.first_turn is not None
    await conv.wait_reply(reply.first_turn, settle_s=settle, timeout_s=req.timeout, name=info.name)
    reply.done = True


async def _send_text(req: RunRequest, conv: Conversation, reply: InputReply, renderer: Reporter) -> None:
    session = conv.session
    prompt = req.prompt or ""
    conv.input_name = "text"
    info = InputInfo("text", 1, 1, 0.0, len(prompt.encode()), kind="text")
    renderer.input_started(info)
    frames = session.client_content(prompt) if req.client_content else session.text(prompt)
    turn = session.current_turn
    reply.start_attempt(turn.index if turn is not None else 1)
    await conv.send(frames)
    renderer.input_ended(info, 1, info.total_bytes)
    assert reply.first_turn is not None
    await conv.wait_reply(reply.first_turn, settle_s=0.0, timeout_s=req.timeout, name="text")
    reply.done = True


def _finish(
    req: RunRequest, env: Env, plan: OutputPlan, state: RunState, renderer: Reporter, *, failed: bool, status: int
) -> None:
    """Write every reply received (also after a failure), print transcripts, and the summary."""
    total_bytes = turns_count = usage_turns = 0
    try:
        for index, reply in enumerate(state.replies):
            turns = reply.turns(state.conversation, _stop(state, index))
            turns_count += len(turns)
            usage_turns += sum(t.usage is not None for t in turns)
            pcm = b"".join(bytes(t.audio) for t in turns)
            total_bytes += len(pcm)
            rate = next((t.audio_rate for t in turns if t.audio_rate), None) or OUTPUT_RATE
            if reply.destination is not None and pcm:
                from livecli.audio.decode import write_reply

                write_reply(reply.destination, pcm, rate, stdout=env.stdout)
                renderer.reply_written(reply.destination, len(pcm), rate, partial=failed and not reply.done)
            elif reply.destination is not None and reply.done:
                renderer.warning(f"no reply audio for {reply.name}: nothing written to {reply.destination}")
            # One line per turn: server VAD may answer one input with several replies, each its own sentence.
            for text in (t.text or t.output_transcript for t in turns) if plan.transcript_to_stdout else ():
                if text:
                    write_text(env.stdout, printable(text, keep_newlines=True) if env.stdout_isatty else text)
    finally:
        reconnects = state.resumer.total if state.resumer is not None else 0
        renderer.summary(
            len(state.replies), turns_count, total_bytes, status, reconnects=reconnects, usage_turns=usage_turns
        )
        renderer.close()
