"""The standard streams as a shell leaves them: closed (`>&-`, `2>&-`, `<&-`), on a full device (/dev/full),
a pipe whose reader leaves early, a file-size limit. Each run is a real process started by `sh`, and ends with
its documented exit status and one line (or silence when stderr is closed), never an internal error.

The runs are independent, so they all start at once (one fixture for the module) and each test checks one.
"""

from __future__ import annotations

import io
import json
import resource
import shutil
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import soundfile as sf
from helpers import REPO, SAMPLES, cli_command, subprocess_env

pytestmark = pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux's /dev/full")

HELLO_WAV = str(SAMPLES / "hello_16k.wav")
LOCAL = ("--local", "--speed", "0")
API_KEY = "AIzaSyStreams-0123456789-secret-KEY"  # set in every run: it must never appear in what they print


@dataclass
class Run:
    """One finished process: status, stdout bytes, stderr text."""

    status: int
    stdout: bytes
    stderr: str


def _limit_file_size() -> None:
    """In the child: files may not grow past 40 kB (a small "disk"), and the signal for it only fails the write."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (40_000, 40_000))


def _start(redirects: str, *args: str, cwd: Path, limit_size: bool = False) -> subprocess.Popen[bytes]:
    """`livecli ARGS REDIRECTS` through sh, with stdout and stderr captured unless REDIRECTS changes them."""
    command = ["sh", "-c", f'exec "$@" {redirects}', "sh", *cli_command(*args)]
    return subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=subprocess_env({"GEMINI_API_KEY": API_KEY}),
        cwd=cwd,
        preexec_fn=_limit_file_size if limit_size else None,  # before exec: only the child is limited
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[Run, Path]]]:
    """Every case run once, all at the same time; each with a folder of its own holding `in.wav`."""
    root = tmp_path_factory.mktemp("streams")
    cases = {
        "stderr closed, -o -": ("2>&-", ("send", "in.wav", "-o", "-", *LOCAL), False),
        "stdin closed, text -": ("<&-", ("text", "-", *LOCAL), False),
        "stdout closed, -o file": (">&-", ("send", "in.wav", "-o", "reply.wav", *LOCAL), False),
        "stdout closed, transcript": (">&-", ("send", "in.wav", *LOCAL), False),
        "stdout closed, --json": (">&-", ("send", "in.wav", "-o", "reply.wav", "--json", *LOCAL), False),
        "stdout full, transcript": (">/dev/full", ("send", "in.wav", "-q", *LOCAL), False),
        "stdout full, -o -": (">/dev/full", ("send", "in.wav", "-q", "-o", "-", *LOCAL), False),
        "stdout full, --json": (">/dev/full", ("send", "in.wav", "-o", "reply.wav", "--json", *LOCAL), False),
        "stderr full, -o file": ("2>/dev/full", ("send", "in.wav", "-o", "reply.wav", *LOCAL), False),
        "bad input, stderr closed": ("2>&-", ("send", "bad.wav", "-o", "reply.wav", *LOCAL), False),
        "bad input, stderr full": ("2>/dev/full", ("send", "bad.wav", "-o", "reply.wav", *LOCAL), False),
        "stdin is the output": ("<in.wav", ("send", "-", "-o", "in.wav", *LOCAL), False),
        "disk full": ("", ("send", "in.wav", "-o", "reply.wav", "--json", *LOCAL), True),
    }
    started = {}
    for name, (redirects, args, limit) in cases.items():
        folder = root / name.replace(" ", "_").replace(",", "")
        folder.mkdir()
        shutil.copy(HELLO_WAV, folder / "in.wav")
        (folder / "bad.wav").write_text("this is not audio\n" * 40)
        started[name] = (_start(redirects, *args, cwd=folder, limit_size=limit), folder)
    finished = {}
    for name, (proc, folder) in started.items():
        out, err = proc.communicate(timeout=60)
        finished[name] = (Run(proc.returncode, out, err.decode("utf-8", "replace")), folder)
    yield finished


def _one_error_line(run: Run) -> str:
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("livecli: error: ")
    assert "Traceback" not in run.stderr
    return lines[0]


def test_no_run_prints_the_key(runs: dict[str, tuple[Run, Path]]) -> None:
    """Whatever the streams, the API key is never printed."""
    for run, _ in runs.values():
        assert API_KEY not in run.stderr
        assert API_KEY.encode() not in run.stdout


def test_a_closed_stderr_keeps_the_display_off_stdout(runs: dict[str, tuple[Run, Path]]) -> None:
    """L3: `-o - 2>&-` wrote `connecting to ws://…` into the WAV on stdout; now stdout is the WAV alone, exit 0."""
    run, _ = runs["stderr closed, -o -"]
    assert run.status == 0
    assert run.stdout[:4] == b"RIFF"
    assert b"connecting" not in run.stdout
    assert sf.info(io.BytesIO(run.stdout)).samplerate == 24000


def test_text_from_a_closed_stdin_is_an_empty_prompt(runs: dict[str, tuple[Run, Path]]) -> None:
    """`text - <&-` was `internal error: ValueError` (1); it is the empty-prompt usage error (2)."""
    run, _ = runs["stdin closed, text -"]
    assert run.status == 2
    assert "the prompt is empty (stdin is closed)" in _one_error_line(run)


def test_a_closed_stdout_is_fine_when_nothing_goes_there(runs: dict[str, tuple[Run, Path]]) -> None:
    """`>&-` with `-o reply.wav` was `internal error: AttributeError` (1): nothing needs stdout, so it runs."""
    run, folder = runs["stdout closed, -o file"]
    assert run.status == 0, run.stderr
    assert sf.info(str(folder / "reply.wav")).frames > 0
    assert "reply written to reply.wav" in run.stderr


@pytest.mark.parametrize(("case", "what"), [("transcript", "the transcript"), ("--json", "the --json events")])
def test_a_closed_stdout_that_data_needs_is_refused_before_connecting(
    runs: dict[str, tuple[Run, Path]], case: str, what: str
) -> None:
    """Data with nowhere to go is a usage error (2) before connecting, not an internal error (1)."""
    run, folder = runs[f"stdout closed, {case}"]
    assert run.status == 2
    assert f"stdout is closed: nowhere to write {what}" in _one_error_line(run)
    assert not (folder / "reply.wav").exists()


@pytest.mark.parametrize("case", ["transcript", "-o -", "--json"])
def test_stdout_on_a_full_device_is_an_output_error(runs: dict[str, tuple[Run, Path]], case: str) -> None:
    """`>/dev/full` was `internal error: OSError` (1): it is one line and exit 2."""
    run, _ = runs[f"stdout full, {case}"]
    assert run.status == 2
    assert "cannot write to stdout: No space left on device" in _one_error_line(run)


def test_stderr_on_a_full_device_turns_the_display_off(runs: dict[str, tuple[Run, Path]]) -> None:
    """`2>/dev/full` was `internal error: OSError` (1): the display is off, the run is not an error."""
    run, folder = runs["stderr full, -o file"]
    assert run.status == 0
    assert sf.info(str(folder / "reply.wav")).frames > 0


@pytest.mark.parametrize("stderr", ["closed", "full"])
def test_a_bad_input_keeps_its_status_without_a_stderr(runs: dict[str, tuple[Run, Path]], stderr: str) -> None:
    """A bad input with stderr closed exited 1 (the error line itself failed); it is 6, in silence."""
    run, _ = runs[f"bad input, stderr {stderr}"]
    assert run.status == 6
    assert run.stdout == b""


def test_an_output_that_is_the_file_on_stdin_is_refused(runs: dict[str, tuple[Run, Path]]) -> None:
    """L1 through stdin: `send - -o in.wav < in.wav` would replace the input being read."""
    run, folder = runs["stdin is the output"]
    assert run.status == 2
    assert "is the file on stdin" in _one_error_line(run)
    assert (folder / "in.wav").read_bytes() == Path(HELLO_WAV).read_bytes()


def test_a_full_disk_is_one_line_exit_2_and_a_truthful_summary(runs: dict[str, tuple[Run, Path]]) -> None:
    """L4 and T2: a file-size limit below the reply's size (a full disk, for this process) was a raw cffi
    traceback, AssertionError and exit 1, with a --json summary saying 0; now it is one line and exit 2, an
    error event and a summary saying 2, and no file, temporary or not, is left behind."""
    run, folder = runs["disk full"]
    assert run.status == 2
    line = _one_error_line(run)
    assert "reply.wav: cannot write: File too large" in line
    assert "AssertionError" not in run.stderr
    seen = [json.loads(line) for line in run.stdout.splitlines()]
    errors = [event for event in seen if event["type"] == "error"]
    assert [(e["kind"], e["exit_status"]) for e in errors] == [("OutputError", 2)]
    assert seen[-1]["type"] == "summary"
    assert seen[-1]["exit_status"] == 2
    assert not [e for e in seen if e["type"] == "reply_written"]
    assert sorted(p.name for p in folder.iterdir()) == ["bad.wav", "in.wav"]


def test_a_reader_leaving_after_100_bytes_is_141(tmp_path: Path) -> None:
    """T1: `-o - | head -c 100` exited 0 with "reply written to stdout" (Python's buffered writer reports a
    short write as success); a real pipe whose reader closes after 100 bytes now gives 141 and no such line."""
    with subprocess.Popen(
        cli_command("send", HELLO_WAV, *LOCAL, "-o", "-"),  # a 100 kB reply: more than a pipe buffer holds
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=subprocess_env(),
        cwd=REPO,
    ) as proc:
        assert proc.stdout is not None
        assert proc.stderr is not None
        head = proc.stdout.read(100)
        proc.stdout.close()
        err = proc.stderr.read().decode()
        status = proc.wait(timeout=60)
    assert head[:4] == b"RIFF"
    assert status == 141, err
    assert "reply written" not in err
    assert "broken pipe" in err
