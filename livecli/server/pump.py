"""One connection's pump: client messages into its ServerSession, what the session schedules out when it falls due.

Built for a thousand live sessions in one process (issue 12's profile; docs/wire.md, "Limits of the local
server"):
- a complete message is handed to the session as websockets parses it (`PumpedConnection.process_event`, from
  `data_received`), not through websockets' queue and a task switch per message. A message the fast path
  leaves alone goes through the queue to the handler's loop, in order: one in fragments, invalid UTF-8, one
  declaring a rate whose filter must first be built in a thread, anything behind such a message, and anything
  past `BURST_S` of work in one read (a client whose messages are all buffered then waits its turn);
- what falls due goes out from one timer for every connection (livecli.server.pacer), each frame written at once
  when the socket takes it (livecli.server.fast_send). When it does not (a client that does not read), the rest
  of that flush is awaited in a task and nothing more is made for the connection until it ends, so buffering
  stays bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from typing import Any, Protocol

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode
from websockets.protocol import Event

from livecli.protocol import close_reasons as cr
from livecli.server.config import ServerConfig
from livecli.server.fast_send import send_now
from livecli.server.pacer import Pacer
from livecli.server.session import ServerSession
from livecli.server.session_queue import Action, Close, Drop, Send

__all__ = ["BURST_S", "Pump", "PumpedConnection"]

BURST_S = 0.002  # work on one read's messages; the rest go through websockets' queue, a turn of the loop each


class Host(Protocol):
    """What a pump needs of its server (livecli.server.app.RunningServer)."""

    config: ServerConfig
    pacer: Pacer
    recorder: Any

    def _record(self, what: str, *args: Any, **fields: Any) -> None: ...

    def background(self, work: Any) -> None: ...


class PumpedConnection(ServerConnection):
    """A server connection whose complete messages go straight to its `pump` when it can take them."""

    pump: Pump | None = None
    backlog = 0  # messages left to websockets' queue that the handler has not finished with
    _burst_started: float | None = None

    def data_received(self, data: bytes) -> None:
        self._burst_started = None
        super().data_received(data)

    def process_event(self, event: Event) -> None:
        if isinstance(event, Frame) and (event.opcode is Opcode.TEXT or event.opcode is Opcode.BINARY):
            if event.fin and not self.backlog and self.pump is not None and self._within_burst():
                message = _message(event)
                if message is not None and self.pump.take_now(message):
                    return
            self.backlog += 1  # counted at its first frame: nothing after it is taken before the handler has it
        super().process_event(event)

    def _within_burst(self) -> bool:
        now = time.perf_counter()
        if self._burst_started is None:
            self._burst_started = now
        return now - self._burst_started < BURST_S


def _message(frame: Frame) -> str | bytes | None:
    """The message a complete frame carries, as websockets' recv gives it; None for invalid UTF-8 (websockets
    then closes with 1007 as it always did)."""
    if frame.opcode is Opcode.TEXT:
        try:
            return bytes(frame.data).decode()
        except UnicodeDecodeError:
            return None
    return bytes(frame.data)


class Pump:
    """Messages in, due actions out, for one connection."""

    def __init__(self, host: Host, ws: ServerConnection, session: ServerSession, conn: int) -> None:
        self.host = host
        self.ws = ws
        self.session = session
        self.conn = conn
        self.paced_at: float | None = None  # livecli.server.pacer's mark
        self.draining: asyncio.Task[None] | None = None  # a flush waiting for a client that does not read

    def take_now(self, message: str | bytes) -> bool:
        """Handle `message` now, unless it declares a rate whose filter must first be built in a thread (False).
        Called from websockets' data_received: never raises (a failure closes the connection with 1011)."""
        try:
            inbound = self.session.input.inbound if self.session.input is not None else None
            if inbound is not None and inbound.unbuilt_rates(message):
                return False
            self.take(message)
        except Exception:
            self.fail()
        return True

    def take(self, message: str | bytes) -> None:
        """Hand one client message to the session, then send what it made due or move the timer earlier."""
        host = self.host
        if host.recorder:
            host._record("frame", self.conn, "in", message)
        clock = host.config.clock
        self.session.receive(message, clock())
        due = self.session.deadline()
        if due is not None and due <= clock():
            self.flush()
        else:
            host.pacer.schedule(self, due)

    def flush(self) -> None:
        """Send every action due now, in order, and ask the pacer for the next deadline. Never raises: a failure
        closes the connection with 1011."""
        if self.draining is not None or self.session.closed:
            return
        try:
            self._send_due()
        except Exception:
            self.fail()

    def _send_due(self) -> None:
        actions = self.session.tick(self.host.config.clock())
        for index, action in enumerate(actions):
            if isinstance(action, Send):
                self._record_send(action)
                if not send_now(self.ws, action.frame):
                    rest = actions[index + 1 :]
                    self.draining = asyncio.get_running_loop().create_task(self._drain(action, rest))
                    return
            else:
                self._act(action)
        self.host.pacer.schedule(self, self.session.deadline())

    async def _drain(self, first: Send, rest: Sequence[Action]) -> None:
        """The rest of a flush the socket did not take at once, awaited; then whatever fell due meanwhile."""
        try:
            await self.ws.send(first.frame)
            for action in rest:
                if isinstance(action, Send):
                    self._record_send(action)
                    if not send_now(self.ws, action.frame):
                        await self.ws.send(action.frame)
                else:
                    self._act(action)
        except ConnectionClosed:
            return
        except Exception:
            self.fail()
            return
        finally:
            self.draining = None
        self.flush()

    def _record_send(self, action: Send) -> None:
        if self.host.recorder:
            self.host._record("frame", self.conn, "out", action.frame)

    def _act(self, action: Close | Drop) -> None:
        if isinstance(action, Close):
            if self.host.recorder:
                self.host._record("event", self.conn, "out", "close", code=action.code, reason=action.reason)
            # Not awaited: the connection goes on reading (and ignoring) what the client still sends, so its close
            # frame is read and the handshake ends at once, not after websockets' close timeout (10 s).
            self.host.background(self.ws.close(action.code, action.reason))
        else:
            if self.host.recorder:
                self.host._record("event", self.conn, "out", "drop")
            self.ws.transport.abort()

    def fail(self) -> None:
        """A failure in the pump itself: log it and close with 1011, never a silent 1000 or a hung socket."""
        self.host.config.logger.exception("internal error; closing the connection with 1011")
        self.session.stop()
        self.host.pacer.schedule(self, None)
        self.host.background(self.ws.close(cr.INTERNAL_ERROR.code, cr.INTERNAL_ERROR.text))

    async def closed(self) -> None:
        """The connection ended: leave the pacer; a flush still draining gets a moment to end."""
        self.host.pacer.forget(self)
        draining = self.draining
        if draining is not None:
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError, ConnectionClosed):
                await asyncio.wait_for(asyncio.shield(draining), 1.0)
            draining.cancel()
