"""`Pacer`: one timer for every connection of a server, each flushed when its session's next deadline falls due.

A task per connection sleeping until its next reply chunk cost a future, a timer and a task switch per chunk,
about a third of the server's CPU at a few hundred live sessions (issue 12's profile). The Pacer keeps the
connections in a heap by deadline and arms one loop timer for the earliest, rounded up to the next TICK_S; when
it fires, every connection due is flushed in that one callback (docs/wire.md, "Limits of the local server").
A paced frame goes out at most TICK_S late, and at a few hundred sessions each firing serves ten or more.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["STALE_SLACK", "TICK_S", "Paced", "Pacer"]

TICK_S = 0.002
STALE_SLACK = 64  # stale heap entries are dropped once they outnumber the live ones by twice this


def _tick_of(due: float) -> float:
    """The end of the tick `due` falls in: when the timer fires for it (never before `due`, which the float
    product can be by one ulp: a clock standing still would then fire the timer again and again)."""
    end = math.ceil(due / TICK_S) * TICK_S
    return end if end >= due else end + TICK_S


class Paced(Protocol):
    """What the Pacer flushes: `paced_at` is the Pacer's own mark (the deadline it holds for it, or None)."""

    paced_at: float | None

    def flush(self) -> None: ...


class Pacer:
    """Flush each scheduled connection once its deadline (on `clock`) has passed; `poll` caps every sleep, so an
    injected clock that jumps ahead is noticed.

    A connection has at most one live heap entry. A new deadline makes its old entry stale: the entry lets go of
    the connection at once and is dropped when it comes up, or when stale entries pass half the heap (a client
    moving its deadline back and forth on every message cannot grow the heap without bound).
    """

    def __init__(self, clock: Callable[[], float], poll: float | None = None) -> None:
        self._clock = clock
        self._poll = poll
        self._heap: list[list[Any]] = []  # [due, order, the connection or None once stale]
        self._live: dict[int, list[Any]] = {}  # id(connection) → its live entry
        self._stale = 0
        self._order = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_due = float("inf")  # when the armed timer's callback will look at the heap, on `clock`
        self._firing = False  # flushes reschedule while the callback runs: it arms the timer once, at the end

    def __len__(self) -> int:
        """Heap entries, stale ones included (tests)."""
        return len(self._heap)

    def schedule(self, paced: Paced, due: float | None) -> None:
        """Flush `paced` once `clock()` reaches `due`, instead of at any earlier mark (None: not at all)."""
        if due == paced.paced_at:
            return
        self._unlink(paced)
        paced.paced_at = due
        if due is None:
            return
        entry = [due, next(self._order), paced]
        self._live[id(paced)] = entry
        heapq.heappush(self._heap, entry)
        if not self._firing and _tick_of(due) < self._timer_due:  # (the armed tick or earlier: left alone)
            self._arm(due)

    def forget(self, paced: Paced) -> None:
        """Drop `paced` for good (its connection ended): nothing of it is kept."""
        self._unlink(paced)
        paced.paced_at = None

    def _unlink(self, paced: Paced) -> None:
        """Make `paced`'s live entry stale; rebuild the heap when stale entries are more than half of it."""
        entry = self._live.pop(id(paced), None)
        if entry is None:
            return
        entry[2] = None
        self._stale += 1
        if self._stale > len(self._heap) // 2 + STALE_SLACK:
            self._heap = [entry for entry in self._heap if entry[2] is not None]
            heapq.heapify(self._heap)
            self._stale = 0

    def _arm(self, due: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        now = self._clock()
        fire_at = _tick_of(due)
        if self._poll is not None and fire_at - now > self._poll:
            fire_at = now + self._poll
        self._timer_due = fire_at
        delay = max(0.0, fire_at - now)
        self._timer = asyncio.get_running_loop().call_later(delay, self._fire)

    def _fire(self) -> None:
        self._timer, self._timer_due = None, float("inf")
        now = self._clock()
        heap = self._heap
        due_now: list[Paced] = []
        while heap and heap[0][0] <= now:
            _, _, paced = heapq.heappop(heap)
            if paced is None:
                self._stale -= 1
                continue
            del self._live[id(paced)]
            paced.paced_at = None
            due_now.append(paced)
        self._firing = True
        try:
            for paced in due_now:  # each reschedules itself for its next deadline (a flush never raises)
                paced.flush()
        finally:
            self._firing = False
            heap = self._heap  # (a flush may have made it anew)
            while heap and heap[0][2] is None:
                heapq.heappop(heap)
                self._stale -= 1
            if heap:
                self._arm(heap[0][0])

    def close(self) -> None:
        """Forget every connection and disarm the timer."""
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._timer_due = None, float("inf")
        for entry in self._live.values():
            entry[2].paced_at = None
        self._heap.clear()
        self._live.clear()
        self._stale = 0
