"""Every read of a user-supplied stream is capped (issue 10, L6): a prompt on stdin and a --system-file at
1 MiB (exit 2), piped audio at 2 GiB (exit 6), each with one line, before anything is sent."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from helpers import run_cli

from livecli.audio import decode
from livecli.cli import send as cli_send
from livecli.errors import UsageError

KEY = "AIzaSyLIMITS-not-a-real-key-0123456789"
NO_NETWORK = ("--endpoint", "ws://127.0.0.1:9", "--api-key", KEY)  # nothing listens there: never reached


def _one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert KEY not in stderr
    return lines[0]


def test_a_prompt_on_stdin_over_the_limit_is_a_usage_error() -> None:
    """`text -` with 1 MiB + 1 byte: exit 2 and one line (before: read whole, then sent)."""
    result = run_cli("text", "-", *NO_NETWORK, input=b"a" * (cli_send.MAX_PROMPT_BYTES + 1), expect=2)
    assert "longer than 1 MiB" in _one_line(result.stderr)
    assert KEY not in result.stdout


def test_a_prompt_of_exactly_the_limit_is_read_whole() -> None:
    prompt = cli_send._prompt("-", io.BytesIO(b"b" * (cli_send.MAX_PROMPT_BYTES - 1) + b"\n"))
    assert len(prompt) == cli_send.MAX_PROMPT_BYTES - 1


class _Trickle(io.RawIOBase):
    """An endless stream that returns a few bytes per read (a pipe), counting what was taken from it."""

    def __init__(self) -> None:
        self.taken = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        n = min(len(buffer), 4093)
        buffer[:n] = b"z" * n
        self.taken += n
        return n


def test_an_endless_prompt_stream_is_read_only_up_to_the_limit() -> None:
    """`text - < /dev/zero`: reading stops just past the limit (before: MemoryError)."""
    stream = _Trickle()
    with pytest.raises(UsageError, match="longer than 1 MiB"):
        cli_send._prompt("-", stream)  # type: ignore[arg-type]
    assert stream.taken <= cli_send.MAX_PROMPT_BYTES + 4093


def test_a_system_file_over_the_limit_is_a_usage_error(tmp_path: Path) -> None:
    big = tmp_path / "system.txt"
    big.write_bytes(b"x" * (cli_send.MAX_SYSTEM_BYTES + 1))
    result = run_cli("text", "hi", "--system-file", str(big), *NO_NETWORK, expect=2)
    assert "--system-file" in _one_line(result.stderr)
    assert "longer than 1 MiB" in result.stderr


def test_system_file_dev_zero_is_refused_at_once() -> None:
    result = run_cli("text", "hi", "--system-file", "/dev/zero", *NO_NETWORK, expect=2)
    assert "longer than 1 MiB" in _one_line(result.stderr)


def test_piped_audio_over_the_spool_limit_is_an_input_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """`send -` past the spool limit: exit 6 and one line (before: spooled to disk without bound)."""
    monkeypatch.setattr(decode, "MAX_SPOOL_BYTES", 3 * decode.SPOOL_BYTES)
    result = run_cli("send", "-", *NO_NETWORK, input=b"\0" * (3 * decode.SPOOL_BYTES + 1), expect=6)
    line = _one_line(result.stderr)
    assert "stdin: more than" in line
    assert "of piped audio" in line


def test_send_dev_zero_stops_at_the_spool_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """`send /dev/zero` (a character device, spooled like a pipe) stops at the limit, not when the disk is full."""
    monkeypatch.setattr(decode, "MAX_SPOOL_BYTES", 2 * decode.SPOOL_BYTES)
    result = run_cli("send", "/dev/zero", *NO_NETWORK, expect=6)
    assert "/dev/zero: more than" in _one_line(result.stderr)


def test_the_spool_limit_is_2_gib() -> None:
    """The documented limit (README, "Sending audio")."""
    assert decode.MAX_SPOOL_BYTES == 2 * 1024**3
