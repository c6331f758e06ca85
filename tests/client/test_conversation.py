"""Conversation over real sockets: the goAway timer, reconnecting (old socket first, newest handle), metrics."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from helpers import ws_server
from websockets.asyncio.server import ServerConnection

from livecli.client.conversation import Conversation, ReconnectNow, go_away_margin
from livecli.errors import ConnectError
from livecli.protocol import server_messages as sm
from livecli.protocol.client_messages import SetupConfig
from livecli.protocol.endpoints import Target
from livecli.protocol.report import Reporter, TurnReport

SETUP = SetupConfig(model="models/gemini-3.8-live")


class Reports(Reporter):
    """Keeps the turn reports."""

    def __init__(self) -> None:
        self.turns: list[TurnReport] = []

    def turn_complete(self, report: TurnReport) -> None:
        self.turns.append(report)


@asynccontextmanager
async def scripted(after_setup: list[bytes]) -> AsyncIterator[tuple[str, list[Any]]]:
    """A server that answers setup with setupComplete + `after_setup`, then only listens.

    Yields its URL and a log of ("open", n), ("setup", n, body), ("closed", n) in the order they happened.
    """
    log: list[Any] = []
    count = 0

    async def handler(ws: ServerConnection) -> None:
        nonlocal count
        count += 1
        n = count
        log.append(("open", n))
        try:
            async for message in ws:
                body = json.loads(message)
                if "setup" in body:
                    log.append(("setup", n, body["setup"]))
                    await ws.send(sm.setup_complete())
                    for frame in after_setup:
                        await ws.send(frame)
        finally:
            log.append(("closed", n))

    async with ws_server(handler) as (url, _):
        yield url, log


def local_target(url: str) -> Target:
    return Target(url, {}, SETUP.model, "local", (), False)


async def opened(url: str, renderer: Reporter | None = None) -> Conversation:
    conv = Conversation(SETUP, renderer or Reporter(), asyncio.get_running_loop().time)
    await conv.open(local_target(url), timeout=5, environ={})
    return conv


def test_go_away_margin_leaves_room_to_reconnect() -> None:
    """A quarter of the time left, at most 5 s: 50 s → 5 s early; 1 s → 0.25 s early."""
    assert go_away_margin(50.0) == 5.0
    assert go_away_margin(1.0) == 0.25


@pytest.mark.timeout(10)
async def test_go_away_deadline_fires_without_another_server_message() -> None:
    """After goAway the server says nothing more; waiting for a reply still ends at the deadline (peers §B2)."""
    async with scripted([sm.resumption_update("h1", True), sm.go_away(0.4)]) as (url, _):
        conv = await opened(url)
        conv.force_reconnect = True
        loop = asyncio.get_running_loop()
        while not conv.go_away_pending:
            await conv.poll(0.01)
        attempt = conv.session.label_input(1, "text")
        await conv.send(conv.session.text("hello"))
        started = loop.time()
        with pytest.raises(ReconnectNow):
            await conv.wait_reply(attempt, settle_s=0, timeout_s=30)
        assert loop.time() - started >= 0.2  # 0.4 s left less the 0.1 s margin, measured from goAway
        with pytest.raises(ReconnectNow):
            await conv.send(conv.session.text("again"))
        await conv.close()


@pytest.mark.timeout(10)
async def test_without_budget_the_deadline_does_not_interrupt() -> None:
    """force_reconnect off (no reconnects left): the reply wait runs to its own timeout instead."""
    from livecli.errors import NoReplyError

    async with scripted([sm.go_away(0.1)]) as (url, _):
        conv = await opened(url)
        while not conv.go_away_pending:
            await conv.poll(0.01)
        attempt = conv.session.label_input(1, "text")
        await conv.send(conv.session.text("hello"))
        with pytest.raises(NoReplyError):
            await conv.wait_reply(attempt, settle_s=0, timeout_s=0.3)
        await conv.close()


@pytest.mark.timeout(10)
async def test_reconnect_closes_the_old_socket_first_and_resumes_with_the_newest_handle() -> None:
    """The old connection is closed before the new upgrade; the new setup carries the latest resumable handle."""
    frames = [
        sm.resumption_update("old", True),
        sm.resumption_update("", False),
        sm.resumption_update("new", True),
    ]

    async with scripted(frames) as (url, log):
        conv = await opened(url)
        while conv.session.resume_handle != "new":
            await conv.poll(0.01)
        await conv.reconnect(local_target(url), timeout=5, environ={})
        await conv.close()
        await asyncio.sleep(0.05)
        order = [entry[:2] for entry in log]
        assert order.index(("closed", 1)) < order.index(("open", 2))
        setups = [entry[2] for entry in log if entry[0] == "setup"]
        assert setups[0]["sessionResumption"] == {}
        assert setups[1]["sessionResumption"] == {"handle": "new"}
        assert [entry for entry in log if entry[0] == "open"] == [("open", 1), ("open", 2)]
        assert not conv.go_away_pending


@pytest.mark.timeout(10)
async def test_turn_report_carries_latency_milestones() -> None:
    """A reply that opens with silence: TTFA comes after TTFB; transcription and completion are measured."""
    quiet, loud = b"\x00\x00" * 2400, b"\x00\x40" * 2400
    reply = [
        sm.input_transcription("[text]"),
        sm.audio_content(quiet),
        sm.audio_content(loud),
        sm.generation_complete(),
        sm.turn_complete({"totalTokenCount": 7}),
    ]

    reports = Reports()
    async with scripted([]) as (url, _):
        conv = await opened(url, reports)
        await conv.send(conv.session.text("hi"))
        assert conv.link is not None
        # Play the server: frames fed as if received, 50 ms apart.
        for frame in reply:
            await asyncio.sleep(0.05)
            conv._handle(conv.session.receive(frame))
        await conv.close()
    (report,) = reports.turns
    metrics = report.metrics
    assert metrics is not None
    assert metrics.ttfb_s is not None
    assert metrics.ttfa_s is not None
    assert metrics.ttfa_s - metrics.ttfb_s >= 0.04
    assert metrics.first_input_transcription_s is not None
    assert metrics.turn_complete_s is not None
    assert metrics.turn_complete_s >= metrics.ttfa_s
    assert metrics.realtime_factor is not None
    assert metrics.realtime_factor > 0
    assert report.turn.usage is not None
    assert report.turn.usage.raw == {"totalTokenCount": 7}


@pytest.mark.timeout(10)
async def test_setup_never_answered_times_out_within_the_connect_timeout_and_closes_the_socket() -> None:
    """--connect-timeout covers setupComplete too: a server that upgrades but never answers the setup gives a
    ConnectError naming that phase, and the socket is closed (not left open to the quota)."""
    closed = asyncio.Event()

    async def mute(ws: ServerConnection) -> None:
        with contextlib.suppress(Exception):
            async for _ in ws:
                pass
        closed.set()

    async with ws_server(mute) as (url, _):
        conv = Conversation(SETUP, Reporter(), asyncio.get_running_loop().time)
        with pytest.raises(ConnectError, match=r"timed out after 0\.3 s waiting for setupComplete from 127"):
            await conv.open(local_target(url), timeout=0.3, environ={})
        async with asyncio.timeout(5):
            await closed.wait()


@pytest.mark.timeout(10)
async def test_a_slow_reply_longer_than_the_timeout_is_not_cut() -> None:
    """--timeout is the longest silence, not the reply's total time: 12 chunks 50 ms apart (0.6 s) complete
    under a 0.5 s timeout."""

    async def slow(ws: ServerConnection) -> None:
        await ws.recv()
        await ws.send(sm.setup_complete())
        await ws.recv()  # the text turn
        for _ in range(12):
            await ws.send(sm.audio_content(b"\x01\x00" * 1200))
            await asyncio.sleep(0.05)
        await ws.send(sm.turn_complete())
        await ws.wait_closed()

    async with ws_server(slow) as (url, _):
        conv = await opened(url)
        attempt = conv.session.label_input(1, "text")
        await conv.send(conv.session.text("hello"))
        started = asyncio.get_running_loop().time()
        (turn,) = await conv.wait_reply(attempt, settle_s=0, timeout_s=0.5)
        assert asyncio.get_running_loop().time() - started >= 0.5
        assert len(turn.audio) == 12 * 2400
        await conv.close()
