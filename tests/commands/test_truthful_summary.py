"""T2: the `--json` summary is written once the last failure is known, so its exit_status is the status the
process exits with, and each failure that decides that status has an `error` event before it. Checked field by
field over several kinds of run: success, a reply that cannot be written, a server close, a reply timeout whose
partial reply cannot be written either, an unmet --expect-transcript, Ctrl-C."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pytest
from helpers import LocalServer, RawFrameServer

from livecli.cli.exit_status import exit_status_for
from livecli.commands import send as send_module
from livecli.protocol import server_messages as sm
from tests.commands.send_helpers import HELLO_WAV, at, events, make_env, run

SECRET = "AIzaSyTruthful-0123456789-secret-KEY"


def _no_rename(monkeypatch: pytest.MonkeyPatch) -> None:
    """The reply file's last step (the rename into place) fails as on a full file system, after the session."""

    def replace(src: str, dst: str) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "replace", replace)


def _outcome(url: str, tmp_path: Path, **kw: Any) -> tuple[int, list[dict[str, Any]], str]:
    """Run one send; return the exit status it means, its --json events and everything it printed."""
    env, stdout, stderr = make_env()
    env.environ = {"GEMINI_API_KEY": SECRET}
    request = at(url, inputs=[HELLO_WAV], output=str(tmp_path / "reply.wav"), speed=0.0, **kw)
    try:
        status = run(request, env)
    except BaseException as exc:
        status = exit_status_for(exc)
    printed = stdout.getvalue().decode() + stderr.getvalue()
    return status, events(stdout), printed


def _check_truthful(status: int, seen: list[dict[str, Any]], printed: str) -> list[tuple[str, int]]:
    """The summary is last and says `status`; each error event comes before it; returns (kind, status) pairs."""
    assert seen[-1]["type"] == "summary"
    assert seen[-1]["exit_status"] == status
    assert [e["type"] for e in seen].count("summary") == 1
    assert SECRET not in printed
    errors = [(e["kind"], e["exit_status"]) for e in seen if e["type"] == "error"]
    if status:
        assert errors[0][1] == status
    return errors


def test_success_has_no_error_event_and_a_summary_of_0(live_server: LocalServer, tmp_path: Path) -> None:
    status, seen, printed = _outcome(live_server.endpoint(), tmp_path)
    assert status == 0
    assert _check_truthful(status, seen, printed) == []
    assert (tmp_path / "reply.wav").exists()


def test_a_reply_that_cannot_be_written_is_an_error_event_and_the_summary_status(
    live_server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The summary said exit_status 0 while the process exited 2, and no error event was emitted."""
    _no_rename(monkeypatch)
    status, seen, printed = _outcome(live_server.endpoint(), tmp_path)
    assert status == 2
    assert _check_truthful(status, seen, printed) == [("OutputError", 2)]
    error = next(e for e in seen if e["type"] == "error")
    assert "reply.wav: cannot write: No space left on device" in error["message"]
    assert not [e for e in seen if e["type"] == "reply_written"]
    assert list(tmp_path.iterdir()) == []


def test_a_server_close_is_its_own_status_everywhere(live_server: LocalServer, tmp_path: Path) -> None:
    status, seen, printed = _outcome(live_server.endpoint("close-1011"), tmp_path, max_reconnects=0)
    assert status == 4
    assert _check_truthful(status, seen, printed) == [("ServerClosed", 4)]


def test_a_later_write_failure_is_a_warning_and_keeps_the_first_status(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reply timeout (5) with part of a reply received; writing that part fails too: the status stays 5 (the
    first failure), the write failure is a warning, and the summary says 5."""
    _no_rename(monkeypatch)
    with RawFrameServer([sm.audio_content(b"\x01\x00" * 2400)]) as server:
        status, seen, printed = _outcome(server.url, tmp_path, timeout=0.3, max_reconnects=0)
    assert status == 5
    assert _check_truthful(status, seen, printed) == [("NoReplyError", 5)]
    warnings = [e["message"] for e in seen if e["type"] == "warning"]
    assert any("cannot write: No space left on device" in message for message in warnings)


def test_an_unmet_expectation_is_an_error_event_of_5(live_server: LocalServer, tmp_path: Path) -> None:
    status, seen, printed = _outcome(live_server.endpoint(), tmp_path, expect_transcript="never said")
    assert status == 5
    assert _check_truthful(status, seen, printed) == [("NoReplyError", 5)]
    assert (tmp_path / "reply.wav").exists()  # the reply is still written


def test_ctrl_c_is_an_error_event_of_130(
    live_server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C changes the status too (130), so it gets an error event; the reply received is still written."""

    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(send_module, "check_replies", interrupted)
    status, seen, printed = _outcome(live_server.endpoint(), tmp_path)
    assert status == 130
    assert _check_truthful(status, seen, printed) == [("KeyboardInterrupt", 130)]
    assert next(e for e in seen if e["type"] == "error")["message"] == "interrupted"
    assert (tmp_path / "reply.wav").exists()
