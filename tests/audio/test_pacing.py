"""The pacer on a fake clock: never early, lateness bounded by one wake-up, no drift, speed 0 never waits."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livecli.audio.pacing import Pacer

T = TypeVar("T")


def drive(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that only awaits the fake clock's sleep, which never suspends: no event loop needed (an
    asyncio.run per hypothesis example, in the suite's debug mode, cost most of this file's time)."""
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    coro.close()
    raise AssertionError("the pacer suspended on something other than the fake clock")


class FakeClock:
    """A clock that only moves when the pacer sleeps; each wake-up is late by the next value of `jitter`."""

    def __init__(self, jitter: list[float] | None = None, start: float = 100.0) -> None:
        self.now = start
        self.jitter = list(jitter or [])
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        late = self.jitter.pop(0) if self.jitter else 0.0
        # Any sleep, even sleep(0), takes a little time, like a trip round the event loop.
        self.now += max(seconds, 1e-5) + late

    def work(self, seconds: float) -> None:
        """Time spent sending a chunk."""
        self.now += seconds


def pace(pacer: Pacer, clock: FakeClock, count: int, work: Callable[[int], float] = lambda i: 0.0) -> list[float]:
    """Wait for chunks 0..count-1, spending `work(i)` after chunk i; returns each wait's reported lateness."""

    async def go() -> list[float]:
        lateness = []
        for i in range(count):
            lateness.append(await pacer.wait(i))
            clock.work(work(i))
        return lateness

    return drive(go())


def test_speed_zero_never_sleeps() -> None:
    """--speed 0 returns at once and never calls sleep."""
    clock = FakeClock()
    assert pace(Pacer(0.04, 0, clock=clock, sleep=clock.sleep), clock, 100) == [0.0] * 100
    assert clock.sleeps == []
    assert clock.now == 100.0


def test_first_chunk_is_due_at_once_and_deadlines_are_absolute() -> None:
    """Chunk 0 goes at t0; chunk i at t0 + i*chunk_s/speed, whatever the send time was."""
    clock = FakeClock()
    pacer = Pacer(0.04, 2.0, clock=clock, sleep=clock.sleep, spin_s=0)
    sent_at: list[float] = []

    def send(i: int) -> float:
        sent_at.append(clock.now)
        return 0.003

    pace(pacer, clock, 10, work=send)
    assert sent_at == pytest.approx([100.0 + i * 0.02 for i in range(10)])


def test_late_chunk_does_not_shift_later_deadlines() -> None:
    """A 100 ms stall makes the next chunks go at once, then the schedule resumes where it was."""
    clock = FakeClock()
    pacer = Pacer(0.04, 1.0, clock=clock, sleep=clock.sleep, spin_s=0)
    lateness = pace(pacer, clock, 10, work=lambda i: 0.1 if i == 2 else 0.0)
    assert lateness[3] == pytest.approx(0.06)
    assert lateness[4] == pytest.approx(0.02)
    assert lateness[5] == 0.0
    assert clock.now == pytest.approx(100.0 + 9 * 0.04)


def test_the_last_millisecond_is_spent_yielding_not_on_a_timer() -> None:
    """A timer (which epoll rounds up to whole ms) stops spin_s early; sleep(0) yields cover the rest."""
    clock = FakeClock()
    pacer = Pacer(0.04, 1.0, clock=clock, sleep=clock.sleep, spin_s=0.001)
    lateness = pace(pacer, clock, 2)
    assert clock.sleeps[0] == pytest.approx(0.039)
    assert clock.sleeps[1:]
    assert max(clock.sleeps[1:]) < 1e-9  # sleep(0), up to float rounding
    assert 0 <= lateness[1] < 2e-5


def test_invalid_arguments() -> None:
    """Negative speed and non-positive chunk durations are refused."""
    with pytest.raises(ValueError):
        Pacer(0.04, -1)
    with pytest.raises(ValueError):
        Pacer(0, 1)


@settings(max_examples=60, deadline=None)
@given(
    chunk_ms=st.integers(10, 1000),
    speed=st.sampled_from([0.5, 1.0, 1.5, 4.0]),
    spin_ms=st.sampled_from([0.0, 1.0]),
    jitter=st.lists(st.floats(0, 0.004), min_size=0, max_size=200),
    work_fraction=st.floats(0, 0.9),
)
def test_never_early_and_drift_bounded(
    chunk_ms: int, speed: float, spin_ms: float, jitter: list[float], work_fraction: float
) -> None:
    """For any timer jitter, no chunk goes before its deadline and none is later than one wake-up's jitter."""
    clock = FakeClock(jitter)
    chunk_s = chunk_ms / 1000
    pacer = Pacer(chunk_s, speed, clock=clock, sleep=clock.sleep, spin_s=spin_ms / 1000)
    n = 60
    # Sending a chunk takes less time than the chunk lasts (otherwise no schedule can be kept).
    work = work_fraction * chunk_s / speed

    async def go() -> None:
        for i in range(n):
            late = await pacer.wait(i)
            due = 100.0 + i * chunk_s / speed
            assert clock.now >= due - 1e-9, "early"
            assert late == pytest.approx(clock.now - due, abs=1e-9)
            # Lateness never accumulates: at most the last wake-up's jitter plus one send and one sleep(0).
            assert clock.now - due <= 0.004 + work + 2e-5
            clock.work(work)

    drive(go())


def test_due_tells_whether_a_chunk_may_go_without_waiting() -> None:
    """Unpaced: always due. Paced: chunk i is due once the clock reaches t0 + i*chunk_s/speed."""
    clock = FakeClock()
    assert Pacer(0.04, 0, clock=clock, sleep=clock.sleep).due(10**6)
    pacer = Pacer(0.04, 1.0, clock=clock, sleep=clock.sleep)
    assert not pacer.due(1)  # no t0 before the first wait
    pace(pacer, clock, 1)
    assert not pacer.due(1)
    clock.work(0.04)
    assert pacer.due(1)
    assert not pacer.due(2)


async def test_only_one_pacer_spins_while_others_sleep_to_their_deadline() -> None:
    """Hundreds of sessions in one loop (batch): a second pacer near its deadline sleeps instead of spinning."""
    now = [0.0]
    released = asyncio.Event()
    slept: dict[str, list[float]] = {"first": [], "second": []}

    def sleeper(name: str) -> Callable[[float], Awaitable[None]]:
        async def sleep(seconds: float) -> None:
            slept[name].append(seconds)
            if name == "first":
                await released.wait()  # still spinning while the second pacer reaches its deadline
            now[0] = 1.0

        return sleep

    first = Pacer(0.04, 1.0, clock=lambda: now[0], sleep=sleeper("first"))
    second = Pacer(0.04, 1.0, clock=lambda: now[0], sleep=sleeper("second"))
    spinning = asyncio.ensure_future(first.wait_until(0.0005))
    await asyncio.sleep(0)
    await second.wait_until(0.0005)
    released.set()
    await spinning
    assert slept["first"] == [0]
    assert slept["second"] == [pytest.approx(0.0005)]
    assert Pacer._spinners == 0
