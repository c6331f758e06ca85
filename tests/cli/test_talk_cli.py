"""`livecli talk` and `livecli devices` at the command line: the missing extra or PortAudio is one line (exit 2),
help imports no sounddevice, Ctrl-C is the user ending the conversation (0) while SIGTERM stays 143."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from helpers import run_cli

from livecli.cli import boundary
from livecli.cli.talk import talk_exit_status

FAKE_NO_PORTAUDIO = 'raise OSError("PortAudio library not found")\n'


@pytest.fixture
def no_sounddevice(monkeypatch: pytest.MonkeyPatch) -> None:
    """The talk extra is not installed (an import of sounddevice fails)."""
    monkeypatch.setitem(sys.modules, "sounddevice", None)


@pytest.fixture
def no_portaudio(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """sounddevice is there, the PortAudio library is not: its import raises OSError, as the real one does."""
    (tmp_path / "sounddevice.py").write_text(FAKE_NO_PORTAUDIO)
    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))


def test_talk_help_imports_no_sounddevice() -> None:
    code = (
        "import sys\nfrom livecli.cli.app import app\n"
        "try:\n    app(['talk', '--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = ('sounddevice', 'numpy', 'websockets', 'rich', 'livecli.audio.devices')\n"
        "print('HEAVY', [m for m in heavy if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert "HEAVY []" in out.stdout, out.stderr
    assert "--push-to-talk" in out.stdout
    assert "--headphones" in out.stdout


@pytest.mark.usefixtures("no_sounddevice")
@pytest.mark.parametrize(
    "args",
    [["talk", "--local"], ["devices"], ["text", "hi", "--local", "--play"]],
    ids=["talk", "devices", "play"],
)
def test_without_the_extra_one_line_names_the_pip_command(args: list[str]) -> None:
    result = run_cli(*args, expect=2)
    assert "pip install 'livecli[talk]'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


@pytest.mark.usefixtures("no_portaudio")
@pytest.mark.parametrize("args", [["talk", "--local"], ["devices", "--json"]])
def test_without_portaudio_one_line_names_what_to_install(args: list[str]) -> None:
    result = run_cli(*args, expect=2)
    assert "apt-get install libportaudio2" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_push_to_talk_refuses_vad_tuning_in_its_own_words() -> None:
    result = run_cli("talk", "--local", "--push-to-talk", "--vad-silence-ms", "300", expect=2)
    assert "--push-to-talk switches off" in result.stderr
    assert "--turn-end" not in result.stderr


def test_ctrl_c_ends_a_talk_with_status_0() -> None:
    assert talk_exit_status(KeyboardInterrupt()) == 0


def test_sigterm_still_ends_a_talk_with_143(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(boundary, "_terminated", True)
    assert talk_exit_status(KeyboardInterrupt()) == 143


def test_other_failures_keep_their_status() -> None:
    from livecli.errors import ConnectError

    assert talk_exit_status(ConnectError("refused")) == 4
