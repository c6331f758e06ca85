"""`Wakeup`: what a connection's timer sleeps on — until its next deadline or until new input moves it earlier.

The pump used `asyncio.wait_for(event.wait(), timeout)` for every reply chunk: a Task, a waiter, a timer and,
on the timeout, a cancellation that takes more turns of the loop — about a quarter of the server's CPU under
load (issue 12's profile). A Wakeup waits on one future and one timer handle.
"""

from __future__ import annotations

import asyncio

__all__ = ["Wakeup"]


def _release(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class Wakeup:
    """Like asyncio.Event (`set`, `clear`), with `wait(timeout)` returning at the timeout instead of raising."""

    def __init__(self) -> None:
        self._is_set = False
        self._waiter: asyncio.Future[None] | None = None

    def set(self) -> None:
        """Wake the waiter now (or the next wait returns at once)."""
        self._is_set = True
        if self._waiter is not None:
            _release(self._waiter)

    def clear(self) -> None:
        """Forget an earlier `set`."""
        self._is_set = False

    async def wait(self, timeout: float | None) -> None:
        """Until `set` is called or `timeout` seconds have passed (None: no timeout)."""
        if self._is_set:
            return
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiter = waiter
        timer = loop.call_later(timeout, _release, waiter) if timeout is not None else None
        try:
            await waiter
        finally:
            self._waiter = None
            if timer is not None:
                timer.cancel()
