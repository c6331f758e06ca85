"""The timed action queue a ServerSession owns: what to send, close or drop, and when (sans I/O).

Work that is due later (a paced reply chunk, a goAway, a scenario timer) is queued with its time; `run_due(now)`
returns the actions due. A callback that raises becomes a 1011 close, as the service ends a session it fails.
"""

from __future__ import annotations

import heapq
import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass

from livecli.protocol import close_reasons as cr
from livecli.protocol.close_reasons import CloseReason, cut_reason

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
    """A time-ordered queue of actions and callbacks; entries may carry a tag to cancel them together.

    Once a Close or Drop has been returned (or `finish` called) the queue is `closed` and stays empty; while
    `stalled` it returns nothing.
    """

    def __init__(self, log: logging.Logger) -> None:
        self.log = log
        self.closed = False
        self.stalled = False
        self._queue: list[tuple[float, int, int | None, Item]] = []
        self._seq = itertools.count()

    def at(self, when: float, item: Item, tag: int | None = None) -> None:
        """Queue an action, or a callback run with the time it falls due."""
        heapq.heappush(self._queue, (when, next(self._seq), tag, item))

    def send(self, when: float, frame: bytes, kind: str, tag: int | None = None) -> None:
        """Queue one frame."""
        self.at(when, Send(frame, kind), tag)

    def cancel(self, tags: set[int]) -> None:
        """Drop every queued entry carrying one of `tags`."""
        self._queue = [entry for entry in self._queue if entry[2] not in tags]
        heapq.heapify(self._queue)

    def clear(self) -> None:
        """Drop everything queued."""
        self._queue.clear()

    @property
    def idle(self) -> bool:
        """Whether nothing more will come out: closed or stalled."""
        return self.closed or self.stalled

    def deadline(self) -> float | None:
        """When the earliest entry falls due, or None."""
        return self._queue[0][0] if self._queue and not self.idle else None

    def run_due(self, now: float) -> list[Action]:
        """Pop what is due at `now`: actions are returned, callbacks run (a failing one closes with 1011)."""
        out: list[Action] = []
        while self._queue and self._queue[0][0] <= now + 1e-9 and not self.stalled:
            _, _, _, item = heapq.heappop(self._queue)
            if isinstance(item, Send | Close | Drop):
                out.append(item)
                if isinstance(item, Close | Drop):
                    self.finish()
                    break
                continue
            try:
                item(now)
            except Exception:
                self.fail(now)
        return out

    def finish(self) -> None:
        """Nothing more is sent (the connection is closing or gone)."""
        self.closed = True
        self._queue.clear()

    def close_now(self, now: float, code: int, reason: str) -> None:
        """Schedule an immediate close (drops everything still queued)."""
        self._queue.clear()
        self.at(now, Close(code, cut_reason(reason)))

    def close_with(self, now: float, reason: CloseReason, **values: str) -> None:
        """Close now with one of the service's reasons (docs/wire.md, "Close codes") and its code."""
        self.close_now(now, reason.code, reason.format(**values))

    def fail(self, now: float) -> None:
        """An internal error: log it with its traceback and close with 1011, never silently."""
        self.log.exception("internal error; closing the session with 1011")
        self.stalled = False
        self.close_with(now, cr.INTERNAL_ERROR)

    def stall(self) -> None:
        """Stop answering altogether (the socket stays open)."""
        self.stalled = True
        self._queue.clear()
