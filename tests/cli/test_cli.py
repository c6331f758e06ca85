"""The Typer app's root: version, help, the one error boundary."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import typer
from typer.testing import CliRunner

from livecli import __version__
from livecli.cli.app import app, invoked_app
from livecli.cli.boundary import guarded
from livecli.errors import AudioInputError, QuotaError


def test_version_prints_the_package_version() -> None:
    """`livecli --version` prints the version and exits 0."""
    out = subprocess.run([sys.executable, "-m", "livecli", "--version"], capture_output=True, text=True)
    assert out.returncode == 0
    assert out.stdout.strip() == f"livecli {__version__}"


def test_help_lists_exit_statuses_and_imports_nothing_heavy() -> None:
    """`--help` shows the exit table and imports none of numpy, soundfile, websockets, google.auth, rich, nor the
    optional extras (Pillow, PyAV, mcp, Jinja2, matplotlib)."""
    code = (
        "import sys\n"
        "from livecli.cli.app import app\n"
        "try:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
        "names = ('numpy', 'soundfile', 'websockets', 'google.auth', 'livecli.audio.decode', 'PIL', 'av', 'mcp',\n"
        "         'jinja2', 'matplotlib', 'sounddevice')\n"
        "heavy = [m for m in names if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "HEAVY []" in out.stdout, out.stdout + out.stderr
    assert "130" in out.stdout
    assert "quota" in out.stdout


def _exit_code(action: object) -> int:
    with pytest.raises(typer.Exit) as info:
        guarded(action)  # type: ignore[arg-type]
    return info.value.exit_code


def test_boundary_maps_errors_to_one_line_and_status(capsys: pytest.CaptureFixture[str]) -> None:
    """A LivecliError becomes one escaped line on stderr and its exit status."""

    def fail() -> None:
        raise AudioInputError("in.wav: not an audio file\n\x1b[31mred")

    assert _exit_code(fail) == 6
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "\x1b" not in err
    assert "in.wav: not an audio file" in err


def test_boundary_statuses_for_success_quota_bug_and_interrupt(capsys: pytest.CaptureFixture[str]) -> None:
    """0 on success, 7 for quota, 1 for a bug (no traceback), 130 for Ctrl-C."""

    def quota() -> None:
        raise QuotaError("quota")

    def bug() -> None:
        raise ZeroDivisionError("oops")

    def interrupt() -> None:
        raise KeyboardInterrupt

    assert _exit_code(lambda: 0) == 0
    assert _exit_code(quota) == 7
    assert _exit_code(bug) == 1
    assert _exit_code(interrupt) == 130
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "internal error: ZeroDivisionError: oops" in err


@pytest.mark.parametrize(
    ("args", "built"),
    [
        (["send", "a.wav", "--local"], ["send"]),
        (["text", "-"], ["text"]),
        (["--version"], []),
        (["--help"], None),
        ([], None),
        (["sned"], None),
        (["send", "--help"], ["send"]),
    ],
)
def test_only_the_invoked_command_is_built(args: list[str], built: list[str] | None) -> None:
    """Start-up converts only the command being run (none for --version); help and typos keep them all."""
    names = [c.name for c in invoked_app(args).registered_commands]
    assert names == (built if built is not None else [c.name for c in app.registered_commands])
    assert len(app.registered_commands) >= 5  # the shared app is never pruned


def test_traceback_adds_the_trace_and_keeps_the_status(capsys: pytest.CaptureFixture[str]) -> None:
    """--traceback prints a plain trace, then the same one line and exit status as without it."""

    def fail() -> None:
        raise AudioInputError("in.wav: truncated")

    with pytest.raises(typer.Exit) as info:
        guarded(fail, traceback=True)
    err = capsys.readouterr().err
    assert info.value.exit_code == 6
    assert err.startswith("Traceback")
    assert err.endswith("livecli: error: in.wav: truncated\n")


def test_closed_stdout_pipe_is_one_line_and_status_141(tmp_path: Path) -> None:
    """`-o - | reader-that-quits`: one stderr line and 141, never a traceback or an internal error."""
    wav = tmp_path / "long.wav"
    sf.write(wav, np.zeros(16000 * 5, dtype=np.int16), 16000, subtype="PCM_16")
    with subprocess.Popen(
        [sys.executable, "-m", "livecli", "send", str(wav), "--local", "--speed", "0", "-q", "-o", "-"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as proc:
        assert proc.stdout is not None
        assert proc.stderr is not None
        proc.stdout.close()  # the reader goes away before the reply (> a pipe buffer) is written
        err = proc.stderr.read().decode()
        assert proc.wait(timeout=60) == 141, err
    assert "broken pipe" in err
    assert "Traceback" not in err


def test_closed_stdin_is_bad_input_not_a_crash() -> None:
    """`livecli send - <&-` (no stdin at all) is a clear bad-input error, exit 6."""
    proc = subprocess.run(
        [sys.executable, "-m", "livecli", "send", "-", "--local", "--speed", "0"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        preexec_fn=lambda: os.close(0),
    )
    assert proc.returncode == 6, proc.stderr
    assert "stdin" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_serve_runs_without_a_blas_thread_pool() -> None:
    """numpy's BLAS pool spins between the server's small matrix products: `livecli` runs single-threaded."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    with subprocess.Popen(
        # The asyncio loop: uvloop (used when installed) keeps libuv worker threads of its own, not BLAS's.
        [sys.executable, "-m", "livecli", "serve", "--port", "0", "-q", "--loop", "asyncio"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    ) as proc:
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline().startswith("ws://127.0.0.1:")
            status = Path(f"/proc/{proc.pid}/status").read_text()
            threads = int(status.split("Threads:")[1].split()[0])
            assert threads == 1, status
        finally:
            proc.kill()


def test_root_help_lists_every_command_without_building_its_options() -> None:
    """`livecli --help` shows only names and summaries, so each command is listed without its ~80 options."""
    listed = invoked_app(["--help"]).registered_commands
    assert [c.name for c in listed] == [c.name for c in app.registered_commands]
    assert all(not inspect.signature(c.callback).parameters for c in listed if c.callback is not None)


def test_root_help_lists_the_same_summaries_as_the_whole_app() -> None:
    def listing(typer_app: typer.Typer) -> str:
        out = CliRunner().invoke(typer_app, ["--help"]).output
        return out.split("Commands:", 1)[1].split("Exit status", 1)[0]

    assert listing(invoked_app(["--help"])) == listing(app)
