"""`livecli serve` as a user runs it: URL first on stdout, log on stderr, SIGINT stops it with status 0."""

from __future__ import annotations

import signal
import time
from pathlib import Path

from helpers import run_cli, serve_subprocess

from livecli.server.probe import ask


async def test_serve_prints_the_url_first_and_stops_cleanly_on_sigint(tmp_path: Path) -> None:
    record = tmp_path / "frames.jsonl"
    proc = serve_subprocess(
        "--port", "0", "--reply-speed", "0", "--record", str(record), "--require-key", "SECRET-KEY-123",
        env={"COLUMNS": "200"},
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("ws://127.0.0.1:")

        turn = await ask(url, "over the cli", headers={"x-goog-api-key": "SECRET-KEY-123"})
        assert turn.input_transcripts == ["over the cli"]
        time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert out == ""  # only the URL line, already read
    assert "listening on" in err
    assert "SECRET-KEY-123" not in err
    assert "SECRET-KEY-123" not in (record / "frames.jsonl").read_text()
    assert "realtimeInput.text" in (record / "frames.jsonl").read_text()


def test_serve_help_and_bad_scenario() -> None:
    result = run_cli("serve", "--help")
    assert "--tls-self-signed" in result.stdout
    assert "--max-session-s" in result.stdout
    result = run_cli("serve", "--port", "0", "--scenario", "no-such-thing", expect=2)
