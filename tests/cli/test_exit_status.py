"""The exception hierarchy and the one exit-status table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from livecli.cli.exit_status import ExitStatus, close_exit_status, exit_status_for
from livecli.errors import (
    AudioInputError,
    ConnectError,
    CredentialsError,
    NoReplyError,
    ProtocolError,
    QuotaError,
    ServerClosed,
    UsageError,
    http_error,
)


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (UsageError("x"), 2),
        (CredentialsError("x"), 3),
        (ConnectError("x"), 4),
        (ProtocolError("x"), 4),
        (NoReplyError("x"), 5),
        (AudioInputError("x"), 6),
        (QuotaError("x"), 7),
        (KeyboardInterrupt(), 130),
        (RuntimeError("bug"), 1),
    ],
)
def test_each_error_class_has_its_exit_status(exc: BaseException, status: int) -> None:
    """Every failure class maps to exactly the documented exit status."""
    assert exit_status_for(exc) == status


@pytest.mark.parametrize(
    ("code", "reason", "after_setup", "status"),
    [
        (1007, "Request contains an invalid argument.", True, ExitStatus.CREDENTIALS),
        (1008, "Operation is not implemented, or supported, or enabled.", False, ExitStatus.CREDENTIALS),
        (1008, "", True, ExitStatus.CONNECTION),
        (1011, "Internal error encountered.", True, ExitStatus.CONNECTION),
        (1011, "You exceeded your current quota, please check your plan and billing details. For m", True, 7),
        (1006, "", False, ExitStatus.CONNECTION),
        (1000, "", True, ExitStatus.NO_REPLY),
    ],
)
def test_close_codes_map_as_wire_md_close_codes(code: int, reason: str, after_setup: bool, status: int) -> None:
    """Close code, reason and phase decide the exit status (the closes of docs/wire.md, "Close codes")."""
    err = ServerClosed(code, reason, after_setup=after_setup)
    assert close_exit_status(err) == status
    assert exit_status_for(err) == status
    assert f"{code}" in str(err)
    assert reason in str(err)
    assert ("without a close frame" in str(err)) == (code == 1006)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (401, CredentialsError),
        (403, CredentialsError),
        (429, QuotaError),
        (404, ConnectError),
        (500, ConnectError),
    ],
)
def test_http_refusals_map_to_error_classes(status: int, cls: type[Exception]) -> None:
    """An HTTP refusal at upgrade or on a REST call becomes the matching error class."""
    err = http_error(status, "body text")
    assert type(err) is cls
    assert f"HTTP {status}" in str(err)


def test_readme_lists_exactly_the_exit_statuses() -> None:
    """The README's exit-status table has one row per ExitStatus, no more, no fewer."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Exit status", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (\d+) \|", table, flags=re.MULTILINE)
    assert [int(code) for code in rows] == [int(status) for status in ExitStatus]
