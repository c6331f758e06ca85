"""What the talk tests share: the talk use case run with virtual devices against a local server."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import soundfile as sf
from helpers import SAMPLES

from livecli.audio.virtual_devices import PlayedBlock, VirtualCapture, VirtualPlayback
from livecli.auth.target import ConnectOptions
from livecli.cli.talk import talk_exit_status
from livecli.commands.request import RunRequest
from livecli.commands.session_setup import SessionOptions
from livecli.commands.talk import run as talk_run
from livecli.commands.talk.loop import TalkLoop
from livecli.commands.talk.request import TalkRequest
from livecli.env import Env

Press = Callable[[str], None]
# The virtual devices run the timeline twice as fast as real time; tests give the server the same reply speed
# (its VAD's silence is measured on its clock: 200 ms of it is 400 ms of captured silence).
SPEED = 2.0


@dataclass
class Handles:
    """What a key script sees: the virtual speaker and the talk's loop (set before the keys start)."""

    sink: VirtualPlayback
    loop: TalkLoop | None = None

    async def until(self, condition: Callable[[], bool], limit_s: float = 20.0) -> None:
        """Wait (polling every 5 ms) until `condition()` holds; fails after `limit_s` (a generous guard)."""
        for _ in range(int(limit_s / 0.005)):
            if condition():
                return
            await asyncio.sleep(0.005)
        raise AssertionError("the condition never held")


Script = Callable[[Press, Handles], Awaitable[None]]


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

    def __init__(self, script: Script | None, handles: Handles) -> None:
        self.script = script
        self.handles = handles
        self.task: asyncio.Task[None] | None = None
        self.pressed_at: list[tuple[str, float]] = []

    def start(self, deliver: Press) -> None:
        def press(key: str) -> None:
            self.pressed_at.append((key, self.handles.sink.clock()))
            deliver(key)

        if self.script is not None:
            self.task = asyncio.get_running_loop().create_task(self.script(press, self.handles))

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
    keys: ScriptedKeys
    error: BaseException | None = None

    def played_after(self, at: float) -> list[PlayedBlock]:
        """The blocks the speaker pulled after `at`, in order."""
        return [block for block in self.sink.played if block.at > at]


def talk(
    endpoint: str,
    samples: npt.NDArray[np.float32],
    *,
    rate: int = 48000,
    push_to_talk: bool = False,
    headphones: bool = False,
    keys: Script | None = None,
    end_settle_s: float = 0.3,
    speed: float = SPEED,
    vertex: bool | None = None,
    **run_fields: Any,
) -> Talked:
    """`livecli talk` with a virtual microphone playing `samples` and a virtual speaker, against `endpoint`."""
    vad = SessionOptions() if push_to_talk else SessionOptions(vad_silence_ms=200)
    fields: dict[str, Any] = {"session": vad, "turn_end": "activity" if push_to_talk else "vad"}
    fields.update(run_fields)
    connect = ConnectOptions(
        endpoint=endpoint, api_key="talk-test-key-123", vertex=vertex
    )  # (Vertex: express mode)
    req = TalkRequest(run=RunRequest(connect=connect, **fields), push_to_talk=push_to_talk, headphones=headphones)
    capture = VirtualCapture(samples, rate, speed=speed)
    sink = VirtualPlayback(speed=speed)
    handles = Handles(sink)
    scripted = ScriptedKeys(keys, handles)
    made: dict[str, Any] = {}

    def devices() -> Any:
        from livecli.commands.talk.run import Devices

        made["devices"] = Devices(capture, sink, scripted)
        return made["devices"]

    stdout, stderr = io.BytesIO(), io.StringIO()
    env = Env(stdin=io.BytesIO(), stdout=stdout, stderr=stderr, environ={})
    loops: list[TalkLoop] = []

    def observe(loop: TalkLoop) -> None:
        loops.append(loop)
        handles.loop = loop

    error = None
    try:
        status = talk_run.run(req, env, talk_exit_status, devices, end_settle_s=end_settle_s, observe=observe)
    except Exception as exc:
        status, error = talk_exit_status(exc), exc
    assert loops, f"the talk never started: {error!r}"
    return Talked(status, capture, sink, loops[0], stdout.getvalue().decode(), stderr.getvalue(), scripted, error)
