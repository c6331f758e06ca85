"""The idle limit of a connection past its setup (docs/wire.md, "Limits of the local server").

A connection that has sent nothing for `limit_s` while no reply or tool call is in flight is closed with 1011
and a DEADLINE_EXCEEDED reason, so clients that connect, set up and go quiet cannot hold the server's memory
forever. One queue entry at a time: a message only moves the time the next check compares against.
"""

from __future__ import annotations

from collections.abc import Callable

from livecli.server.limits import IDLE_TIMEOUT
from livecli.server.session_queue import ActionQueue

__all__ = ["IdleWatch"]


class IdleWatch:
    """Closes the session's queue once nothing was heard for `limit_s` and `busy()` is false (None: never)."""

    def __init__(self, queue: ActionQueue, limit_s: float | None, busy: Callable[[], bool]) -> None:
        self.queue = queue
        self.limit_s = limit_s
        self.busy = busy
        self.last_heard: float | None = None
        self._armed = False

    def heard(self, now: float) -> None:
        """A client message arrived at `now`."""
        if self.limit_s is None:
            return
        self.last_heard = now
        if not self._armed:
            self._armed = True
            self.queue.at(now + self.limit_s, self._check)

    def _check(self, now: float) -> None:
        assert self.limit_s is not None and self.last_heard is not None
        due = self.last_heard + self.limit_s
        if self.busy():
            due = max(due, now + self.limit_s)  # a reply streams or a tool call waits: not idle meanwhile
        if now + 1e-9 >= due:
            self._armed = False
            self.queue.close_with(now, IDLE_TIMEOUT, seconds=f"{self.limit_s:g}")
        else:
            self.queue.at(due, self._check)
