"""Wakeup: the timer's sleep until its deadline or until new input (livecli.server.wakeup)."""

from __future__ import annotations

import asyncio
import contextlib

from livecli.server.wakeup import Wakeup


async def test_a_wait_returns_at_its_timeout_without_raising() -> None:
    wake = Wakeup()
    await asyncio.wait_for(wake.wait(0.01), 5)  # returns (a generous guard, not a speed)


async def test_set_wakes_a_waiter_and_a_set_before_the_wait_returns_at_once() -> None:
    wake = Wakeup()
    waiter = asyncio.ensure_future(wake.wait(None))
    await asyncio.sleep(0)
    assert not waiter.done()
    wake.set()
    await asyncio.wait_for(waiter, 5)
    await asyncio.wait_for(wake.wait(None), 5)  # still set: no waiting
    wake.clear()
    again = asyncio.ensure_future(wake.wait(None))
    await asyncio.sleep(0)
    assert not again.done()  # cleared: waits again
    again.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await again
