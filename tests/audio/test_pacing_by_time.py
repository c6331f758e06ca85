"""Pacer.wait_until: deadlines by presentation time (a video's frames and audio on one clock)."""

from __future__ import annotations

import pytest

from livecli.audio.pacing import Pacer
from tests.audio.test_pacing import FakeClock, drive


def test_wait_until_sleeps_to_the_items_time_scaled_by_speed() -> None:
    clock = FakeClock()
    pacer = Pacer(0.04, 2.0, clock=clock, sleep=clock.sleep, spin_s=0)

    async def go() -> list[float]:
        woke = []
        for t in (0.0, 0.5, 0.52, 2.0):
            await pacer.wait_until(t)
            woke.append(clock.now - 100.0)
        return woke

    woke = drive(go())
    assert woke[0] == pytest.approx(0.0, abs=1e-4)
    assert woke[1:] == pytest.approx([0.25, 0.26, 1.0], abs=1e-4)


def test_wait_until_and_wait_name_the_same_deadline() -> None:
    by_index, by_time = FakeClock(), FakeClock()
    a = Pacer(0.04, 1.0, clock=by_index, sleep=by_index.sleep, spin_s=0)
    b = Pacer(0.04, 1.0, clock=by_time, sleep=by_time.sleep, spin_s=0)
    for i in range(5):
        drive(a.wait(i))
        drive(b.wait_until(i * 0.04))
    assert by_time.now == pytest.approx(by_index.now, abs=1e-9)


def test_never_early_and_late_items_do_not_wait() -> None:
    clock = FakeClock()
    pacer = Pacer(0.04, 1.0, clock=clock, sleep=clock.sleep, spin_s=0)
    drive(pacer.wait_until(0.0))
    clock.work(1.0)  # sending took a second
    assert pacer.due_at(0.9)
    assert not pacer.due_at(1.5)
    sleeps = len(clock.sleeps)
    assert drive(pacer.wait_until(0.9)) == pytest.approx(0.1)
    assert len(clock.sleeps) == sleeps


def test_unpaced_never_waits_and_everything_is_due() -> None:
    clock = FakeClock()
    pacer = Pacer(0.04, 0.0, clock=clock, sleep=clock.sleep)
    assert drive(pacer.wait_until(3600.0)) == 0.0
    assert pacer.due_at(3600.0)
    assert clock.sleeps == []
