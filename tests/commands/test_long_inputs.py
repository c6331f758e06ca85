"""Inputs longer than a connection (issue 10): with activity brackets on the Gemini API, an input that cannot fit
in one connection is reported once a goAway tells how long connections last, instead of being sent again from its
start after every reconnect until --max-reconnects runs out."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from livecli.cli.exit_status import exit_status_for
from livecli.errors import ConnectError
from tests.commands.send_helpers import at, events, make_env, run, tone
from tests.helpers import local_server

KEY = "AIzaSyLongInputKey0123456789abcdefghijk"


class Opened(logging.Handler):
    """Counts the connections the server opened."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += " opened " in record.getMessage()


def serve_logged() -> tuple[logging.Logger, Opened]:
    opened = Opened()
    logger = logging.getLogger(f"test-long-input-{id(opened)}")
    logger.addHandler(opened)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger, opened


@pytest.mark.timeout(20)
def test_an_activity_input_longer_than_a_connection_is_reported_not_resent(tmp_path: Path) -> None:
    """Connections live 1 s (goAway at 0.5 s); the input takes 2 s to send at --speed 2: one connection, then a
    clear error naming both durations and the way out (was: resent from its start until the budget ran out)."""
    long = tone(tmp_path / "long.wav", 4.0)
    logger, opened = serve_logged()
    with local_server(max_connection_s=1.0, logger=logger) as server:
        env, stdout, stderr = make_env()
        req = at(server.url, inputs=[long], speed=2.0, max_reconnects=3)
        req.connect.api_key = KEY
        with pytest.raises(ConnectError) as raised:
            run(req, env)
    assert exit_status_for(raised.value) == 4
    message = str(raised.value)
    assert "takes 2.0 s to send" in message
    assert "last about 1.0 s" in message
    assert "--turn-end vad" in message
    assert events(stdout, "reconnect") == []
    assert opened.count == 1
    assert KEY not in stdout.getvalue().decode()
    assert KEY not in stderr.getvalue()


@pytest.mark.timeout(20)
def test_an_activity_input_that_fits_a_fresh_connection_is_still_resent(tmp_path: Path) -> None:
    """The check is against a whole connection, not what was left of the one that ended: 0.7 s of sending
    under 1 s connections, started late in the first one, is sent again on the next and answered."""
    files = [tone(tmp_path / "a.wav", 1.2), tone(tmp_path / "b.wav", 1.4)]  # 0.6 s + 0.7 s at --speed 2
    logger, opened = serve_logged()
    with local_server(max_connection_s=1.0, logger=logger) as server:
        env, stdout, _ = make_env()
        assert run(at(server.url, inputs=files, speed=2.0, max_reconnects=3), env) == 0
    assert len(events(stdout, "turn_complete")) == 2
    assert opened.count >= 2
