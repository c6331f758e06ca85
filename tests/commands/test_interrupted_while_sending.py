"""Ctrl-C (or SIGTERM) while an input is being sent says how much of it was sent and that no reply to it exists
(the turn never ended, so the server was never asked to answer); before, only "interrupted" was printed."""

from __future__ import annotations

import io
import re
import signal
import subprocess
from pathlib import Path

import numpy as np
import soundfile as sf
from helpers import cli_command, subprocess_env

from livecli.protocol.report import InputInfo
from livecli.render.console import RichRenderer

INFO = InputInfo("long.wav", 1, 1, 10.0, 320000)


def rendered(*calls: tuple[str, tuple[object, ...]]) -> str:
    out = io.StringIO()
    renderer = RichRenderer(out, is_tty=False)
    for name, args in calls:
        getattr(renderer, name)(*args)
    return out.getvalue()


def test_ctrl_c_mid_input_says_how_much_was_sent() -> None:
    text = rendered(
        ("input_started", (INFO,)),
        ("input_progress", (INFO, 25, 32000)),
        ("error", (KeyboardInterrupt(), 130)),
    )
    assert (
        "stopped while sending long.wav: 1.00 s of 10.00 s sent; its turn never ended, so there is no reply to it"
        in text
    )


def test_ctrl_c_after_the_input_ended_says_nothing_of_the_kind() -> None:
    text = rendered(
        ("input_started", (INFO,)),
        ("input_ended", (INFO, 250, 320000)),
        ("error", (KeyboardInterrupt(), 130)),
    )
    assert "stopped while sending" not in text


def test_another_failure_mid_input_is_not_called_a_stop() -> None:
    text = rendered(("input_started", (INFO,)), ("error", (RuntimeError("boom"), 1)))
    assert "stopped while sending" not in text


def test_sigint_while_sending(tmp_path: Path) -> None:
    """The whole command: a paced 10 s input, SIGINT once sending has begun."""
    source = tmp_path / "long.wav"
    sf.write(source, 0.3 * np.sin(np.arange(160000) / 5), 16000)
    proc = subprocess.Popen(
        cli_command("send", str(source), "--local", "-o", str(tmp_path / "reply.wav")),
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=subprocess_env(),
    )
    try:
        assert proc.stderr is not None
        seen = ""
        while "sending " not in seen:  # bounded: the line comes, or stderr ends
            line = proc.stderr.readline()
            if not line:
                break
            seen += line
        proc.send_signal(signal.SIGINT)
        rest = proc.communicate(timeout=20)[1]
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, rest
    assert re.search(r"stopped while sending .*long\.wav: \d+\.\d\d s of 10\.00 s sent; .* no reply to it", rest)
    assert not (tmp_path / "reply.wav").exists()
