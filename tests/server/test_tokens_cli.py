"""End to end without Google: `livecli token --endpoint <serve url>` mints, `livecli send --token` uses it; a
used-up or expired token exits 3; the API key never appears in any output."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import SAMPLES, LocalServer, Result, local_server, run_cli, ws_server_thread

from livecli.server.tls import write_self_signed

KEY = "AIzaFAKEtokensKEY0123456789abcdefghijkl"
HELLO = str(SAMPLES / "hello_16k.wav")


class WallClock:
    """POSIX time with an offset a test moves forward (the token's lifetimes are wall-clock times)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@pytest.fixture(scope="module")
def clock() -> WallClock:
    return WallClock()


@pytest.fixture(scope="module")
def server(clock: WallClock) -> Iterator[LocalServer]:
    with local_server(require_key=KEY, wall_clock=clock) as running:
        yield running


def _hidden(*results: Result) -> None:
    for result in results:
        shown = result.stdout + result.stderr
        assert KEY not in shown
        assert KEY[4:20] not in shown


def _mint(server: LocalServer, *args: str) -> tuple[str, Result]:
    """Mint through the ws:// URL serve prints (the same port answers the REST call)."""
    result = run_cli("token", "--endpoint", server.url, *args, env={"GEMINI_API_KEY": KEY})
    return result.stdout.strip(), result


def _send(server: LocalServer, token: str, *args: str, expect: int) -> Result:
    return run_cli("send", HELLO, "--token", token, "--endpoint", server.url, "--speed", "0", *args, expect=expect)


def test_a_minted_token_sends_and_a_used_up_one_exits_3(server: LocalServer) -> None:
    token, minted = _mint(server)
    first = _send(server, token, "--json", expect=0)
    second = _send(server, token, "-vv", expect=3)
    assert token.startswith("auth_tokens/")
    assert first.of_type("summary")[0]["exit_status"] == 0
    assert "Token has been used too many times" in second.stderr
    assert "livecli token" in second.stderr  # the hint says how to get another
    _hidden(minted, first, second)


def test_uses_and_the_token_in_a_header(server: LocalServer) -> None:
    token, minted = _mint(server, "--uses", "2", "--json")
    name = minted.json_lines[0]["name"]
    results = [_send(server, name, "--token-in-header", expect=0) for _ in range(2)]
    results.append(_send(server, name, expect=3))
    assert token.startswith("{")  # --json prints the whole answer
    assert minted.json_lines[0]["uses"] == 2
    _hidden(minted, *results)


def test_an_expired_token_exits_3(server: LocalServer, clock: WallClock) -> None:
    token, minted = _mint(server, "--uses", "0", "--expires", "2m")
    clock.offset += 121
    try:
        expired = _send(server, token, "--json", expect=3)
    finally:
        clock.offset -= 121
    assert "HTTP 401" in expired.stderr
    assert expired.of_type("summary")[0]["exit_status"] == 3
    _hidden(minted, expired)


def test_a_locked_setup_reaches_the_session(server: LocalServer) -> None:
    """The token locks a voice the model does not have: the client's own (valid) voice is overridden, so the
    server refuses the setup as the service would (1007 → exit 3)."""
    lock = (
        '{"generationConfig": {"speechConfig": {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Nope"}}}}}'
    )
    token, minted = _mint(server, "--lock-config", lock, "--uses", "0")
    result = _send(server, token, "--voice", "Puck", expect=3)
    assert "No matching speaker voice found" in result.stderr
    _hidden(minted, result)


def test_a_wrong_key_is_a_credentials_failure_and_stays_hidden(server: LocalServer) -> None:
    wrong = "AIzaWRONGkey0123456789abcdefghijklmnop"
    result = run_cli("token", "--endpoint", server.url, "--api-key", wrong, expect=3)
    missing = run_cli("token", "--endpoint", server.url, "--api-key", "", expect=3)
    assert "API key not valid" in result.stderr
    assert wrong not in result.stdout + result.stderr
    assert wrong[4:20] not in result.stdout + result.stderr
    assert missing.stdout == ""


def test_tls_serve_mints_and_admits_over_wss(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_self_signed(str(tmp_path))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "cert.pem"))
    with local_server(tls_self_signed_dir=str(tmp_path), require_key=KEY) as tls:
        assert tls.url.startswith("wss://")
        token, minted = _mint(tls)
        sent = _send(tls, token, expect=0)
    assert token.startswith("auth_tokens/")
    _hidden(minted, sent)


def test_the_services_own_refusal_of_a_used_up_token_exits_3_without_retrying() -> None:
    """The service was seen refusing a used-up token with close 1011 "Token has been used too many times"
    (docs/wire.md, "Ephemeral tokens"): a credentials failure, not a passing fault to reconnect after."""
    connections: list[str] = []

    def refuse(ws: Any) -> None:
        connections.append(str(ws.recv()))
        ws.close(1011, "Token has been used too many times")

    with ws_server_thread(refuse) as url:
        result = run_cli("send", HELLO, "--token", "auth_tokens/used", "--endpoint", url, "--speed", "0", expect=3)
    assert len(connections) == 1
    assert "1011 Token has been used too many times" in result.stderr
