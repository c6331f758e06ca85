"""L5: a server that streams reply audio (or text) without end cannot fill the client's memory: past
`--max-reply-seconds` of audio, or the text cap, the run stops with one line and exit 4, the reply up to the
limit is still written, and the process's peak memory stays small.

The flooding servers are small websockets servers of the test's own; each floods in a bounded loop that ends as
soon as the client goes away. Peak memory is the child's max RSS (resource.getrusage in a wrapper process)."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path
from typing import Any

import soundfile as sf
from helpers import cli_command, subprocess_env, ws_server_thread
from websockets.exceptions import ConnectionClosed

from livecli.commands.reply_limits import MAX_REPLY_TEXT_CHARS
from livecli.protocol import server_messages as sm
from tests.commands.send_helpers import HELLO_WAV

API_KEY = "AIzaSyReplyLimits-0123456789-secret-KEY"
ONE_SECOND = b"\x10\x00\xf0\xff" * 12000  # 1 s at 24 kHz
FLOOD_FRAMES = 20_000  # 20,000 s of audio (960 MB of PCM) if nothing stops the client
PEAK_RSS_BOUND_KB = 400 * 1024  # generous: the interpreter, numpy and websockets take ~100 MB

# Runs livecli as its child and prints the child's peak RSS (kB) on the last line of stderr.
_MEASURE = (
    "import resource, subprocess, sys\n"
    "status = subprocess.run(sys.argv[1:]).returncode\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
    "sys.exit(status)\n"
)


def _flood(frame: bytes) -> Any:
    def handle(ws: Any) -> None:
        ws.recv()
        ws.send(sm.setup_complete())
        while True:
            message = str(ws.recv())
            if any(marker in message for marker in ("activityEnd", "audioStreamEnd", '"text"')):
                break
        with contextlib.suppress(ConnectionClosed):
            for _ in range(FLOOD_FRAMES):
                ws.send(frame)

    return handle


def _run_measured(url: str, *args: str) -> tuple[int, str, int]:
    """Exit status, stderr (without the measurement) and the peak RSS in kB of one `send` run."""
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            _MEASURE,
            *cli_command("send", HELLO_WAV, "--endpoint", url, "--speed", "0", *args),
        ],
        capture_output=True,
        env=subprocess_env({"GEMINI_API_KEY": API_KEY}),
        timeout=120,
    )
    *lines, peak = proc.stderr.decode().splitlines()
    return proc.returncode, "\n".join(lines), int(peak)


def test_endless_audio_stops_at_max_reply_seconds_with_bounded_memory(tmp_path: Path) -> None:
    out = tmp_path / "reply.wav"
    with ws_server_thread(_flood(sm.audio_content(ONE_SECOND))) as url:
        status, stderr, peak_kb = _run_measured(url, "--max-reply-seconds", "30", "-o", str(out))
    assert status == 4, stderr
    assert "the reply passed --max-reply-seconds (30 s of audio)" in stderr
    assert "Traceback" not in stderr
    assert API_KEY not in stderr
    assert peak_kb < PEAK_RSS_BOUND_KB
    assert 29 <= sf.info(str(out)).duration <= 31  # what came up to the limit is kept, as partial
    assert "partial reply written" in stderr


def test_endless_text_stops_at_the_text_cap_with_bounded_memory() -> None:
    piece = "x" * 65536
    with ws_server_thread(_flood(sm.output_transcription(piece))) as url:
        status, stderr, peak_kb = _run_measured(url, "-q")
    assert status == 4, stderr
    assert f"passed {MAX_REPLY_TEXT_CHARS} characters of text and transcripts" in stderr
    assert peak_kb < PEAK_RSS_BOUND_KB


def test_max_reply_seconds_must_be_positive() -> None:
    with ws_server_thread(_flood(b"")) as url:
        status, stderr, _ = _run_measured(url, "--max-reply-seconds", "0")
    assert status == 2
    assert "--max-reply-seconds" in stderr
