"""Virtual audio devices for machines without a sound card (tests, the latency bench): a capture source that
plays a signal in real time, and a sink that records what it played and when.

Both run as asyncio tasks on an injectable clock and sleep (`speed` > 1 runs the same timeline faster: a block
of `block_ms` is delivered every block_ms / speed). Timestamps are the clock's, so a test compares them with one
another, never with the wall clock.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from livecli.audio.devices import DEFAULT_BUFFER_MS, CaptureBlock, JitterBuffer
from livecli.audio.pacing import Pacer
from livecli.protocol.wire import OUTPUT_RATE

__all__ = ["PlayedBlock", "VirtualCapture", "VirtualPlayback"]

Sleep = Callable[[float], Awaitable[object]]


class VirtualCapture:
    """Plays `samples` (frames x channels, float32, at `rate`) as a microphone would: one block of `block_ms`
    every block_ms / speed on `clock`; then `ended` (the end of input) unless `loop_silence` keeps it going with
    silence until closed."""

    def __init__(
        self,
        samples: npt.NDArray[np.float32],
        rate: int,
        *,
        block_ms: int = 20,
        speed: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        loop_silence: bool = False,
        name: str = "virtual microphone",
    ) -> None:
        self.samples = samples if samples.ndim == 2 else samples.reshape(-1, 1)
        self.rate = rate
        self.channels = int(self.samples.shape[1])
        self.block_frames = max(1, rate * block_ms // 1000)
        self.speed = speed
        self.clock = clock
        self.sleep = sleep
        self.loop_silence = loop_silence
        self.name = name
        self.delivered: list[CaptureBlock] = []  # every block, in order (what the "microphone" heard)
        self._task: asyncio.Task[None] | None = None

    def start(
        self, deliver: Callable[[CaptureBlock], None], ended: Callable[[BaseException | None], None]
    ) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(deliver, ended))

    async def _run(
        self, deliver: Callable[[CaptureBlock], None], ended: Callable[[BaseException | None], None]
    ) -> None:
        pacer = Pacer(self.block_frames / self.rate, self.speed, clock=self.clock, sleep=self.sleep)
        silence = np.zeros((self.block_frames, self.channels), np.float32)
        index = 0
        while True:
            start = index * self.block_frames
            if start < len(self.samples):
                block = self.samples[start : start + self.block_frames]
            elif self.loop_silence:
                block = silence
            else:
                ended(None)
                return
            await pacer.wait(index + 1)  # a block is there once its last frame was captured
            captured = CaptureBlock(np.array(block, np.float32), self.clock())
            self.delivered.append(captured)
            deliver(captured)
            index += 1

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None


@dataclass(frozen=True)
class PlayedBlock:
    """One block the virtual speaker played: when it started (clock) and its s16le samples."""

    at: float
    pcm: bytes = field(repr=False)

    @property
    def audible(self) -> bool:
        return any(self.pcm)


class VirtualPlayback:
    """A speaker that pulls a block of `block_ms` from its JitterBuffer every block_ms / speed and records it."""

    def __init__(
        self,
        *,
        rate: int = OUTPUT_RATE,
        buffer_ms: int = DEFAULT_BUFFER_MS,
        block_ms: int = 20,
        speed: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        name: str = "virtual speaker",
    ) -> None:
        self.rate = rate
        self.buffer = JitterBuffer(rate, buffer_ms)
        self.block_frames = max(1, rate * block_ms // 1000)
        self.block_s = block_ms / 1000
        self.speed = speed
        self.clock = clock
        self.sleep = sleep
        self.name = name
        self.played: list[PlayedBlock] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        pacer = Pacer(self.block_s, self.speed, clock=self.clock, sleep=self.sleep)
        index = 0
        while True:
            await pacer.wait(index)
            now = self.clock()
            self.played.append(PlayedBlock(now, self.buffer.pull(self.block_frames, now)))
            index += 1

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    @property
    def audible_blocks(self) -> list[PlayedBlock]:
        return [block for block in self.played if block.audible]
