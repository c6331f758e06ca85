"""One line confirms the CI expectations held (--expect-transcript, --min-reply-seconds): a CI log shows the
checks ran, not only that nothing failed."""

from __future__ import annotations

import re

import pytest
from helpers import SAMPLES, run_cli

from livecli.commands.checks import check_replies, compile_expectation
from livecli.protocol.session import Turn

SAMPLE = str(SAMPLES / "hello.flac")


def turn(index: int, transcript: str = "", seconds: float = 0.0) -> Turn:
    t = Turn(index=index, started_at=0.0, audio_rate=24000)
    t.audio += b"\0\0" * int(seconds * 24000)
    if transcript:
        t.output_pieces.append(transcript)
    return t


def test_no_checks_no_line() -> None:
    assert check_replies([("a", [turn(1, "hi", 1.0)])], None, None) is None


def test_the_line_names_each_check_and_what_held() -> None:
    replies = [("a", [turn(1, "it is sunny", 1.5)]), ("b", [turn(2, "", 1.25)])]
    line = check_replies(replies, compile_expectation(r"sunny$"), 1.0)
    assert line == (
        "--min-reply-seconds 1: every reply is long enough (shortest 1.25 s); "
        "--expect-transcript 'sunny$' matched 'it is sunny'"
    )


@pytest.mark.parametrize("quiet", [[], ["-q"]])
def test_send_prints_checks_passed(quiet: list[str]) -> None:
    result = run_cli(
        "send", SAMPLE, "--local", "--speed", "0", "--expect-transcript", r"heard 1\.\d+ s",
        "--min-reply-seconds", "1", *quiet,
    )  # fmt: skip
    lines = [line for line in result.stderr.splitlines() if line.startswith("checks passed: ")]
    assert len(lines) == 1, result.stderr
    assert re.fullmatch(
        r"checks passed: --min-reply-seconds 1: every reply is long enough \(shortest \d\.\d\d s\); "
        r"--expect-transcript 'heard 1\\\.\\d\+ s' matched 'turn 1: heard 1\.\d\d s of audio'",
        lines[0],
    ), lines[0]


def test_no_line_without_checks_or_under_qq() -> None:
    plain = run_cli("send", SAMPLE, "--local", "--speed", "0")
    assert "checks passed" not in plain.stderr
    silent = run_cli("send", SAMPLE, "--local", "--speed", "0", "--expect-transcript", "heard", "-qq")
    assert "checks passed" not in silent.stderr


def test_a_failed_check_prints_no_confirmation() -> None:
    result = run_cli("send", SAMPLE, "--local", "--speed", "0", "--expect-transcript", "rain", expect=5)
    assert "checks passed" not in result.stderr
    assert "matched no reply" in result.stderr
