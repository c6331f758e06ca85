"""One connection's pump: client messages into its ServerSession, what the session schedules out when it falls due.

Built for a thousand live sessions in one process (issue 12's profile; docs/wire.md, "Limits of the local
server"):
- a complete message is handed to the session as it is read (livecli.server.pumped_connection), not through
  websockets' queue and a task switch per message; `take_now` declines one declaring a rate whose filter must
  first be built in a thread, which then goes through the queue to the handler's loop, in order;
- what falls due goes out from one timer for every connection (livecli.server.pacer), each frame written at once
  when the socket takes it (livecli.server.fast_send). When it does not (a client that does not read), the rest
  of that flush is awaited in a task and nothing more is made for the connection until it ends, so buffering
  stays bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any, Protocol

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from livecli.protocol import close_reasons as cr
from livecli.server.config import ServerConfig
from livecli.server.fast_send import send_now
from livecli.server.pacer import Pacer
from livecli.server.record import GuardedRecorder
from livecli.server.session import ServerSession
from livecli.server.session_queue import Action, Close, Drop, Send

__all__ = ["Pump"]


class Host(Protocol):
    """What a pump needs of its server (livecli.server.app.RunningServer)."""

    config: ServerConfig
    pacer: Pacer
    recorder: GuardedRecorder

    def background(self, work: Any) -> None: ...


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
            host.recorder.write("frame", self.conn, "in", message)
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
            self.host.recorder.write("frame", self.conn, "out", action.frame)

    def _act(self, action: Close | Drop) -> None:
        recorder = self.host.recorder
        if isinstance(action, Close):
            recorder.write("event", self.conn, "out", "close", code=action.code, reason=action.reason)
            # Not awaited: the connection goes on reading (and ignoring) what the client still sends, so its close
            # frame is read and the handshake ends at once, not after websockets' close timeout (10 s).
            self.host.background(self.ws.close(action.code, action.reason))
        else:
            recorder.write("event", self.conn, "out", "drop")
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
