"""The client's failure paths end to end: a background failure surfaces at once, a close while audio streams, a
reconnect whose own connect fails. Each ends with its own exit status and the reply so far written."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from helpers import LocalServer, RawFrameServer, run_cli

from livecli.cli.exit_status import exit_status_for
from livecli.errors import ConnectError, LivecliError, ServerClosed
from livecli.protocol import server_messages as sm
from livecli.protocol.events import AudioChunk, ServerEvent
from livecli.render.console import RichRenderer
from tests.client.per_connection import (
    PerConnection,
    await_audio,
    await_input_end,
    reply,
    send_to,
    skip_backoff,
)
from tests.commands.send_helpers import HELLO_WAV, events, tone

ANSWER = b"\x01\x00" * 2400


# --- a failure in the background reader surfaces at once ----------------------------------------------------


@pytest.mark.timeout(30)
def test_a_function_call_without_an_id_ends_the_run_at_once_with_a_protocol_error() -> None:
    """The id is mandatory: such a toolCall, even followed by a normal reply, is exit 4 naming the call, not the
    reader dying silently and the run later saying the server sent nothing (exit 5)."""
    tool_call = json.dumps({"toolCall": {"functionCalls": [{"name": "lookup", "args": {}}]}}).encode()
    with RawFrameServer([tool_call, sm.audio_content(ANSWER), sm.turn_complete()]) as server:
        result = run_cli(
            "send", HELLO_WAV, "--endpoint", server.url, "--speed", "0", "--timeout", "10", expect=None
        )
    assert result.exit_code == 4
    assert "toolCall.functionCalls[0]: a function call without an id ('lookup'" in result.stderr
    assert "no reply" not in result.stderr


def _breaks_on_audio(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Rich renderer raises a RuntimeError (a bug) on the first reply audio, which only the reader sees."""
    shown = RichRenderer.server_event

    def server_event(self: RichRenderer, event: ServerEvent, turn: Any) -> None:
        if isinstance(event, AudioChunk):
            raise RuntimeError("renderer broke on reply audio")
        shown(self, event, turn)

    monkeypatch.setattr(RichRenderer, "server_event", server_event)


@pytest.mark.timeout(30)
def test_an_unexpected_error_in_the_reader_is_an_internal_error_at_once(
    live_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug in the background reader is exit 1 with its message, not a reply timeout (exit 5) after --timeout
    while the server is still sending."""
    _breaks_on_audio(monkeypatch)
    args = ["send", HELLO_WAV, "--endpoint", live_server.endpoint(), "--speed", "0", "--timeout", "10"]
    result = run_cli(*args, expect=None)
    assert result.exit_code == 1
    assert "livecli: internal error: RuntimeError: renderer broke on reply audio" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.timeout(30)
def test_traceback_shows_where_the_readers_error_was_raised(
    live_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--traceback: the trace of the reader's error leads to the code that raised it."""
    _breaks_on_audio(monkeypatch)
    args = ["send", HELLO_WAV, "--endpoint", live_server.endpoint(), "--speed", "0", "--traceback"]
    result = run_cli(*args, expect=1)
    assert "Traceback (most recent call last)" in result.stderr
    assert "in _handle" in result.stderr  # the reader handing events to the renderer
    assert 'raise RuntimeError("renderer broke on reply audio")' in result.stderr


# --- a close while audio is streaming ------------------------------------------------------------------------


@pytest.mark.timeout(30)
def test_a_close_while_audio_streams_exits_4_with_the_partial_reply(tmp_path: Path) -> None:
    """The server answers part of the reply mid-input, then closes 1011: no reconnect budget, so exit 4 at
    once (the input never finished sending) and the reply received so far is written, marked partial."""

    def script(ws: Any, n: int) -> None:
        await_audio(ws, 5)
        reply(ws, ANSWER, complete=False)
        ws.close(1011, "Internal error encountered.")

    long = tone(tmp_path / "long.wav", 30.0)  # paced at 1x: still streaming when the close comes
    out, stdout = tmp_path / "r.wav", io.BytesIO()
    with PerConnection(script) as server, pytest.raises(ServerClosed, match="1011") as failure:
        send_to(server, [long], stdout=stdout, speed=1.0, max_reconnects=0, json=True, output=str(out))
    assert exit_status_for(failure.value) == 4
    assert out.read_bytes()[44:] == ANSWER
    assert [e["partial"] for e in events(stdout, "reply_written")] == [True]
    assert not [e for e in events(stdout, "input_progress") if e["done"]]
    assert events(stdout, "summary")[-1]["exit_status"] == 4


@pytest.mark.timeout(30)
def test_a_close_while_audio_streams_resends_the_input_and_keeps_only_the_new_reply(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a budget the input is sent again whole on a new connection; the reply file holds that reply only,
    not the start the closed connection had sent."""
    skip_backoff(monkeypatch)
    second = b"\x02\x00" * 1200

    def script(ws: Any, n: int) -> None:
        if n == 1:
            await_audio(ws, 3)
            reply(ws, ANSWER, complete=False)
            ws.close(1011, "Internal error encountered.")
        else:
            await_input_end(ws)
            reply(ws, second)

    short = tone(tmp_path / "short.wav", 1.2)  # 0.3 s at --speed 4
    out, stdout = tmp_path / "r.wav", io.BytesIO()
    with PerConnection(script) as server:
        send_to(server, [short], stdout=stdout, speed=4.0, max_reconnects=1, json=True, output=str(out))
    assert server.connections == 2
    assert out.read_bytes()[44:] == second
    assert [e["resend"] for e in events(stdout, "reconnect")] == [short]


# --- a reconnect whose own connect fails ---------------------------------------------------------------------


def _closed_after_the_input(ws: Any, n: int) -> None:
    """The first connection sends part of the reply, then closes 1011 (a transient close: reconnect)."""
    await_input_end(ws)
    reply(ws, ANSWER, complete=False)
    ws.close(1011, "Internal error encountered.")


@pytest.mark.timeout(30)
def test_a_reconnect_whose_setup_is_never_answered_fails_within_the_connect_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The new connection upgrades but never answers the setup: the reconnect fails after --connect-timeout
    with exit 4 naming that phase (not a hang), and the first connection's partial reply is written."""
    skip_backoff(monkeypatch)
    out, stdout = tmp_path / "r.wav", io.BytesIO()
    mute_after_first = PerConnection(_closed_after_the_input, lambda n: None if n == 1 else "mute")
    with mute_after_first as server, pytest.raises(ConnectError, match="waiting for setupComplete") as failure:
        send_to(server, stdout=stdout, max_reconnects=1, connect_timeout=0.3, json=True, output=str(out))
    assert exit_status_for(failure.value) == 4
    assert server.connections == 2
    assert [e["attempt"] for e in events(stdout, "reconnect")] == [1]
    assert out.read_bytes()[44:] == ANSWER
    assert events(stdout, "summary")[-1]["exit_status"] == 4


@pytest.mark.timeout(30)
def test_a_reconnect_refused_at_setup_is_not_retried_and_keeps_its_own_status(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The new connection is closed 1007 instead of setupComplete: a refusal that would repeat, so no further
    attempt although the budget allows three; its own exit status (3), the partial reply written."""
    skip_backoff(monkeypatch)
    refused = (1007, "Request contains an invalid argument.")
    out, stdout = tmp_path / "r.wav", io.BytesIO()
    refuse_after_first = PerConnection(_closed_after_the_input, lambda n: None if n == 1 else refused)
    with refuse_after_first as server, pytest.raises(LivecliError, match="1007") as failure:
        send_to(server, stdout=stdout, max_reconnects=3, json=True, output=str(out))
    assert exit_status_for(failure.value) == 3
    assert server.connections == 2
    assert out.read_bytes()[44:] == ANSWER
