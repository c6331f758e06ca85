"""What the talk tests share: the talk use case run with virtual devices against a local server."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import soundfile as sf

from livecli.audio.virtual_devices import VirtualCapture, VirtualPlayback
from livecli.auth.target import ConnectOptions
from livecli.cli.talk import talk_exit_status
from livecli.commands.request import RunRequest
from livecli.commands.session_setup import SessionOptions
from livecli.commands.talk import run as talk_run
from livecli.commands.talk.loop import TalkLoop
from livecli.commands.talk.request import TalkRequest
from livecli.env import Env
from tests.helpers import SAMPLES

Press = Callable[[str], None]


def speech(seconds_after: float, *, before: float = 0.2, rate: int = 48000) -> npt.NDArray[np.float32]:
    """`samples/hello_48k_float.wav` (0.95 s of speech) as a stereo capture at 48 kHz, with silence around it."""
    hello, file_rate = sf.read(SAMPLES / "hello_48k_float.wav", dtype="float32")
    assert file_rate == rate
    mono = np.concatenate(
        [np.zeros(int(before * rate), np.float32), hello, np.zeros(int(seconds_after * rate), np.float32)]
    )
    return np.stack([mono, 0.5 * mono], axis=1)


def silence(seconds: float, rate: int = 48000) -> npt.NDArray[np.float32]:
    return np.zeros((int(seconds * rate), 2), np.float32)


class ScriptedKeys:
    """Keys pressed by a script (an async function given `press`), as a user would."""

    def __init__(self, script: Callable[[Press], Awaitable[None]] | None = None) -> None:
        self.script = script
        self.task: asyncio.Task[None] | None = None

    def start(self, deliver: Press) -> None:
        if self.script is not None:
            self.task = asyncio.get_running_loop().create_task(self.script(deliver))

    def close(self) -> None:
        if self.task is not None:
            self.task.cancel()


@dataclass
class Talked:
    status: int
    capture: VirtualCapture
    sink: VirtualPlayback
    loop: TalkLoop
    stdout: str
    stderr: str
    error: BaseException | None = None
    tap_interrupts: list[float] = field(default_factory=list)


def talk(
    endpoint: str,
    samples: npt.NDArray[np.float32],
    *,
    rate: int = 48000,
    push_to_talk: bool = False,
    headphones: bool = False,
    keys: Callable[[Press], Awaitable[None]] | None = None,
    end_settle_s: float = 0.4,
    vertex: bool | None = None,
    **run_fields: Any,
) -> Talked:
    """`livecli talk` with a virtual microphone playing `samples` and a virtual speaker, against `endpoint`."""
    fields: dict[str, Any] = {
        "session": SessionOptions(vad_silence_ms=200),
        "turn_end": "activity" if push_to_talk else "vad",
    }
    fields.update(run_fields)
    connect = ConnectOptions(
        endpoint=endpoint,
        api_key="talk-test-key-123",
        vertex=vertex,
        project="p" if vertex else None,
        location="us-central1" if vertex else None,
    )
    req = TalkRequest(run=RunRequest(connect=connect, **fields), push_to_talk=push_to_talk, headphones=headphones)
    capture = VirtualCapture(samples, rate)
    sink = VirtualPlayback()
    scripted = ScriptedKeys(keys)
    made: dict[str, Any] = {}

    def devices() -> Any:
        from livecli.commands.talk.run import Devices

        made["devices"] = Devices(capture, sink, scripted)
        return made["devices"]

    stdout, stderr = io.BytesIO(), io.StringIO()
    env = Env(stdin=io.BytesIO(), stdout=stdout, stderr=stderr, environ={})
    loops: list[TalkLoop] = []
    error = None
    try:
        status = talk_run.run(req, env, talk_exit_status, devices, end_settle_s=end_settle_s, observe=loops.append)
    except Exception as exc:
        status, error = talk_exit_status(exc), exc
    assert loops, f"the talk never started: {error!r}"
    return Talked(status, capture, sink, loops[0], stdout.getvalue().decode(), stderr.getvalue(), error)
