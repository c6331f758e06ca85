"""`--timeout 0` and `--connect-timeout 0` failed at once (exit 5 and 4 after connecting): a time limit must be
more than 0, refused as a usage error before anything starts."""

from __future__ import annotations

import pytest
from helpers import run_cli

COMMANDS = {"send": ["send", "-"], "text": ["text", "hi"], "doctor": ["doctor"]}


@pytest.mark.parametrize("value", ["0", "-1", "nan"])
@pytest.mark.parametrize("command", ["send", "text"])
def test_a_reply_timeout_must_be_more_than_0(command: str, value: str) -> None:
    result = run_cli(*COMMANDS[command], "--local", "--timeout", value, expect=2)
    assert f"Invalid value for '--timeout': {value} is not a time limit" in result.stderr
    assert "connecting" not in result.stderr


@pytest.mark.parametrize("command", ["send", "text", "doctor"])
def test_a_connect_timeout_must_be_more_than_0(command: str) -> None:
    result = run_cli(*COMMANDS[command], "--local", "--connect-timeout", "0", expect=2)
    assert "Invalid value for '--connect-timeout': 0 is not a time limit" in result.stderr


def test_the_help_says_so() -> None:
    text = " ".join(run_cli("send", "--help", env={"COLUMNS": "200"}).stdout.split())
    assert "(exit 5); more than 0." in text
    assert "(exit 4); more than 0." in text


def test_a_positive_fraction_is_a_time_limit() -> None:
    result = run_cli("text", "hi", "--local", "--timeout", "0.5", "--connect-timeout", "5", "--speed", "0")
    assert "turn 1" in result.stdout + result.stderr
