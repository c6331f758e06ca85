"""Bad flags and arguments get one clear line on stderr and exit 2 (click's Usage/Try/Error block is not shown),
naming the command whose help explains it; `livecli` alone still prints the help."""

from __future__ import annotations

import pytest
from helpers import run_cli, run_cli_subprocess

CASES = [
    (("text", "hi", "--top-k", "-1"), "livecli: error: Invalid value for '--top-k'", "livecli text --help"),
    (("text", "hi", "--tool-timeout", "-1"), "Invalid value for '--tool-timeout'", "livecli text --help"),
    (("send", "x.wav", "--chunk-ms", "5"), "Invalid value for '--chunk-ms'", "livecli send --help"),
    (("serve", "--port", "abc"), "Invalid value for '--port'", "livecli serve --help"),
    (("text",), "Missing argument 'PROMPT'", "livecli text --help"),
    (("text", "hi", "--no-such-flag"), "No such option: --no-such-flag", "livecli text --help"),
    (("no-such-command",), "No such command 'no-such-command'", "livecli --help"),
    (("--no-such-flag",), "No such option: --no-such-flag", "livecli --help"),
]


@pytest.mark.parametrize(("args", "what", "help_command"), CASES)
def test_a_usage_error_is_one_line_naming_the_help_to_read(
    args: tuple[str, ...], what: str, help_command: str
) -> None:
    result = run_cli(*args, expect=2)
    assert result.stderr.count("\n") == 1
    assert what in result.stderr
    assert f"(see '{help_command}')" in result.stderr
    assert result.stderr.startswith("livecli: error: ")


def test_usage_errors_never_show_the_usage_block() -> None:
    result = run_cli("text", "hi", "--top-k", "-1", expect=2)
    assert "Usage:" not in result.stderr
    assert "Try '" not in result.stderr


def test_a_bad_value_is_escaped_on_its_one_line() -> None:
    result = run_cli("serve", "--port", "1\x1b[2J", expect=2)
    assert "\x1b" not in result.stderr
    assert result.stderr.count("\n") == 1


def test_the_installed_command_says_the_same_with_exit_2() -> None:
    result = run_cli_subprocess("send", "x.wav", "--fps", "abc", expect=2)
    assert result.stderr.startswith("livecli: error: Invalid value for '--fps'")
    assert result.stderr.count("\n") == 1


def test_livecli_alone_still_prints_the_help() -> None:
    result = run_cli(expect=None)
    assert "Commands:" in result.stdout + result.stderr
    assert "livecli: error" not in result.stderr
