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
from typing import Protocol

__all__ = ["TICK_S", "Paced", "Pacer"]

TICK_S = 0.002


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
    injected clock that jumps ahead is noticed."""

    def __init__(self, clock: Callable[[], float], poll: float | None = None) -> None:
        self._clock = clock
        self._poll = poll
        self._heap: list[tuple[float, int, Paced]] = []
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
        paced.paced_at = due  # an older entry for it is now stale and skipped
        if due is None:
            return
        heapq.heappush(self._heap, (due, next(self._order), paced))
        if not self._firing and _tick_of(due) < self._timer_due:  # (the armed tick or earlier: left alone)
            self._arm(due)

    def forget(self, paced: Paced) -> None:
        """Drop `paced` for good (its connection ended): its entries go now, so nothing of it is kept."""
        paced.paced_at = None
        self._heap = [entry for entry in self._heap if entry[2] is not paced]
        heapq.heapify(self._heap)

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
            due, _, paced = heapq.heappop(heap)
            if paced.paced_at == due:  # else stale: rescheduled since
                paced.paced_at = None
                due_now.append(paced)
        self._firing = True
        try:
            for paced in due_now:  # each reschedules itself for its next deadline (a flush never raises)
                paced.flush()
        finally:
            self._firing = False
            heap = self._heap  # (a flush may have made it anew)
            while heap and heap[0][2].paced_at != heap[0][0]:
                heapq.heappop(heap)
            if heap:
                self._arm(heap[0][0])

    def close(self) -> None:
        """Forget every connection and disarm the timer."""
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._timer_due = None, float("inf")
        for _, _, paced in self._heap:
            paced.paced_at = None
        self._heap.clear()
