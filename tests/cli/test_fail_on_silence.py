"""Silence, both ways (issue 10, T7): a silent input (all zero, all NaN) is warned about; `--fail-on-silence`
makes it exit 6 before connecting, and a near-silent reply exit 5."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from helpers import SAMPLES, LocalServer, run_cli

from livecli.audio.decode import open_input

KEY = "AIzaSySILENCE-not-a-real-key-0123456789"
HELLO = str(SAMPLES / "hello_16k.wav")


def _wav(path: Path, samples: np.ndarray, subtype: str = "FLOAT", rate: int = 16000) -> str:
    sf.write(path, samples, rate, subtype=subtype)
    return str(path)


def _events(stdout: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


@pytest.mark.parametrize(
    ("samples", "subtype"),
    [
        (np.zeros(8000, np.float32), "PCM_16"),
        (np.full(8000, np.nan, np.float32), "FLOAT"),
        (np.full(8000, 1e-6, np.float32), "FLOAT"),  # rounds to 0 at 16 bits
        (np.stack([np.full(8000, 0.25), np.full(8000, -0.25)], axis=1).astype(np.float32), "FLOAT"),  # cancels
    ],
    ids=["zeros", "nan", "below-one-lsb", "stereo-that-cancels"],
)
def test_silent_inputs_are_silent(tmp_path: Path, samples: np.ndarray, subtype: str) -> None:
    with open_input(_wav(tmp_path / "quiet.wav", samples, subtype)) as audio:
        assert audio.silent()


def test_an_input_with_sound_is_not_silent_and_still_streams_whole(tmp_path: Path) -> None:
    """silent() stops at the first audible block; pcm16 then rewinds: nothing is lost."""
    samples = np.zeros(40000, np.float32)
    samples[-10:] = 0.5  # sound only at the very end (the last block)
    with open_input(_wav(tmp_path / "late.wav", samples)) as audio:
        assert not audio.silent()
        assert sum(len(chunk) for chunk in audio.pcm16(40)) == 40000 * 2


def test_a_silent_input_is_warned_about(tmp_path: Path, live_server: LocalServer) -> None:
    """Without the flag the run goes on (exit 0) with a warning event (before: nothing said)."""
    name = _wav(tmp_path / "nan.wav", np.full(8000, np.nan, np.float32))
    result = run_cli(
        "send", name, "--endpoint", live_server.endpoint(), "--api-key", KEY, "--speed", "0", "--json"
    )
    warnings = [e["message"] for e in _events(result.stdout) if e["type"] == "warning"]
    assert any("the input is silent" in str(message) for message in warnings), warnings
    assert KEY not in result.stdout
    assert KEY not in result.stderr


def test_a_silent_input_is_warned_about_on_the_display(tmp_path: Path, live_server: LocalServer) -> None:
    name = _wav(tmp_path / "zero.wav", np.zeros(8000, np.float32), "PCM_16")
    result = run_cli("send", name, "--endpoint", live_server.endpoint(), "--api-key", KEY, "--speed", "0")
    assert "zero.wav: the input is silent (every sample is zero or NaN)" in result.stderr


def test_fail_on_silence_refuses_a_silent_input_before_connecting(tmp_path: Path) -> None:
    """Exit 6, one line, and no connection: nothing listens on port 9, which would be exit 4."""
    name = _wav(tmp_path / "zero.wav", np.zeros(8000, np.float32), "PCM_16")
    result = run_cli(
        "send", name, "--endpoint", "ws://127.0.0.1:9", "--api-key", KEY, "--fail-on-silence", expect=6
    )
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "the input is silent" in lines[0]
    assert "--fail-on-silence" in lines[0]
    assert KEY not in result.stderr


def test_fail_on_silence_makes_a_near_silent_reply_exit_5(live_server: LocalServer) -> None:
    """The `silent` scenario answers with digital silence: a warning before, exit 5 with the flag."""
    endpoint = live_server.endpoint("silent")
    args = ("send", HELLO, "--endpoint", endpoint, "--api-key", KEY, "--speed", "0", "--json")
    run_cli(*args, expect=0)
    result = run_cli(*args, "--fail-on-silence", expect=5)
    errors = [e for e in _events(result.stdout) if e["type"] == "error"]
    assert len(errors) == 1
    assert "--fail-on-silence: the reply to" in str(errors[0]["message"])
    assert "near-silent (all samples zero)" in str(errors[0]["message"])
    assert KEY not in result.stdout


def test_fail_on_silence_passes_on_an_audible_reply(live_server: LocalServer) -> None:
    result = run_cli(
        "send", HELLO, "--endpoint", live_server.endpoint(), "--api-key", KEY, "--speed", "0", "--fail-on-silence"
    )
    assert "--fail-on-silence: no reply is near-silent" in result.stderr
