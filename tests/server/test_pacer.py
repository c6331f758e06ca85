"""The server's Pacer (livecli.server.pacer): one timer for every connection, fired at the end of the 2 ms tick of
the earliest deadline; each connection flushed once, in deadline order, never before its deadline.

Most tests run the Pacer on a virtual clock: its loop timers are caught (`VirtualTimers`) and fire only when the
test moves the clock past them, at the time they were armed for, so what is flushed when is exact. Two tests use
real loop timers: the injected clock that jumps (`poll`), and the tick on the real clock."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Callable
from contextvars import Context
from dataclasses import dataclass, field
from typing import Any

import pytest

from livecli.server.pacer import STALE_SLACK, TICK_S, Pacer

GUARD = 5.0  # stops a broken pacer from hanging a real-timer test; far above any time a working one needs
MAX_FIRINGS = 1000  # firings in one advance: past this the pacer re-arms without end


class Conn:
    """A connection as the Pacer sees it: it logs (name, clock) when flushed, then runs `then` (a reschedule)."""

    def __init__(self, name: str, log: list[tuple[str, float]], clock: Callable[[], float]) -> None:
        self.paced_at: float | None = None
        self.name = name
        self.log = log
        self.clock = clock
        self.then: Callable[[], None] | None = None

    def flush(self) -> None:
        self.log.append((self.name, self.clock()))
        if self.then is not None:
            self.then()


def rescheduler(pacer: Pacer, conn: Conn, due: float) -> Callable[[], None]:
    """A `then` for `conn`: reschedule it for `due` (from inside its flush)."""
    return lambda: pacer.schedule(conn, due)


@dataclass
class Armed:
    at: float  # on the virtual clock
    callback: Callable[[], object]
    handle: asyncio.TimerHandle
    fired: bool = False

    @property
    def live(self) -> bool:
        return not self.fired and not self.handle.cancelled()


@dataclass
class VirtualTimers:
    """The Pacer's loop timers on the virtual clock `now`: caught from loop.call_later (other callers, such as
    asyncio.sleep, get the real one) and fired by `advance`, each at the time it was armed for. `monkeypatch` (the
    test's) undoes the catch after the test."""

    now: list[float]
    monkeypatch: pytest.MonkeyPatch
    armed: list[Armed] = field(default_factory=list)

    def install(self) -> None:
        loop = asyncio.get_running_loop()
        real = loop.call_later

        def call_later(
            delay: float, callback: Callable[..., object], *args: Any, context: Context | None = None
        ) -> asyncio.TimerHandle:
            if not isinstance(getattr(callback, "__self__", None), Pacer):
                return real(delay, callback, *args, context=context)
            assert not args
            assert self.live() is None, "a second timer armed while one was live"
            handle = asyncio.TimerHandle(loop.time() + delay, callback, (), loop)  # never scheduled on the loop
            self.armed.append(Armed(self.now[0] + delay, callback, handle))
            return handle

        self.monkeypatch.setattr(loop, "call_later", call_later)

    def live(self) -> Armed | None:
        """The one timer armed and neither fired nor cancelled, if any."""
        live = [armed for armed in self.armed if armed.live]
        assert len(live) <= 1, "more than one timer live"
        return live[0] if live else None

    def advance(self, to: float) -> None:
        """Move the clock to `to`, firing on the way every timer due, at the time it was armed for."""
        for _ in range(MAX_FIRINGS):
            armed = self.live()
            if armed is None or armed.at > to:
                self.now[0] = to
                return
            self.now[0] = max(self.now[0], armed.at)
            armed.fired = True
            armed.callback()
        raise AssertionError(f"the pacer fired {MAX_FIRINGS} times without the clock moving past {to}")


@dataclass
class Virtual:
    pacer: Pacer
    timers: VirtualTimers
    log: list[tuple[str, float]]
    now: list[float]

    def conn(self, name: str) -> Conn:
        return Conn(name, self.log, lambda: self.now[0])

    def names(self) -> list[str]:
        return [name for name, _ in self.log]

    def run_out(self) -> list[str]:
        """Move the clock to 1 s, past every deadline of a test: the names flushed on the way, in order."""
        self.timers.advance(1.0)
        return self.names()

    def timeline(self) -> list[tuple[str, float]]:
        """(name, clock) of each flush, the clock rounded to the nanosecond (float sums are a hair off)."""
        return [(name, round(when, 9)) for name, when in self.log]


@pytest.fixture
def virtual(monkeypatch: pytest.MonkeyPatch) -> Virtual:
    """A Pacer on a virtual clock at 0.0 (its timers are caught from inside the test's running loop: `start`)."""
    now = [0.0]
    return Virtual(Pacer(lambda: now[0]), VirtualTimers(now, monkeypatch), [], now)


def start(virtual: Virtual) -> Virtual:
    virtual.timers.install()
    return virtual


async def test_connections_are_flushed_in_deadline_order_each_once(virtual: Virtual) -> None:
    v = start(virtual)
    dues = {"c": 0.050, "a": 0.010, "e": 0.090, "b": 0.030, "d": 0.070}
    for name, due in dues.items():
        v.pacer.schedule(v.conn(name), due)
    assert v.run_out() == ["a", "b", "c", "d", "e"]
    assert len(v.pacer) == 0
    assert v.timers.live() is None


async def test_connections_due_in_one_tick_are_flushed_in_one_firing_in_deadline_order(virtual: Virtual) -> None:
    v = start(virtual)
    for name, due in {"late": 0.0039, "early": 0.0021, "mid": 0.003}.items():
        v.pacer.schedule(v.conn(name), due)
    v.timers.advance(0.01)
    assert v.timeline() == [
        ("early", 0.004),
        ("mid", 0.004),
        ("late", 0.004),
    ]
    assert len(v.timers.armed) == 1


async def test_a_rescheduled_connection_is_flushed_at_its_new_time_only(virtual: Virtual) -> None:
    v = start(virtual)
    later, earlier, dropped = v.conn("later"), v.conn("earlier"), v.conn("dropped")
    v.pacer.schedule(later, 0.010)
    v.pacer.schedule(earlier, 0.040)
    v.pacer.schedule(dropped, 0.025)
    v.pacer.schedule(later, 0.030)
    v.pacer.schedule(earlier, 0.020)
    v.pacer.schedule(dropped, None)
    assert len(v.pacer) == 5  # the stale entries stay until they come up
    v.timers.advance(0.019)
    assert v.timeline() == []  # later's stale 0.010 was skipped
    v.timers.advance(0.029)
    assert v.timeline() == [("earlier", 0.020)]
    v.timers.advance(1.0)
    assert v.timeline() == [("earlier", 0.020), ("later", 0.030)]
    assert len(v.pacer) == 0


async def test_a_connection_rescheduled_to_its_stale_deadline_is_flushed_once(virtual: Virtual) -> None:
    v = start(virtual)
    conn = v.conn("back")
    for due in (0.010, 0.050, 0.010):  # two live-looking entries at 0.010 and a stale one at 0.050
        v.pacer.schedule(conn, due)
    assert v.run_out() == ["back"]


async def test_the_timer_fires_at_the_end_of_the_tick_never_before_the_deadline(virtual: Virtual) -> None:
    v = start(virtual)
    v.pacer.schedule(v.conn("a"), 0.0031)  # in the tick 0.002..0.004
    v.timers.advance(0.0035)
    assert v.timeline() == []  # the clock passed the deadline, but the timer is armed for the tick's end
    v.timers.advance(0.0041)
    assert v.timeline() == [("a", 2 * TICK_S)]


async def test_a_deadline_on_a_tick_is_not_put_off_to_the_next(virtual: Virtual) -> None:
    v = start(virtual)
    v.now[0] = 0.0001
    v.pacer.schedule(v.conn("a"), 0.004)
    armed = v.timers.live()
    assert armed is not None
    assert armed.at == pytest.approx(0.004)


async def test_nothing_is_flushed_before_its_deadline(virtual: Virtual) -> None:
    v = start(virtual)
    # c31's deadline, 0.022000000000000002, is one ulp past a tick's end.
    dues = {f"c{i}": 0.0007 * i + 0.0003 for i in range(1, 40)}
    for name, due in dues.items():
        v.pacer.schedule(v.conn(name), due)
    assert sorted(v.run_out()) == sorted(dues)
    assert all(when >= dues[name] for name, when in v.log)
    assert all(when - dues[name] < TICK_S + 1e-9 for name, when in v.log)  # at most one tick late (virtual)


async def test_flushes_that_reschedule_during_a_firing_arm_the_timer_once(virtual: Virtual) -> None:
    v = start(virtual)
    conns = [v.conn(f"c{i}") for i in range(3)]
    for index, conn in enumerate(conns):
        v.pacer.schedule(conn, 0.001)
        conn.then = rescheduler(v.pacer, conn, 0.1 - 0.01 * index)
    v.timers.advance(0.002)
    assert v.names() == ["c0", "c1", "c2"]
    assert len(v.timers.armed) == 2  # the first timer, then one for the three new deadlines
    armed = v.timers.live()
    assert armed is not None
    assert armed.at == pytest.approx(0.08)  # the earliest of them, c2's


async def test_a_flush_rescheduling_itself_later_does_not_hide_an_earlier_connection(virtual: Virtual) -> None:
    """Regression: the connection flushed first reschedules itself during the firing; the other connection,
    already in the heap with an earlier deadline, must still be the one the timer is armed for."""
    v = start(virtual)
    first, waiting = v.conn("first"), v.conn("waiting")
    v.pacer.schedule(first, 0.010)
    v.pacer.schedule(waiting, 0.030)
    first.then = lambda: v.pacer.schedule(first, 0.500)
    v.timers.advance(0.2)
    assert v.timeline() == [("first", 0.010), ("waiting", 0.030)]
    armed = v.timers.live()
    assert armed is not None
    assert armed.at == pytest.approx(0.500)


async def test_a_flush_scheduling_another_connection_earlier_moves_the_timer(virtual: Virtual) -> None:
    v = start(virtual)
    first, waiting, newcomer = v.conn("first"), v.conn("waiting"), v.conn("newcomer")
    v.pacer.schedule(first, 0.010)
    v.pacer.schedule(waiting, 0.030)
    first.then = lambda: v.pacer.schedule(newcomer, 0.020)
    v.timers.advance(1.0)
    assert v.timeline() == [
        ("first", 0.010),
        ("newcomer", 0.020),
        ("waiting", 0.030),
    ]


async def test_scheduling_an_earlier_deadline_moves_the_armed_timer(virtual: Virtual) -> None:
    v = start(virtual)
    v.pacer.schedule(v.conn("late"), 0.100)
    v.pacer.schedule(v.conn("soon"), 0.010)
    armed = v.timers.live()
    assert armed is not None
    assert armed.at == pytest.approx(0.010)
    assert len(v.timers.armed) == 2  # the first one cancelled


async def test_forget_drops_every_entry_of_a_connection_and_lets_it_go(virtual: Virtual) -> None:
    v = start(virtual)
    gone, kept = v.conn("gone"), v.conn("kept")
    for due in (0.010, 0.020, 0.030):
        v.pacer.schedule(gone, due)
    v.pacer.schedule(kept, 0.015)
    before = len(v.pacer)
    v.pacer.forget(gone)
    after = len(v.pacer)
    ref = weakref.ref(gone)
    del gone
    gc.collect()
    assert before == 4
    assert after == 4  # its entries are stale now, dropped when they come up or the heap is rebuilt
    assert ref() is None  # ... and hold nothing of it
    assert v.run_out() == ["kept"]
    assert len(v.pacer) == 0


async def test_a_deadline_moved_back_and_forth_leaves_a_bounded_heap(virtual: Virtual) -> None:
    """A client that moves its deadline on every message (a turn, then an interruption) makes one stale entry
    each time: the heap is rebuilt once they are more than half of it, so it stays small."""
    v = start(virtual)
    conn = v.conn("a")
    sizes = []
    for index in range(2000):
        v.pacer.schedule(conn, 0.010 if index % 2 else 600.0)
        sizes.append(len(v.pacer))
    assert max(sizes) <= 1 + 2 * STALE_SLACK + 1
    assert v.run_out() == ["a"]


async def test_close_disarms_the_timer_and_flushes_nothing_afterwards(virtual: Virtual) -> None:
    v = start(virtual)
    conn = v.conn("a")
    v.pacer.schedule(conn, 0.010)
    v.pacer.close()
    assert v.timers.live() is None
    assert len(v.pacer) == 0
    assert conn.paced_at is None
    v.timers.advance(1.0)
    assert v.timeline() == []


async def test_close_disarms_the_real_loop_timer() -> None:
    log: list[tuple[str, float]] = []
    loop = asyncio.get_running_loop()
    pacer = Pacer(loop.time)
    pacer.schedule(Conn("a", log, loop.time), loop.time() + 0.005)
    pacer.close()
    await asyncio.sleep(0.05)
    assert log == []


async def test_the_timer_is_never_armed_before_the_deadline(virtual: Virtual) -> None:
    v = start(virtual)
    v.now[0] = 0.96
    due = 0.92 + 0.04
    v.pacer.schedule(v.conn("a"), due)
    v.timers.advance(0.96)  # the clock stands still short of the deadline: the timer waits, nothing is flushed
    assert v.timeline() == []
    armed = v.timers.live()
    assert armed is not None
    assert armed.at >= due


async def test_poll_notices_an_injected_clock_that_jumps_past_a_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    loop = asyncio.get_running_loop()
    real = loop.call_later
    delays: list[float] = []

    def call_later(
        delay: float, callback: Callable[..., object], *args: Any, context: Context | None = None
    ) -> asyncio.TimerHandle:
        if isinstance(getattr(callback, "__self__", None), Pacer):
            delays.append(delay)
        return real(delay, callback, *args, context=context)

    monkeypatch.setattr(loop, "call_later", call_later)
    now = [0.0]
    log: list[tuple[str, float]] = []
    pacer = Pacer(lambda: now[0], poll=0.005)
    try:
        pacer.schedule(Conn("a", log, lambda: now[0]), 60.0)  # a minute away on the injected clock
        now[0] = 61.0  # the clock jumps: no loop timer knows
        waited = 0.0
        while not log and waited < GUARD:  # GUARD is far below the minute a timer without poll would sleep
            await asyncio.sleep(0.005)
            waited += 0.005
    finally:
        pacer.close()
    assert log == [("a", 61.0)]
    assert max(delays) <= 0.005


async def test_on_the_loop_clock_a_flush_comes_at_the_end_of_its_tick() -> None:
    loop = asyncio.get_running_loop()
    log: list[tuple[str, float]] = []
    pacer = Pacer(loop.time)
    tick_start = (int(loop.time() / TICK_S) + 10) * TICK_S
    due = tick_start + TICK_S / 20  # just past a tick's start: the timer waits for its end
    try:
        pacer.schedule(Conn("a", log, loop.time), due)
        waited = 0.0
        while not log and waited < GUARD:
            await asyncio.sleep(0.001)
            waited += 0.001
    finally:
        pacer.close()
    assert [name for name, _ in log] == ["a"]
    assert log[0][1] >= tick_start + TICK_S - 1e-6  # (loop timers may fire a clock resolution early)
