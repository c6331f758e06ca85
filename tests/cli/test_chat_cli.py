"""`livecli chat` as the shell runs it: over a pipe, on a pseudo-terminal (readline, slash commands), exit codes.

The pty tests type lines into a terminal the test owns and read what the terminal shows, with bounded waits for
each expected line (never a speed assertion).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import select
import signal
import struct
import subprocess
import termios
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import REPO, SAMPLES, cli_command, dev_only, local_server, run_cli, run_cli_subprocess, subprocess_env

HELLO_WAV = str(SAMPLES / "hello_16k.wav")
SECRET = "AIzaSyCHAT-CLI-SECRET-0123456789abcdefg"
WAIT_S = 30.0  # the longest any expected line may take (a generous guard, not a measurement)
_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]|\r")


def test_a_pipe_gets_one_transcript_line_per_turn_and_exit_0() -> None:
    result = run_cli_subprocess(
        "chat", "--local", "--speed", "0", input=b"hello\nwhat did I just say?\n", env={"GEMINI_API_KEY": SECRET}
    )
    assert result.stdout.splitlines() == ['turn 1: heard "hello"', 'turn 2: heard "what did I just say?"']
    assert SECRET not in result.stdout + result.stderr


def test_json_events_parse_back() -> None:
    result = run_cli("chat", "--local", "--speed", "0", "--json", input=b"one\ntwo\n")
    completed = result.of_type("turn_complete")
    assert [event["output_transcript"] for event in completed] == ['turn 1: heard "one"', 'turn 2: heard "two"']
    assert result.of_type("summary")[0]["exit_status"] == 0


def test_a_refused_setup_exits_3() -> None:
    result = run_cli("chat", "--local", "--voice", "Nobody", "--no-preflight", input=b"hello\n", expect=3)
    assert "1007" in result.stderr


def test_an_empty_input_is_an_empty_conversation() -> None:
    result = run_cli("chat", "--local", "--speed", "0", input=b"")
    assert result.stdout == ""


def test_a_bad_audio_file_from_a_pipe_exits_6(tmp_path: Path) -> None:
    result = run_cli(
        "chat", "--local", "--speed", "0", input=f"/audio {tmp_path / 'none.wav'}\n".encode(), expect=6
    )
    assert "none.wav: no such file" in result.stderr


@contextlib.contextmanager
def piped_chat(*args: str) -> Iterator[subprocess.Popen[bytes]]:
    """A chat subprocess whose stdin stays open (the conversation goes on until the test ends it)."""
    proc = subprocess.Popen(
        cli_command("chat", "--speed", "0", *(args or ("--local",))),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=subprocess_env(),
        cwd=REPO,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(WAIT_S)
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            assert stream is not None
            stream.close()


def first_reply(proc: subprocess.Popen[bytes]) -> bytes:
    """Type one line and read the reply's transcript line."""
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(b"hello\n")
    proc.stdin.flush()
    ready, _, _ = select.select([proc.stdout], [], [], WAIT_S)
    assert ready, "no reply line"
    return proc.stdout.readline()


@pytest.mark.parametrize(("sig", "status"), [(signal.SIGTERM, 143), (signal.SIGINT, 0)])
def test_sigterm_exits_143_and_ctrl_c_ends_the_conversation_with_0(sig: signal.Signals, status: int) -> None:
    with piped_chat() as proc:
        assert first_reply(proc) == b'turn 1: heard "hello"\n'
        proc.send_signal(sig)
        assert proc.wait(WAIT_S) == status


def say(proc: subprocess.Popen[bytes], line: str) -> None:
    assert proc.stdin is not None
    proc.stdin.write(line.encode() + b"\n")
    proc.stdin.flush()


def next_event(proc: subprocess.Popen[bytes], kind: str) -> dict[str, Any]:
    """The next --json event of `kind` (bounded wait)."""
    assert proc.stdout is not None
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], deadline - time.monotonic())
        line = proc.stdout.readline() if ready else b""
        assert line, f"no {kind} event"
        event: dict[str, Any] = json.loads(line)
        if event["type"] == kind:
            return event
    raise AssertionError(f"no {kind} event within {WAIT_S} s")


def test_a_goaway_while_the_user_types_is_resumed_at_the_next_line() -> None:
    with (
        local_server(max_connection_s=0.5) as server,
        piped_chat("--endpoint", server.endpoint(), "--json") as proc,
    ):
        say(proc, "hello")
        assert next_event(proc, "turn_complete")["output_transcript"] == 'turn 1: heard "hello"'
        next_event(proc, "go_away")  # applied while the conversation waits for the next line
        say(proc, "again")
        assert next_event(proc, "reconnect")["attempt"] == 1
        assert next_event(proc, "resumed")["with_handle"] is True
        assert next_event(proc, "turn_complete")["output_transcript"] == 'turn 2: heard "again"'
        assert proc.stdin is not None
        proc.stdin.close()
        assert proc.wait(WAIT_S) == 0


class Terminal:
    """A chat subprocess on a pseudo-terminal: `type` a line, `expect` what the terminal shows next."""

    def __init__(self, master: int, proc: subprocess.Popen[bytes]) -> None:
        self.master = master
        self.proc = proc
        self.seen = ""  # everything shown so far, escape sequences removed
        self.read_to = 0  # `expect` looks after this point

    def type(self, line: str) -> None:
        os.write(self.master, line.encode() + b"\r")

    def expect(self, text: str) -> str:
        """Wait (bounded) until `text` is shown after what the last expect matched; what came before it."""
        deadline = time.monotonic() + WAIT_S
        while (at := self.seen.find(text, self.read_to)) < 0:
            left = deadline - time.monotonic()
            assert left > 0, f"{text!r} not shown; the terminal shows:\n{self.seen[self.read_to :]}"
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    data = os.read(self.master, 65536)
                except OSError:  # the child closed the terminal
                    data = b""
                assert data, (
                    f"{text!r} not shown before the end; the terminal showed:\n{self.seen[self.read_to :]}"
                )
                self.seen = _ESCAPES.sub("", self.seen + data.decode("utf-8", "replace"))
        before = self.seen[self.read_to : at]
        self.read_to = at + len(text)
        return before


def _make_controlling_terminal() -> None:
    """In the child: a session of its own with the pty as its terminal, so Ctrl-C there is its SIGINT."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


@contextlib.contextmanager
def terminal(tmp_path: Path, *args: str) -> Iterator[Terminal]:
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 200, 0, 0))  # wide: no wrapped lines
    env = subprocess_env({"XDG_STATE_HOME": str(tmp_path / "state"), "TERM": "dumb", "GEMINI_API_KEY": SECRET})
    proc = subprocess.Popen(
        cli_command("chat", "--local", "--speed", "0", *args),
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        cwd=tmp_path,
        preexec_fn=_make_controlling_terminal,
    )
    os.close(slave)
    try:
        yield Terminal(master, proc)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(WAIT_S)
        os.close(master)


def test_a_conversation_on_a_terminal(tmp_path: Path) -> None:
    image = dev_only("PIL.Image")
    image.new("RGB", (64, 48), (10, 200, 10)).save(tmp_path / "pic.png")
    with terminal(tmp_path, "--settle-ms", "100") as term:
        term.expect("> ")
        term.type("hello")
        term.expect('turn 1: heard "hello"')
        term.expect("turn 1 complete")
        assert 'turn 1: heard "hello"' in term.seen.splitlines()  # a line of its own, not drawn over
        term.type("/he\t")  # Tab completes the command
        assert "/image FILE" in term.expect("/quit")
        term.type("/image missing.png")
        term.expect("warning: ")  # on a terminal a bad file is a warning: the conversation goes on
        term.type("/image pic.png")
        term.expect("pic.png: sent with the next turn")
        term.type("what is it?")
        term.expect('turn 2: saw 1 frame (64x48), heard "what is it?"')
        term.type(f"/audio {HELLO_WAV}")
        term.expect("turn 3: heard 1.8")
        term.type("/save last.wav")
        term.expect("reply written to last.wav")
        term.type("/quit")
        assert term.proc.wait(WAIT_S) == 0
        shown = term.seen
    assert (tmp_path / "last.wav").stat().st_size > 44
    assert SECRET not in shown
    history = (tmp_path / "state" / "livecli" / "chat_history").read_text()
    assert "what is it?" in history


def test_ctrl_c_at_the_prompt_ends_the_conversation_with_0(tmp_path: Path) -> None:
    with terminal(tmp_path) as term:
        term.expect("> ")
        term.type("hi")
        term.expect('turn 1: heard "hi"')
        term.expect("> ")
        os.write(term.master, b"\x03")
        assert term.proc.wait(WAIT_S) == 0


def test_ctrl_d_at_the_prompt_ends_the_conversation_with_0(tmp_path: Path) -> None:
    with terminal(tmp_path) as term:
        term.expect("> ")
        os.write(term.master, b"\x04")
        assert term.proc.wait(WAIT_S) == 0


def test_play_without_a_speaker_is_one_line_and_exit_2() -> None:
    """No sound card here (or no talk extra under test-min): refused before connecting."""
    result = run_cli("chat", "--local", "--play", input=b"hello\n", expect=2)
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("livecli: error: ")
    assert result.stdout == ""


def test_ctrl_c_during_a_reply_writes_it_as_partial_and_exits_0(tmp_path: Path) -> None:
    with (
        local_server(reply_speed=1.0) as server,
        piped_chat("--endpoint", server.endpoint(), "--json", "--save-dir", str(tmp_path)) as proc,
    ):
        say(proc, f"/audio {HELLO_WAV}")
        next_event(proc, "reply_audio")  # the reply plays out in real time: about 2 s of it still to come
        proc.send_signal(signal.SIGINT)
        written = next_event(proc, "reply_written")
        assert proc.wait(WAIT_S) == 0
    assert written["partial"] is True
    assert written["path"] == str(tmp_path / "turn-1.wav")
    assert (tmp_path / "turn-1.wav").stat().st_size > 44
