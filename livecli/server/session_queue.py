"""The timed action queue under ServerSession: what to send, close or drop, and when (sans I/O).

Work that is due later (a paced reply chunk, a goAway, a scenario timer) is queued with its time; `tick(now)`
returns the actions due. A callback that raises becomes a 1011 close, as the service ends a session it fails.
"""

from __future__ import annotations

import heapq
import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass

from livecli.server.validate import INTERNAL_ERROR, cut_reason

__all__ = ["Action", "ActionQueue", "Close", "Drop", "Send"]


@dataclass(frozen=True)
class Send:
    """Send one binary frame; `kind` names it for logs and recordings."""

    frame: bytes
    kind: str


@dataclass(frozen=True)
class Close:
    """Close the WebSocket with a code and reason (at most 123 bytes)."""

    code: int
    reason: str


@dataclass(frozen=True)
class Drop:
    """Abort the TCP connection without a close frame."""


Action = Send | Close | Drop
Item = Action | Callable[[float], None]


class ActionQueue:
    """A time-ordered queue of actions and callbacks; entries may carry a tag to cancel them together."""

    log: logging.Logger

    def __init__(self) -> None:
        self.closed = False
        self.stalled = False
        self._queue: list[tuple[float, int, int | None, Item]] = []
        self._seq = itertools.count()

    def _at(self, when: float, item: Item, tag: int | None = None) -> None:
        heapq.heappush(self._queue, (when, next(self._seq), tag, item))

    def _send(self, when: float, frame: bytes, kind: str, tag: int | None = None) -> None:
        self._at(when, Send(frame, kind), tag)

    def _cancel(self, tags: set[int]) -> None:
        self._queue = [entry for entry in self._queue if entry[2] not in tags]
        heapq.heapify(self._queue)

    def _queue_deadline(self) -> float | None:
        return self._queue[0][0] if self._queue and not (self.closed or self.stalled) else None

    def _run_due(self, now: float) -> list[Action]:
        """Pop what is due at `now`: actions are returned, callbacks run (a failing one closes with 1011)."""
        out: list[Action] = []
        while self._queue and self._queue[0][0] <= now + 1e-9 and not self.stalled:
            _, _, _, item = heapq.heappop(self._queue)
            if isinstance(item, Send | Close | Drop):
                out.append(item)
                if isinstance(item, Close | Drop):
                    self._finish()
                    break
                continue
            try:
                item(now)
            except Exception:
                self.fail(now)
        return out

    def _finish(self) -> None:
        self.closed = True
        self._queue.clear()

    def close_now(self, now: float, code: int, reason: str) -> None:
        """Schedule an immediate close (drops everything still queued)."""
        self._queue.clear()
        self._at(now, Close(code, cut_reason(reason)))

    def fail(self, now: float) -> None:
        """An internal error: log it with its traceback and close with 1011, never silently."""
        self.log.exception("internal error; closing the session with 1011")
        self.stalled = False
        self.close_now(now, 1011, INTERNAL_ERROR)

    def stall(self) -> None:
        """Stop answering altogether (the socket stays open)."""
        self.stalled = True
        self._queue.clear()
