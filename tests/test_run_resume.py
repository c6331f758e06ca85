"""When to reconnect (the retry table, backoff) and credential refresh before each reconnect."""

from __future__ import annotations

import asyncio
import threading

import pytest

from livecli.config import Target
from livecli.errors import ConnectError, CredentialsError, LivecliError, NoReplyError, ProtocolError, ServerClosed
from livecli.protocol.client_messages import SetupConfig
from livecli.render_base import Renderer
from livecli.run_resume import Connection, Resumer, backoff_s, retryable
from livecli.run_session import Conversation
from tests.conftest import LocalServer

QUOTA = "You exceeded your current quota, please check your plan and billing details."


@pytest.mark.parametrize(
    ("error", "after_go_away", "expected"),
    [
        (ServerClosed(1011, "Internal error encountered.", after_setup=True), False, True),
        (ServerClosed(1006, "", after_setup=True), False, True),
        (ServerClosed(1000, "", after_setup=True), False, True),
        (ServerClosed(1008, "", after_setup=True), True, True),
        (
            ServerClosed(1008, "Operation is not implemented, or supported, or enabled.", after_setup=True),
            False,
            False,
        ),
        (ServerClosed(1008, "", after_setup=False), True, False),
        (ServerClosed(1007, "Request contains an invalid argument.", after_setup=True), True, False),
        (ServerClosed(1011, QUOTA, after_setup=True), False, False),
        (ConnectError("cannot connect to h:1: Connection refused"), False, True),
        (ProtocolError("bad frame"), False, False),
        (CredentialsError("credentials refused: HTTP 401"), False, False),
        (NoReplyError("no reply"), False, False),
    ],
)
def test_only_transient_ends_are_retried(error: LivecliError, after_go_away: bool, expected: bool) -> None:
    """1011, drops, 1000 and 1008-after-goAway are retried; 1007, quota, credentials, bad frames never."""
    assert retryable(error, after_go_away=after_go_away) is expected


def test_backoff_doubles_from_half_a_second_to_four() -> None:
    assert [backoff_s(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_credentials_are_refreshed_in_a_thread_before_every_reconnect(live_server: LocalServer) -> None:
    """A Vertex-like target: each reconnect calls the refresher (off the event loop) and uses its headers."""
    calls: list[bool] = []
    seen: list[tuple[str, ...]] = []

    def refresher() -> tuple[dict[str, str], tuple[str, ...]]:
        calls.append(threading.current_thread() is not threading.main_thread())
        return {"Authorization": f"Bearer token-{len(calls)}"}, (f"token-{len(calls)}",)

    url = live_server.endpoint()
    target = Target(url, {}, "models/gemini-3.8-live", "vertex", (), False, refresher=refresher)

    async def go() -> None:
        conv = Conversation(SetupConfig(model=target.model), Renderer(), asyncio.get_running_loop().time)
        await conv.open(target, timeout=5, environ={})
        resumer = Resumer(
            conv, Connection(target, 5, {}), Renderer(), max_reconnects=2, enabled=True, on_secrets=seen.append
        )
        await resumer.reconnect("test", None, failed=False)
        await resumer.reconnect("test", None, failed=False)
        await conv.close()
        assert conv.connections == 3 and resumer.total == 2

    asyncio.run(go())
    assert calls == [True, True]
    assert seen == [("token-1",), ("token-2",)]


def test_disabled_resumer_never_reconnects(live_server: LocalServer) -> None:
    """--no-resume: a budget of 0 whatever --max-reconnects says."""

    async def go() -> None:
        conv = Conversation(SetupConfig(model="m"), Renderer(), asyncio.get_running_loop().time)
        target = Target(live_server.endpoint(), {}, "m", "local", (), False)
        resumer = Resumer(conv, Connection(target, 5, {}), Renderer(), max_reconnects=5, enabled=False)
        assert resumer.max_reconnects == 0

    asyncio.run(go())
