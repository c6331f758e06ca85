"""Real-time pacing: chunk i is due at t0 + i × chunk_s / speed (or anything at t0 + t / speed), on absolute
deadlines.

Sleeping `chunk_s` after each send accumulates every sleep's lateness (timer slack, send time, GC pauses) into
drift; recomputing each deadline from the clock keeps the error of chunk i to the lateness of one wake-up.
Standard library only; the clock and sleep are injectable so tests run on a fake clock.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

__all__ = ["MAX_DUE_AT_ONCE", "Pacer"]

# Messages already due (unpaced, or catching up) leave together in one write, at most this many at a time (a
# second of 40 ms chunks), so the sender gets back to the replies between writes.
MAX_DUE_AT_ONCE = 25

# asyncio wakes timers up to ~1 ms late (epoll rounds its timeout up to whole milliseconds); sleeping until
# this much before the deadline and then yielding with sleep(0) keeps lateness well under a millisecond. Only one
# pacer of a process spins at a time: with hundreds of sessions in one loop (`livecli batch`) every chunk's spin
# kept the loop busy, and the CPU it took made every session later; the others sleep to their deadline (~1 ms
# late at worst).
DEFAULT_SPIN_S = 0.001


class Pacer:
    """Waits until chunk i is due; `speed` 1.0 is real time, 0 means as fast as possible.

    Args:
        chunk_s: the duration of one chunk in seconds.
        speed: playback-speed factor (> 0), or 0 for no pacing at all.
        clock: a monotonic clock in seconds.
        sleep: an async sleep taking seconds.
        spin_s: how long before a deadline to stop sleeping and yield with sleep(0) instead (0 disables).
    """

    _spinners = 0  # pacers of this process spinning right now (see DEFAULT_SPIN_S)

    def __init__(
        self,
        chunk_s: float,
        speed: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        spin_s: float = DEFAULT_SPIN_S,
    ) -> None:
        if chunk_s <= 0:
            raise ValueError("chunk_s must be > 0")
        if speed < 0:
            raise ValueError("speed must be >= 0")
        self.chunk_s = chunk_s
        self.speed = speed
        self._clock = clock
        self._sleep = sleep
        self._spin_s = spin_s
        self._t0: float | None = None
        # Precomputed so `speed == 0` never divides.
        self._step = chunk_s / speed if speed else 0.0

    def due(self, i: int) -> bool:
        """Whether chunk i may be sent now without waiting (always, when unpaced)."""
        return not self.speed or (self._t0 is not None and self._t0 + i * self._step <= self._clock())

    def due_at(self, t_s: float) -> bool:
        """Whether what is due `t_s` seconds into the input (at speed 1) may be sent now (always, when unpaced)."""
        return not self.speed or (self._t0 is not None and self._t0 + t_s / self.speed <= self._clock())

    async def wait(self, i: int) -> float:
        """Wait until chunk i is due; returns how late the wake-up was, in seconds (0 when unpaced)."""
        if not self.speed:
            return 0.0
        if self._t0 is None:
            self._t0 = self._clock()
        return await self._wait_for(self._t0 + i * self._step)

    async def wait_until(self, t_s: float) -> float:
        """Wait until `t_s` seconds into the input (at speed 1; a video's frames and audio share this clock).

        Returns how late the wake-up was, in seconds (0 when unpaced). The first wait starts the clock, like
        `wait`'s, so `wait(i)` and `wait_until(i * chunk_s)` name the same deadline.
        """
        if not self.speed:
            return 0.0
        if self._t0 is None:
            self._t0 = self._clock()
        return await self._wait_for(self._t0 + t_s / self.speed)

    async def _wait_for(self, due: float) -> float:
        spinning = False
        try:
            while True:
                remaining = due - self._clock()
                if remaining <= 0:
                    return -remaining
                if remaining > self._spin_s:
                    await self._sleep(remaining - self._spin_s)
                elif spinning or not Pacer._spinners:
                    if not spinning:
                        spinning = True
                        Pacer._spinners += 1
                    await self._sleep(0)
                else:  # another pacer spins already: sleep to the deadline instead
                    await self._sleep(remaining)
        finally:
            if spinning:
                Pacer._spinners -= 1
