"""One connection driven by the sans-I/O ClientSession: connect + setup, a reader task, and waiting for replies.

One task drives the session: the task that calls `open`, `send`, `pause`, `wait_reply`, `resend_tail` and
`reconnect` (the input loop, through the Resumer). The reader task never touches the ClientSession: it only
moves each frame from the socket into the inbox (client/inbox) with its arrival time, and the close that ended
the socket after them. The driver applies the inbox (`_pump`: the session, the renderer, tool answers) after
each send, while it paces (`pause`, the pacer's sleep) and while it waits for a reply. So the session's state,
its numbered messages and the unacknowledged tail (docs/wire.md, "Resending input") change only between the
driver's own awaits: a goAway, a resumption update or a close is applied in arrival order, never in the middle
of building or resending frames, and never from two tasks. Frames are applied at most one send or one pacing
wait late; their timings use the arrival time, not the time they were applied.

Tool calls go to the tool-call dispatcher (client/tool_calls): a declared function's handler runs as a task of
its own and its answer is sent by the driver (`answer_later`); any other call is answered at once with an
error, so a turn never stalls (docs/wire.md, "Tool calls"). Whatever ended the connection surfaces in the
driver: a close or a bad frame as the LivecliError the session maps it to, anything else (a bug) as itself, so
it is an internal error and not a reply that seems never to come. The reader is kept, and awaited on close.

`reconnect()` swaps the socket (the old one closed first, what it had received applied) and resumes with the
newest resumable handle. After a goAway, `send()` and `wait_reply()` raise ReconnectNow once the connection's
time is nearly up: a timer on the session clock, not the arrival of another server message (docs/wire.md,
"goAway and resumption").
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from typing import Any

from livecli.client.connect_errors import host_of
from livecli.client.inbox import Answer, Inbox
from livecli.client.metrics import TurnReports
from livecli.client.tool_calls import ToolCallDispatcher, ToolRunner
from livecli.client.transport import Closed, Link, LinkClosed, LinkTap, open_target_link
from livecli.errors import ConnectError, LivecliError, NoReplyError
from livecli.protocol.client_messages import SetupConfig
from livecli.protocol.endpoints import Target
from livecli.protocol.events import GoAway, ServerEvent, ToolCall, ToolCallCancellation
from livecli.protocol.redact import redact_url
from livecli.protocol.report import Reporter
from livecli.protocol.session import ClientSession, InputTag, Turn

__all__ = ["Conversation", "ReconnectNow", "go_away_margin"]

# A goAway without timeLeft: assume the service's usual minute (docs/wire.md, "goAway and resumption").
DEFAULT_GO_AWAY_S = 60.0
# Frames resent per write after a transparent resumption (as for live audio: at most a second's worth at a time).
RESEND_BATCH = 25
# How long one send may stay blocked (the server stopped reading) when the caller sets no limit of its own;
# `send` and `text` pass their --timeout.
DEFAULT_SEND_STALL_S = 30.0


def go_away_margin(time_left_s: float) -> float:
    """How long before the announced close to reconnect at the latest (room for connect + setup)."""
    return min(5.0, time_left_s / 4)


class ReconnectNow(Exception):
    """The connection's goAway time is nearly up while it is busy: reconnect now (not a LivecliError)."""


class Conversation:
    """A Live session over one WebSocket, reporting to a renderer."""

    def __init__(
        self,
        setup: SetupConfig,
        renderer: Reporter,
        clock: Callable[[], float],
        *,
        send_stall_s: float | None = DEFAULT_SEND_STALL_S,
        tools: ToolRunner | None = None,
    ) -> None:
        self.session = ClientSession(setup, clock=clock)
        self.send_stall_s = send_stall_s  # a send blocked this long (the server stopped reading) fails
        self.renderer = renderer
        self.clock = clock
        self.link: Link | None = None
        self.error: Exception | None = None  # what ended the reader: a LivecliError, or a bug
        self.setup_s: float | None = None
        self.last_frame_at = clock()
        self.inbox = Inbox()  # filled by the reader and tool handlers, emptied by the driver (`_pump`)
        self._reader: asyncio.Task[None] | None = None
        self.turn_reports = TurnReports(renderer)  # each turn measured, and reported once it is over
        self.go_away_at: float | None = None  # when this connection's goAway arrived
        self.go_away_deadline: float | None = None  # when the server said it will close
        self.connected_at: float | None = None  # when this connection's setupComplete arrived
        self.force_reconnect = False  # the runner allows ReconnectNow (reconnect budget left)
        # Every credential this session has connected with (refreshed tokens add theirs): what the server sends
        # back is redacted of all of them, an echo of an earlier token included.
        self.secrets: tuple[str, ...] = ()
        self.tap: LinkTap | None = None  # sees every connection's frames (--record: client/record)
        # Function calls run by `tools` (none: each is answered with an error), answered through the driver.
        self.tools = ToolCallDispatcher(
            tools,
            renderer,
            clock,
            send=self.answer_later,
            wake=self.inbox.arrived.set,
            on_failure=self._tool_failed,
            secrets=self._secrets,
        )

    async def open(self, target: Target, *, timeout: float, environ: Mapping[str, str]) -> None:
        """Connect and complete the setup within `timeout` seconds, then start the reader."""
        self.renderer.connecting(redact_url(target.url, target.secrets), target.backend)
        await self._connect(target, self.session.start(), timeout, environ)

    async def reconnect(self, target: Target, *, timeout: float, environ: Mapping[str, str]) -> None:
        """Close the current socket, then connect again resuming with the newest resumable handle.

        What the old socket received before it ended is applied first: a newer handle (and the index that goes
        with it) may be among it. With transparent resumption the tail is then resent by `resend_tail()`.
        """
        await self.close()
        await self._pump()
        self.error = None
        frames = self.session.reconnect_setup()
        self._report_turns()  # a reply cut by the reconnect ends as "disconnected"
        await self._connect(target, frames, timeout, environ)

    async def _connect(
        self, target: Target, setup_frames: list[str], timeout: float, environ: Mapping[str, str]
    ) -> None:
        url = target.url
        self.secrets = tuple(dict.fromkeys(self.secrets + target.secrets))
        started = self.clock()
        self.link = None
        self.go_away_at = self.go_away_deadline = None
        try:
            async with asyncio.timeout(timeout):
                self.link = await open_target_link(
                    target,
                    timeout=timeout,
                    environ=environ,
                    secrets=self.secrets,
                    send_stall_s=self.send_stall_s,
                    tap=self.tap,
                )
                self.renderer.connected(redact_url(url, target.secrets), target.backend)
                for setup in setup_frames:
                    await self.link.send(setup)
                while not self.session.can_send_media:
                    await self._answer(self._handle(self.session.receive(await self.link.recv())))
        except TimeoutError:
            phase = "setupComplete from" if self.link is not None else "connecting to"
            await self._abandon()
            raise ConnectError(f"timed out after {timeout:g} s waiting for {phase} {host_of(url)}") from None
        except LinkClosed as exc:
            raise self._close_error(exc.closed) from None
        except BaseException:
            await self._abandon()
            raise
        self.setup_s = self.clock() - started
        self.connected_at = self.clock()
        self.renderer.setup_complete(self.setup_s, self.session.session_id)
        self.last_frame_at = self.clock()
        self._reader = asyncio.create_task(self.inbox.read(self.link, self.clock))

    async def _abandon(self) -> None:
        """Drop a connection that never completed its setup."""
        if self.link is not None:
            await self.link.close(1000)

    @property
    def go_away_pending(self) -> bool:
        """Whether this connection announced its end (goAway)."""
        return self.go_away_at is not None

    def lifetime_s(self) -> float | None:
        """How long this connection lasts, from setupComplete to the close its goAway announced, once known."""
        if self.go_away_deadline is None or self.connected_at is None:
            return None
        return self.go_away_deadline - self.connected_at

    def reconnect_due_at(self) -> float | None:
        """When a busy connection must be given up (goAway deadline less a margin), if it must."""
        if self.go_away_deadline is None or self.go_away_at is None or not self.force_reconnect:
            return None
        return self.go_away_deadline - go_away_margin(self.go_away_deadline - self.go_away_at)

    def _check_deadline(self, now: float) -> None:
        due = self.reconnect_due_at()
        if due is not None and now >= due:
            raise ReconnectNow()

    def raise_if_failed(self) -> None:
        """Raise the error that ended this connection, if it ended."""
        if self.error is not None:
            raise self.error

    async def send(self, frames: list[str] | str) -> None:
        """Send frames in order (a list leaves in one write), then apply what arrived meanwhile; a connection
        already failed raises its error."""
        self.raise_if_failed()
        self._check_deadline(self.clock())
        assert self.link is not None
        try:
            await self.link.send(frames)
        except LinkClosed as exc:
            await self._settle_reader()
            raise self.error or self._close_error(exc.closed) from None
        await asyncio.sleep(0)  # the reader's turn: a write that did not block never yielded to it
        await self._pump()

    async def resend_tail(self) -> None:
        """After a transparent resumption: send the unacknowledged tail again, first, as it was numbered
        (docs/wire.md, "Resending input"). A failure part way leaves the tail as it is for the next connection."""
        frames = self.session.take_resend()
        for start in range(0, len(frames), RESEND_BATCH):
            await self.send(frames[start : start + RESEND_BATCH])

    async def settle_tail(self, limit_s: float) -> None:
        """Before an idle reconnect: wait (at most `limit_s`, and not past the goAway's margin) for the server to
        acknowledge the tail (docs/wire.md, "Resending input"), applying what arrives meanwhile."""
        loop = asyncio.get_running_loop()
        until = loop.time() + limit_s
        due = self.reconnect_due_at()
        if due is not None:
            until = min(until, loop.time() + max(0.0, due - self.clock()))
        await self._pump()
        while self.error is None and self.session.outbox.unacknowledged() and (left := until - loop.time()) > 0:
            await self.inbox.wait(left)
            await self._pump()

    async def pause(self, seconds: float) -> None:
        """Wait `seconds` (the pacer's sleep) while applying what arrives, so replies are seen as they come."""
        loop = asyncio.get_running_loop()
        until = loop.time() + seconds
        await asyncio.sleep(0)  # the reader's turn, even when nothing is to be waited for
        await self._pump()
        while (left := until - loop.time()) > 0:
            await self.inbox.wait(left)
            await self._pump()

    async def poll(self, seconds: float = 0.0) -> None:
        """Apply what arrived, waiting up to `seconds` for something to arrive first (for tests and idle loops)."""
        if seconds > 0:
            await self.inbox.wait(seconds)
        await asyncio.sleep(0)
        await self._pump()

    def _close_error(self, closed: Closed) -> LivecliError:
        """The error for how the connection ended (the session records it: media after it raises it too)."""
        return self.session.closed(closed.code, closed.reason, error=closed.refusal() if closed.refused else None)

    async def _settle_reader(self) -> None:
        """Give the reader a moment to record the close frame's code and reason, then apply what it read."""
        if self._reader is not None:
            # asyncio.timeout, not wait_for: on 3.11 wait_for returns normally when a cancellation (Ctrl-C)
            # races with the awaited result, and the interrupted run would carry on.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1.0):
                    await asyncio.shield(self._reader)
        await self._pump()

    async def _pump(self) -> None:
        """Apply the inbox in arrival order (the driver only): frames to the session, events to the renderer, tool
        calls answered; the first failure is kept, and frames after it are only drained."""
        while self.inbox:
            arrival = self.inbox.take()
            if isinstance(arrival, Answer):
                await self._send_answer(arrival)
            elif isinstance(arrival, Closed):
                if not arrival.by_us and self.error is None:
                    self.error = self._close_error(arrival)
            elif isinstance(arrival, Exception):
                self.error = self.error or arrival
            elif self.error is None:
                await self._take(*arrival)

    async def answer_later(self, responses: list[dict[str, Any]]) -> bool:
        """From a task other than the driver (a tool handler): have the driver build and send these function
        responses (the session, which numbers them, is the driver's alone); True once sent, False when the
        connection ended first."""
        return await self.inbox.answer(responses)

    async def _send_answer(self, answer: Answer) -> None:
        ok = False
        if self.error is None and self.link is not None and self.session.can_send_media:
            with contextlib.suppress(LinkClosed):  # the reader puts the close in the inbox
                await self.link.send(self.session.tool_response(answer.responses))
                ok = True
        if not answer.sent.done():
            answer.sent.set_result(ok)

    async def _take(self, at: float, frame: str | bytes) -> None:
        """One frame into the session, its events to the renderer, tool calls answered; a failure is kept."""
        self.last_frame_at = at
        try:
            await self._answer(self._handle(self.session.receive(frame, at), at))
        except LinkClosed:
            pass  # the reader puts the close in the inbox: it is applied in its turn
        except Exception as exc:  # a bad frame (LivecliError), or a bug: either way the run must stop now
            self.error = exc

    async def _answer(self, frames: list[str]) -> None:
        """Send the tool responses `_handle` built, awaited here: no send left running on its own."""
        if frames:
            assert self.link is not None
            await self.link.send(frames)

    def _handle(self, events: list[ServerEvent], now: float | None = None) -> list[str]:
        """Record and report events (received at `now`); returns the frames that answer them (tool responses),
        to send next."""
        now = self.clock() if now is None else now
        answers: list[str] = []
        for event in events:
            turn = self.session.current_turn
            self.turn_reports.observe(event, turn, now)
            if isinstance(event, GoAway) and self.go_away_at is None:
                self.go_away_at = now
                left = event.time_left_s if event.time_left_s is not None else DEFAULT_GO_AWAY_S
                self.go_away_deadline = now + left
            self.renderer.server_event(event, turn)
            if isinstance(event, ToolCall):
                answers += self._dispatch(event)
            elif isinstance(event, ToolCallCancellation):
                self.tools.cancel(event.ids)
        self._report_turns()
        return answers

    def _dispatch(self, event: ToolCall) -> list[str]:
        """Start the handlers of `event`'s calls (client/tool_calls); a call to a name none declares is refused
        at once with an error response, returned here to send next."""
        refused = self.tools.take(event)
        return self.session.tool_response(refused) if refused else []

    def _secrets(self) -> tuple[str, ...]:
        return self.secrets

    def _tool_failed(self, exc: Exception) -> None:
        """A tool handler failed in a way that is not an answer (a bug): the driver raises it at once."""
        self.inbox.put(exc)

    def _report_turns(self) -> None:
        self.turn_reports.report_finished(self.session.turns, self.setup_s)

    async def wait_reply(self, attempt: InputTag, *, settle_s: float, timeout_s: float) -> list[Turn]:
        """Wait until the reply to one attempt at an input is complete; returns its turns.

        Done once a turn of `attempt` has ended, none is open, and the server stayed quiet for `settle_s`
        (server VAD may start another turn); turns a reconnect cut (`Turn.in_reply` false) do not count. While a
        reply is expected, `timeout_s` of server silence raises NoReplyError; so does a reply with no audio and no
        text.
        """
        name = attempt.name
        expected_since = self.clock()
        while True:
            await self._pump()
            self.raise_if_failed()
            now = self.clock()
            self._handle(self.session.tick(now))  # an inferred turn end answers nothing
            # A reply a reconnect cut is not this reply: the resent input has it generated again, whole, and a
            # turn cut before any reply answers nothing (docs/wire.md, "Resending input"), so wait for the next.
            turns = [t for t in self.session.attempt_turns(attempt) if t.in_reply]
            quiet_since = max(self.last_frame_at, expected_since, self.tools.quiet_since(now))
            ended = [t for t in turns if t.over]
            if ended and all(t.over for t in turns) and not self.tools.busy:  # (a NON_BLOCKING call may still run)
                if now - quiet_since >= settle_s:
                    if not any(t.has_reply for t in ended):
                        raise NoReplyError(f"{name}: the turn completed with no audio or text")
                    return turns
                wake = quiet_since + settle_s
            else:
                if now - quiet_since >= timeout_s:
                    received = sum(len(t.audio) for t in turns)
                    what = f"the reply stalled after {received} bytes" if received else "no reply"
                    raise NoReplyError(f"{name}: {what}: the server sent nothing for {timeout_s:g} s")
                wake = quiet_since + timeout_s
            self._check_deadline(now)  # (after the checks above: a reply already complete is not given up)
            for due in (self.session.deadline(), self.reconnect_due_at()):
                if due is not None:
                    wake = min(wake, due)
            await self.inbox.wait(max(wake - now, 0.0) + 0.001)

    async def close(self) -> None:
        """Stop the tool calls still running (reported), close the socket cleanly (1000) and stop the reader."""
        await self.tools.close()
        if self.link is not None:
            await self.link.close(1000)
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):  # it keeps its own errors in `self.error`
                await self._reader
            self._reader = None
