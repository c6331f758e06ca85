"""`--help` as a new user reads it in an 80-column terminal: nothing wider, summaries whole, arguments named
plainly, and `text --help` without wording that only means something for `send`."""

from __future__ import annotations

import pytest
from helpers import run_cli

from livecli.auth.target import ENVIRONMENT_VARIABLES
from livecli.cli.exit_status import EXIT_STATUS_HELP
from livecli.commands.doctor import _HINTS
from livecli.errors import CredentialsError

COMMANDS = [
    "send",
    "text",
    "chat",
    "talk",
    "devices",
    "serve",
    "token",
    "doctor",
    "models",
    "batch",
    "replay",
    "report",
]


def _help(*command: str) -> str:
    return run_cli(*command, "--help", env={"COLUMNS": "80"}).stdout


@pytest.mark.parametrize("command", [[], *([c] for c in COMMANDS)], ids=["livecli", *COMMANDS])
def test_help_fits_80_columns(command: list[str]) -> None:
    text = _help(*command)
    wide = [line for line in text.splitlines() if len(line) > 80]
    assert wide == []


@pytest.mark.parametrize("command", COMMANDS)
def test_help_names_arguments_plainly(command: str) -> None:
    text = _help(command)
    assert "{" not in text.split("\n", 1)[0]  # the usage line: Typer wrote {FILE...}...
    assert "<list[str]>" not in text
    assert "<str>" not in text


def test_usage_lines_name_the_arguments() -> None:
    assert _help("send").startswith("Usage: livecli send [OPTIONS] [FILE...]\n")  # optional with --video
    assert _help("text").startswith("Usage: livecli text [OPTIONS] PROMPT\n")


def test_command_summaries_are_whole() -> None:
    listing = _help().split("Commands:", 1)[1].split("Exit status:", 1)[0]
    rows = [line.split(None, 1) for line in listing.splitlines() if line.strip()]
    assert [name for name, _ in rows] == COMMANDS
    for _name, summary in rows:
        assert not summary.endswith("..."), summary
        assert summary.endswith("."), summary


def test_the_exit_table_keeps_every_status_and_its_whole_text() -> None:
    table = _help().split("Exit status:", 1)[1].split("Environment variables", 1)[0]
    joined = " ".join(table.split())
    for status, text in EXIT_STATUS_HELP.items():
        assert f"{int(status)} {' '.join(text.split())}" in joined


@pytest.mark.parametrize(
    "send_only", ["per input", "each input", "chunk plan", "Pacing", "input/output", "--speed"]
)
def test_text_help_has_no_send_only_wording(send_only: str) -> None:
    assert send_only not in _help("text")


def test_help_lists_the_environment_variables_as_the_doctor_says() -> None:
    assert "livecli --help lists the environment variables" in _HINTS[CredentialsError]
    listing = _help().split("Environment variables", 1)[1]
    for name in ENVIRONMENT_VARIABLES:
        assert f"\n  {name} " in listing


def test_text_still_accepts_the_hidden_pacing_flags() -> None:
    result = run_cli("text", "hi", "--speed", "0", "--no-pace", "--local", "--dry-run")
    assert "dry run: nothing was sent" in result.stdout


def test_send_help_keeps_its_own_wording() -> None:
    text = _help("send")
    assert "per input" in text
    assert "--speed FACTOR" in text
