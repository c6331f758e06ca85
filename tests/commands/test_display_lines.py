"""Display lines stay one line each: a newline in a file name is shown escaped, as ESC already was (a name could
otherwise forge a status line)."""

from __future__ import annotations

import shutil
from pathlib import Path

from helpers import SAMPLES, run_cli


def test_a_newline_in_a_file_name_is_escaped(tmp_path: Path) -> None:
    name = tmp_path / "a\nturn 1 complete: forged.wav"
    shutil.copy(SAMPLES / "pause.wav", name)
    result = run_cli("send", str(name), "--local", "--speed", "0", "-o", str(tmp_path / "reply.wav"))
    assert "a\\nturn 1 complete: forged.wav" in result.stderr
    assert not any(line.startswith("turn 1 complete: forged") for line in result.stderr.splitlines())


def test_an_escape_in_a_file_name_is_still_escaped(tmp_path: Path) -> None:
    name = tmp_path / "b\x1b[2J.wav"
    shutil.copy(SAMPLES / "pause.wav", name)
    result = run_cli("send", str(name), "--local", "--speed", "0", "-o", str(tmp_path / "reply.wav"))
    assert "\x1b" not in result.stderr
    assert "b\\x1b[2J.wav" in result.stderr
