"""Resumption through the send use case: goAway (at the idle moment, or on the deadline mid-input), a budget of
reconnects after failures, and refusals that are never retried."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import soundfile as sf
from helpers import LocalServer, local_server

from livecli.cli.exit_status import exit_status_for
from livecli.commands.request import build_setup
from livecli.errors import ConnectError, LivecliError
from livecli.protocol.client_messages import setup_payload
from tests.client.per_connection import skip_backoff
from tests.commands.send_helpers import HELLO_WAV, at, events, make_env, run, tone


class ConnectionLog(logging.Handler):
    """Counts the connections a server opened, and how each one closed."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())

    @property
    def opened(self) -> int:
        return sum(" opened " in m for m in self.messages)

    def closed(self, n: int) -> str:
        return next(m for m in self.messages if m.startswith(f"connection {n} closed"))


@contextmanager
def own_server(**config: Any) -> Iterator[tuple[LocalServer, ConnectionLog]]:
    """local_server, with its connections counted."""
    log = ConnectionLog()
    logger = logging.getLogger(f"test-run-{id(log)}")
    logger.addHandler(log)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    with local_server(logger=logger, **config) as server:
        yield server, log


@pytest.mark.timeout(20)
def test_go_away_mid_send_resumes_at_the_idle_moment_and_history_continues(tmp_path: Path) -> None:
    """Connections live 2 s (goAway at 1 s, then 1008): the first reply completes, then livecli reconnects
    before the second file instead of being cut; the resumed session calls it turn 2."""
    files = [tone(tmp_path / "a.wav", 2.8), tone(tmp_path / "b.wav", 0.4)]  # 1.4 s (spans the goAway) + 0.2 s
    with own_server(max_connection_s=2.0) as (server, log):
        env, stdout, _ = make_env()
        assert run(at(server.url, inputs=files, speed=2.0), env) == 0
    seen = events(stdout)
    (reconnect,) = [e for e in seen if e["type"] == "reconnect"]
    assert reconnect["resend"] is None
    assert "before the next input" in str(reconnect["cause"])
    assert [e["with_handle"] for e in seen if e["type"] == "resumed"] == [True]
    done = [e for e in seen if e["type"] == "turn_complete"]
    assert [str(e["output_transcript"])[:6] for e in done] == ["turn 1", "turn 2"]
    assert log.opened == 2
    assert log.closed(1) == "connection 1 closed: 1000"  # we left before the server's 1008
    assert seen[-1]["reconnects"] == 1


@pytest.mark.timeout(20)
def test_go_away_deadline_mid_input_resends_that_input_from_its_start(tmp_path: Path) -> None:
    """goAway lands while the second file streams and its time runs out before the file ends: livecli
    reconnects on its timer, sends that file again whole, and the reply is the resumed session's turn 2."""
    # At --speed 2: a takes 0.6 s, b starts at about 0.65 s; the goAway comes at 1 s and its time (1 s, less a
    # 0.25 s margin) runs out at 1.75 s, while b would stream until about 2.05 s.
    files = [tone(tmp_path / "a.wav", 1.2), tone(tmp_path / "b.wav", 2.8)]
    out = tmp_path / "replies"
    with own_server(max_connection_s=2.0) as (server, log):
        env, stdout, _ = make_env()
        assert run(at(server.url, inputs=files, speed=2.0, output=f"{out}/"), env) == 0
    seen = events(stdout)
    (reconnect,) = [e for e in seen if e["type"] == "reconnect"]
    assert reconnect["resend"] == files[1]
    assert "nearly up" in str(reconnect["cause"])
    done = [e for e in seen if e["type"] == "turn_complete"]
    assert str(done[-1]["output_transcript"]).startswith("turn 2: heard 2.80 s")
    assert log.opened == 2
    # Each reply file holds exactly its input's answer, byte for byte what a session without goAway sends:
    # nothing of the cut first attempt and nothing of the other input's reply.
    with own_server() as (server, _):
        for name in ("a", "b"):
            alone = tmp_path / f"{name}-alone.wav"
            assert run(at(server.url, inputs=[f"{tmp_path}/{name}.wav"], speed=0.0, output=str(alone)), env) == 0
            assert (out / f"{name}.wav").read_bytes() == alone.read_bytes()
    assert sf.info(out / "b.wav").duration == pytest.approx(3.0, abs=0.05)


@pytest.mark.parametrize("scenario", ["close-1011", "drop"])
def test_failing_every_connection_gives_one_plus_n_attempts_and_the_original_status(
    scenario: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Each connection fails at its turn: 1 + --max-reconnects connections, backoff 0.5 then 1 s, exit 4.
    (Scenario turns count per session, so the fault repeats on every turn of the resumed session.)"""
    waits = skip_backoff(monkeypatch)
    fault = {
        "close-1011": 'close = { code = 1011, reason = "Internal error encountered." }',
        "drop": "drop = true",
    }
    script = tmp_path / "every-turn.toml"
    script.write_text(f"repeat_last_turn = true\n[[turns]]\n{fault[scenario]}\n", encoding="utf-8")
    with own_server(scenario=str(script)) as (server, log):
        env, stdout, _ = make_env()
        with pytest.raises(ConnectError) as failure:
            run(at(server.url, inputs=[HELLO_WAV], speed=0.0, max_reconnects=2), env)
    assert exit_status_for(failure.value) == 4
    assert log.opened == 3
    seen = events(stdout)
    assert [e["delay_s"] for e in seen if e["type"] == "reconnect"] == [0.5, 1.0]
    assert waits == [0.5, 1.0]
    assert [e["resend"] for e in seen if e["type"] == "reconnect"] == [HELLO_WAV, HELLO_WAV]
    assert seen[-1]["exit_status"] == 4
    assert seen[-1]["reconnects"] == 2


def test_no_resume_fails_at_once_and_asks_for_no_handles() -> None:
    """--no-resume: one connection, the original 1011, and no sessionResumption in the setup."""
    with own_server(scenario="close-1011") as (server, log):
        env, stdout, _ = make_env()
        req = at(server.url, inputs=[HELLO_WAV], speed=0.0, resume=False)
        assert "sessionResumption" not in setup_payload(build_setup(req, "models/gemini-3.8-live"))["setup"]
        with pytest.raises(ConnectError, match="1011"):
            run(req, env)
    assert log.opened == 1
    assert not [e for e in events(stdout) if e["type"] == "reconnect"]


@pytest.mark.parametrize(
    ("turn", "hint", "status"),
    [
        ('close = { code = 1007, reason = "Request contains an invalid argument." }', "setup field", 3),
        ("quota = true", "quota exhausted", 7),
        (
            'close = { code = 1008, reason = "Operation is not implemented, or supported, or enabled." }',
            "model",
            4,
        ),
    ],
)
def test_refusals_are_never_retried(tmp_path: Path, turn: str, hint: str, status: int) -> None:
    """1007, quota, and 1008 without a goAway would fail again: one connection, their own exit status, a hint."""
    scenario = tmp_path / "refuse.toml"
    scenario.write_text(f"[[turns]]\n{turn}\n")
    with own_server(scenario=str(scenario)) as (server, log):
        env, _, _ = make_env()
        with pytest.raises(LivecliError) as failure:
            run(at(server.url, inputs=[HELLO_WAV], speed=0.0), env)
    assert log.opened == 1
    assert exit_status_for(failure.value) == status
    reason, _, hinted = str(failure.value).partition(" (hint: ")
    assert reason.endswith(failure.value.reason)  # type: ignore[attr-defined]
    assert hint in hinted
