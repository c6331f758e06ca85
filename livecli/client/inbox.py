"""The inbox between a Conversation's reader task and the one task that drives its session.

The reader only moves what the socket delivers into the inbox (each frame with its arrival time, then how the
socket ended); tool handlers put their function responses there (`answer`). The driving task takes them out in
order and applies them (client/conversation `_pump`): nothing but the driver ever changes the ClientSession.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from livecli.client.transport import Closed, Link, LinkClosed

__all__ = ["Answer", "Arrival", "Inbox"]


@dataclass(frozen=True)
class Answer:
    """Function responses another task (a tool handler) hands the driver to build and send; `sent` says how it
    went (False: the connection ended first)."""

    responses: list[dict[str, Any]]
    sent: asyncio.Future[bool]


# A frame with its arrival time, how the socket ended, a reader bug, or function responses to send.
Arrival = tuple[float, str | bytes] | Closed | Exception | Answer


class Inbox:
    """What arrived for the driver, in arrival order, and an event that wakes it."""

    def __init__(self) -> None:
        self._items: deque[Arrival] = deque()
        self.arrived = asyncio.Event()

    def __bool__(self) -> bool:
        return bool(self._items)

    def put(self, item: Arrival) -> None:
        self._items.append(item)
        self.arrived.set()

    def take(self) -> Arrival:
        """The oldest item (the inbox must not be empty)."""
        return self._items.popleft()

    async def wait(self, seconds: float) -> None:
        """Return when something arrives (at once if something is waiting), or after `seconds`."""
        if self._items:
            return
        self.arrived.clear()
        # asyncio.timeout, not wait_for: on 3.11 wait_for returns normally when a cancellation (Ctrl-C) races with
        # the awaited result, and the interrupted run would carry on.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self.arrived.wait()

    async def read(self, link: Link, clock: Callable[[], float]) -> None:
        """The reader task: every frame in with its arrival time, then how the socket ended. It keeps reading after
        a failure, since frames left unread would hold up the close handshake (websockets stops reading a full
        queue)."""
        try:
            while True:
                frame = await link.recv()
                self.put((clock(), frame))
        except LinkClosed as exc:
            self.put(exc.closed)
        except Exception as exc:  # a bug below the link: the driver raises it as itself
            self.put(exc)

    async def answer(self, responses: list[dict[str, Any]]) -> bool:
        """From a task other than the driver: have the driver send these function responses; True once sent."""
        sent: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.put(Answer(responses, sent))
        return await sent
