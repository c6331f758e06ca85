"""`-o -` streams the reply as it arrives: a WAV header with unknown lengths (or `--format raw`), then each audio
chunk as soon as it is received, so a player on the pipe starts while the model is still speaking.

The servers here are small websockets servers of the test's own that hold the rest of the reply until the test
has read the first bytes from the pipe: "before the run ends" is then a fact of the protocol, not a race.
"""

from __future__ import annotations

import contextlib
import io
import os
import select
import struct
import subprocess
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import soundfile as sf
from helpers import cli_command, subprocess_env, ws_server_thread

from livecli.protocol import server_messages as sm
from tests.commands.send_helpers import HELLO_WAV

API_KEY = "AIzaSyStreamOut-0123456789-secret-KEY"
FIRST = struct.pack("<4h", 1000, -1000, 2000, -2000) * 240  # 40 ms at 24 kHz
REST = struct.pack("<2h", 300, -300) * 480
WAV_HEADER_BYTES = 44
GUARD_S = 20.0  # generous: only a hang reaches it


class HeldReply:
    """Answers setup, waits for the end of the input, sends the first chunk, and holds the rest of the reply
    until `release` is set (or the guard runs out)."""

    def __init__(self, *, rest_rate: int = 24000) -> None:
        self.release = threading.Event()
        self.rest_rate = rest_rate

    def handle(self, ws: Any) -> None:
        ws.recv()
        ws.send(sm.setup_complete())
        while True:
            message = str(ws.recv())
            if any(marker in message for marker in ("activityEnd", "audioStreamEnd", '"text"')):
                break
        ws.send(sm.audio_content(FIRST))
        self.release.wait(GUARD_S)
        ws.send(sm.audio_content(REST, self.rest_rate))
        ws.send(sm.turn_complete())
        with contextlib.suppress(Exception):
            while True:
                ws.recv()


@contextlib.contextmanager
def _running(url: str, *args: str) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        cli_command("send", HELLO_WAV, "--endpoint", url, "--speed", "0", "-o", "-", *args),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=subprocess_env({"GEMINI_API_KEY": API_KEY}),
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(GUARD_S)


def _read_exactly(proc: subprocess.Popen[bytes], count: int) -> bytes:
    """`count` bytes from the process's stdout pipe, waiting at most the guard for them."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    data = b""
    while len(data) < count:
        ready, _, _ = select.select([fd], [], [], GUARD_S)
        assert ready, f"no output within {GUARD_S} s; got {len(data)} bytes"
        piece = os.read(fd, count - len(data))
        assert piece, f"stdout ended after {len(data)} bytes"
        data += piece
    return data


def test_wav_reaches_the_pipe_while_the_reply_is_still_arriving() -> None:
    held = HeldReply()
    with ws_server_thread(held.handle) as url, _running(url) as proc:
        head = _read_exactly(proc, WAV_HEADER_BYTES + len(FIRST))
        still_running = proc.poll() is None
        held.release.set()
        rest, stderr = proc.communicate(timeout=GUARD_S)
    assert still_running  # the server was holding the rest: the bytes came before the run could end
    assert head[:4] == b"RIFF"
    assert head[4:8] == b"\xff\xff\xff\xff"  # unknown length, as sox and ffmpeg write to a pipe
    assert head[40:44] == b"\xff\xff\xff\xff"
    assert head[WAV_HEADER_BYTES:] == FIRST
    assert rest == REST
    assert proc.returncode == 0, stderr
    samples, rate = sf.read(io.BytesIO(head + rest), dtype="int16")
    assert rate == 24000
    assert len(samples) == (len(FIRST) + len(REST)) // 2
    assert b"reply written to stdout" in stderr
    assert API_KEY.encode() not in stderr
    assert API_KEY.encode() not in head + rest


def test_raw_is_bare_pcm_and_its_rate_is_on_stderr() -> None:
    held = HeldReply()
    with ws_server_thread(held.handle) as url, _running(url, "--format", "raw") as proc:
        head = _read_exactly(proc, len(FIRST))
        still_running = proc.poll() is None
        held.release.set()
        rest, stderr = proc.communicate(timeout=GUARD_S)
    assert still_running
    assert head == FIRST
    assert rest == REST
    assert proc.returncode == 0, stderr
    assert b"raw s16le mono at 24000 Hz" in stderr


@pytest.mark.parametrize("kind", ["wav", "raw"])
def test_a_change_of_rate_mid_stream_is_an_error(kind: str) -> None:
    held = HeldReply(rest_rate=16000)
    held.release.set()
    with ws_server_thread(held.handle) as url, _running(url, "--format", kind) as proc:
        out, stderr = proc.communicate(timeout=GUARD_S)
    assert proc.returncode == 2, stderr  # an output error, not success or an internal error (1)
    assert b"rate changed from 24000 to 16000 Hz" in stderr
    assert b"Traceback" not in stderr
    assert out.endswith(FIRST)  # what came before the change stays streamed
    assert REST not in out


def test_format_that_cannot_stream_is_refused_before_connecting() -> None:
    with _running("ws://127.0.0.1:9", "--format", "flac") as proc:
        out, stderr = proc.communicate(timeout=GUARD_S)
    assert proc.returncode == 2
    assert out == b""
    assert b"--format wav or raw" in stderr


class CutThenAnswer:
    """The first connection sends the reply's first chunk and closes 1011; the next one answers in full."""

    def __init__(self) -> None:
        self.connections = 0

    def handle(self, ws: Any) -> None:
        self.connections += 1
        ws.recv()
        ws.send(sm.setup_complete())
        while True:
            message = str(ws.recv())
            if any(marker in message for marker in ("activityEnd", "audioStreamEnd", '"text"')):
                break
        ws.send(sm.audio_content(FIRST))
        if self.connections == 1:
            ws.close(1011, "internal error")
            return
        ws.send(sm.audio_content(REST))
        ws.send(sm.turn_complete())
        with contextlib.suppress(Exception):
            while True:
                ws.recv()


def test_audio_streamed_before_a_resend_stays_and_a_warning_says_so() -> None:
    server = CutThenAnswer()
    with ws_server_thread(server.handle) as url, _running(url, "--format", "raw") as proc:
        out, stderr = proc.communicate(timeout=GUARD_S * 2)
    assert proc.returncode == 0, stderr
    assert server.connections == 2
    assert out == FIRST + FIRST + REST  # the cut attempt's chunk cannot be withdrawn
    assert b"0.04 s of reply audio already written to stdout stay in the stream" in stderr
    assert API_KEY.encode() not in stderr
