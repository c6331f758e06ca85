"""When to reconnect (the retry table, backoff) and credential refresh before each reconnect."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from helpers import LocalServer

from livecli.cli.exit_status import exit_status_for
from livecli.client.conversation import Conversation
from livecli.client.resume import Connection, Resumer, backoff_s, retryable
from livecli.errors import (
    ConnectError,
    CredentialsError,
    LivecliError,
    NoReplyError,
    ProtocolError,
    ServerClosed,
)
from livecli.protocol import server_messages as sm
from livecli.protocol.client_messages import SetupConfig
from livecli.protocol.endpoints import Target
from livecli.protocol.report import Reporter
from tests.client.per_connection import PerConnection, await_input_end, reply, send_to, skip_backoff
from tests.commands.send_helpers import HELLO_WAV

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


async def test_credentials_are_refreshed_in_a_thread_before_every_reconnect(live_server: LocalServer) -> None:
    """A Vertex-like target: each reconnect calls the refresher (off the event loop) and uses its headers."""
    calls: list[bool] = []
    seen: list[tuple[str, ...]] = []

    def refresher() -> tuple[dict[str, str], tuple[str, ...]]:
        calls.append(threading.current_thread() is not threading.main_thread())
        return {"Authorization": f"Bearer token-{len(calls)}"}, (f"token-{len(calls)}",)

    url = live_server.endpoint()
    target = Target(url, {}, "models/gemini-3.8-live", "vertex", (), False, refresher=refresher)

    conv = Conversation(SetupConfig(model=target.model), Reporter(), asyncio.get_running_loop().time)
    await conv.open(target, timeout=5, environ={})
    resumer = Resumer(
        conv, Connection(target, 5, {}), Reporter(), max_reconnects=2, enabled=True, on_secrets=seen.append
    )
    await resumer.reconnect("test", None, failed=False)
    await resumer.reconnect("test", None, failed=False)
    await conv.close()
    assert resumer.total == 2
    assert calls == [True, True]
    assert seen == [("token-1",), ("token-2",)]


def test_disabled_resumer_never_reconnects() -> None:
    """--no-resume: a budget of 0 whatever --max-reconnects says."""
    conv = Conversation(SetupConfig(model="m"), Reporter(), time.monotonic)
    target = Target("ws://127.0.0.1:9", {}, "m", "local", (), False)
    resumer = Resumer(conv, Connection(target, 5, {}), Reporter(), max_reconnects=5, enabled=False)
    assert resumer.max_reconnects == 0


@pytest.mark.parametrize("budget", [0, 2])
def test_a_connection_lost_between_inputs_is_resumed_or_reported(
    budget: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server closes 1011 right after answering the first input: with a budget the second input goes out
    on a new connection; without one the run fails with that close (exit 4), never an internal error."""
    answer = b"\x01\x00" * 2400
    skip_backoff(monkeypatch)

    def script(ws: Any, n: int) -> None:
        await_input_end(ws)
        reply(ws, answer)
        if n == 1:
            ws.close(1011, "Internal error encountered.")
        else:
            await_input_end(ws)
            reply(ws, answer)

    options = {"turn_end": "vad", "settle_ms": 200, "max_reconnects": budget, "output": f"{tmp_path}/"}
    with PerConnection(script) as server:
        if budget:
            send_to(server, [HELLO_WAV, HELLO_WAV], **options)
            assert (tmp_path / "hello_16k-2.wav").stat().st_size == 44 + len(answer)
        else:
            with pytest.raises(ServerClosed, match="1011 Internal error") as failure:
                send_to(server, [HELLO_WAV, HELLO_WAV], **options)
            assert exit_status_for(failure.value) == 4
    assert (tmp_path / "hello_16k.wav").stat().st_size == 44 + len(answer)
    assert server.connections == 1 + bool(budget)


def test_a_reply_cut_on_every_attempt_is_written_once_not_once_per_attempt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each connection sends the start of the reply, then 1011: the partial file holds the latest attempt's
    bytes exactly — the resent input's reply starts over, so earlier attempts' starts would repeat it."""
    first, second = b"\x01\x00" * 2400, b"\x02\x00" * 1200
    skip_backoff(monkeypatch)

    def script(ws: Any, n: int) -> None:
        await_input_end(ws)
        reply(ws, first if n == 1 else second, complete=False)
        ws.close(1011, "Internal error encountered.")

    out = tmp_path / "r.wav"
    with PerConnection(script) as server, pytest.raises(ServerClosed):
        send_to(server, max_reconnects=1, output=str(out))
    assert server.connections == 2
    assert out.read_bytes()[44:] == second


def test_go_away_deadline_after_the_reply_completed_does_not_send_the_input_again(tmp_path: Path) -> None:
    """goAway with the reply: its deadline falls in the settle wait after the reply completed, so the input
    is answered — it must not be sent (and paid for) again on a new connection."""
    answer = b"\x03\x00" * 2400

    def script(ws: Any, n: int) -> None:
        await_input_end(ws)
        ws.send(sm.go_away(0.2))
        reply(ws, answer)

    out = tmp_path / "r.wav"
    with PerConnection(script) as server:
        send_to(server, turn_end="vad", settle_ms=1000, output=str(out))
    assert server.connections == 1
    assert out.read_bytes()[44:] == answer


def test_each_turn_of_one_input_prints_its_own_transcript_line() -> None:
    """Server VAD answers one file with two replies: without -o their transcripts are two lines on stdout,
    not one run-together line."""

    def script(ws: Any, n: int) -> None:
        await_input_end(ws)
        for said in ("First reply.", "Second reply."):
            reply(ws, b"\x01\x00" * 240, complete=False)
            ws.send(sm.output_transcription(said))
            ws.send(sm.turn_complete())

    with PerConnection(script) as server:
        stdout = send_to(server, turn_end="vad", settle_ms=300)
    assert stdout.decode().splitlines() == ["First reply.", "Second reply."]
