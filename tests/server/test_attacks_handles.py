"""Resumption handles (issue 12, section 3): a client issuing handles without end keeps only its newest, the store
stays bounded, and another session's handle still resolves; a bystander is served meanwhile."""

from __future__ import annotations

import asyncio
import contextlib
import json

from bystander import GUARD, bystander, drain
from helpers import local_server

from livecli.server.probe import Probe
from livecli.server.resumption import HandleStore, Snapshot
from livecli.server.transparent import KEPT_STATES

KEY = {"x-goog-api-key": "KEY-1"}
FLOOD = 400


async def _session_with_handle(url: str) -> tuple[Probe, str]:
    probe = await Probe.open(url, headers=KEY)
    await probe.setup(sessionResumption={})
    while True:
        update = (await probe.recv(GUARD)).get("sessionResumptionUpdate")
        if update and update.get("newHandle"):
            return probe, update["newHandle"]


async def test_a_handle_flood_keeps_another_sessions_handle_and_the_store_bounded() -> None:
    with local_server(require_key="KEY-1") as server:
        ended, ended_handle = await _session_with_handle(server.url)
        await ended.close()  # its handle stays valid for 2 h after the session ends
        live, live_handle = await _session_with_handle(server.url)
        attacker, _ = await _session_with_handle(server.url)
        counts: dict[str, int] = {}
        reader = asyncio.create_task(drain(attacker, counts))
        turn = json.dumps({"realtimeInput": {"text": "again"}})
        for _ in range(FLOOD):  # every turn is answered with new handles
            await attacker.send(turn)
        served = await asyncio.wait_for(bystander(server.url, headers=KEY), GUARD)
        answered_then = counts.get("turnComplete", 0)
        while counts.get("turnComplete", 0) < FLOOD:
            await asyncio.sleep(0.01)
        running = server.thread.running
        assert running is not None
        held = len(running.store)
        attacker.ws.transport.abort()
        with contextlib.suppress(Exception):
            await reader
        resumed = await Probe.open(server.url, headers=KEY)
        await resumed.setup(sessionResumption={"handle": ended_handle})
        await resumed.close()
        again = await Probe.open(server.url, headers=KEY)
        await again.setup(sessionResumption={"handle": live_handle})
        await again.close()
        await live.close()
    assert served.input_transcripts == ["still served"]
    assert answered_then < FLOOD  # served while the attacker's turns were still being answered
    assert held <= 4 * KEPT_STATES  # four sessions' newest handles at most, not one per turn


def _snapshot(session: str) -> Snapshot:
    return Snapshot(0, session_id=session)


def test_the_store_is_bounded_and_never_drops_a_connected_sessions_newest_handle() -> None:
    store = HandleStore(7200, max_handles=20)
    store.opened("live")
    live = store.issue(_snapshot("live"), 0.0)
    for index in range(500):  # sessions that come and go, each issuing handles
        session = f"s{index}"
        store.opened(session)
        for _ in range(3):
            store.issue(_snapshot(session), float(index))
        store.closed(session, float(index))
        assert len(store) <= 20
    assert store.resolve(live, 500.0) is not None
    assert len(store._expiry) <= 501  # one expiry entry per session, not one per handle


def test_only_a_sessions_newest_handles_resolve() -> None:
    store = HandleStore(7200)
    store.opened("one")
    handles = [store.issue(_snapshot("one"), float(t)) for t in range(KEPT_STATES + 5)]
    assert all(store.resolve(h, 100.0) is not None for h in handles[-KEPT_STATES:])
    assert all(store.resolve(h, 100.0) is None for h in handles[:-KEPT_STATES])
    assert len(store._expiry) == 1


def test_handles_expire_ttl_after_the_last_connection_closes() -> None:
    store = HandleStore(10)
    store.opened("one")
    handle = store.issue(_snapshot("one"), 0.0)
    assert store.resolve(handle, 50.0) is not None  # open: no expiry
    store.closed("one", 50.0)
    assert store.resolve(handle, 59.0) is not None
    assert store.resolve(handle, 61.0) is None
