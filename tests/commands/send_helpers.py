"""What the tests of the send use case share: running it with an injected Env, its --json events, tone files."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from helpers import SAMPLES

from livecli.auth.target import ConnectOptions
from livecli.cli.exit_status import exit_status_for
from livecli.commands.request import RunRequest
from livecli.commands.send import run as run_command
from livecli.env import Env

HELLO_WAV = str(SAMPLES / "hello_16k.wav")


def run(req: RunRequest, env: Env) -> int:
    """The use case with the CLI's exit-status table, as `livecli send` calls it."""
    return run_command(req, env, exit_status_for)


def make_env() -> tuple[Env, io.BytesIO, io.StringIO]:
    """An Env on in-memory streams, with its stdout and stderr."""
    stdout, stderr = io.BytesIO(), io.StringIO()
    return Env(stdin=io.BytesIO(), stdout=stdout, stderr=stderr, environ={}), stdout, stderr


def at(url: str, **kw: Any) -> RunRequest:
    """A --json request to the server at `url`."""
    return RunRequest(connect=ConnectOptions(endpoint=url), json=True, **kw)


def events(stdout: io.BytesIO, kind: str | None = None) -> list[dict[str, Any]]:
    """The --json events written so far, or only those of one type."""
    seen = [json.loads(line) for line in stdout.getvalue().splitlines()]
    return seen if kind is None else [event for event in seen if event["type"] == kind]


def tone(path: Path, seconds: float) -> str:
    """A 16 kHz WAV of a 440 Hz tone, `seconds` long; returns its path."""
    t = np.arange(int(seconds * 16000)) / 16000
    sf.write(path, (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 16000, subtype="PCM_16")
    return str(path)
