"""The audio device layer behind a small interface: a capture source and a playback sink (issue 14).

A `CaptureSource` delivers float32 blocks (frames x channels) at its native rate on its own clock; `MicChunks`
turns them into what the Live API takes: mono, resampled with livecli's own Resampler to 16 kHz, s16le, cut into
`--chunk-ms` chunks, with the level of each block for the meter and the latency. A `PlaybackSink` pulls blocks at
its native rate from a `JitterBuffer`; `Speaker` is the front the use case writes the 24 kHz reply into (resampled
to the sink's rate when it differs) and flushes on barge-in, so playback stops within one block.

Implementations: `audio/sound_device` (PortAudio through sounddevice, the `livecli[talk]` extra) and
`audio/virtual_devices` (a capture that plays a signal in real time on an injectable clock, a sink that records
what it played and when: the tests and the latency bench). The sinks call `JitterBuffer.pull` from their own
thread or task; everything else runs on the event loop's thread.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from livecli.audio.chunks import chunk_bytes
from livecli.audio.decode import mix_to_mono
from livecli.audio.resample import Resampler, from_pcm16, to_int16
from livecli.protocol.report import NEAR_SILENT_DBFS
from livecli.protocol.wire import INPUT_RATE

__all__ = [
    "DEFAULT_BUFFER_MS",
    "CaptureBlock",
    "CaptureSource",
    "JitterBuffer",
    "MicChunks",
    "PlaybackSink",
    "Speaker",
    "block_dbfs",
]

DEFAULT_BUFFER_MS = 60  # --buffer-ms: reply audio held before playback starts, to ride out network jitter
_AUDIBLE = 10.0 ** (NEAR_SILENT_DBFS / 20.0)  # a float sample at least this loud is audible (-50 dBFS)


@dataclass(frozen=True)
class CaptureBlock:
    """One block from a capture device: float32 samples (frames x channels) and when its last frame was taken
    (the capture clock, seconds)."""

    samples: npt.NDArray[np.float32]
    at: float


class CaptureSource(Protocol):
    """A microphone: `start` makes it call `deliver` with each block on the event loop's thread, and `ended` once
    when it has no more (a file played to its end; a device that failed)."""

    name: str
    rate: int
    channels: int

    def start(
        self, deliver: Callable[[CaptureBlock], None], ended: Callable[[BaseException | None], None]
    ) -> None:
        """Start capturing (called on the event loop's thread)."""

    def close(self) -> None:
        """Stop capturing; no block is delivered after it returns."""


class PlaybackSink(Protocol):
    """A speaker: once started it pulls `buffer` at `rate` (mono s16le) on its own clock until closed."""

    name: str
    rate: int
    buffer: JitterBuffer

    def start(self) -> None:
        """Start playing (silence until the buffer holds something)."""

    def close(self) -> None:
        """Stop playing."""


def block_dbfs(mono: npt.NDArray[np.float32]) -> float:
    """The RMS level of a float block in dBFS (full-scale square wave = 0 dBFS); -inf for silence."""
    if mono.size == 0:
        return -math.inf
    power = float(np.mean(np.square(mono, dtype=np.float64)))
    return 10.0 * math.log10(power) if power > 0 else -math.inf


class MicChunks:
    """Capture blocks → 16 kHz mono s16le chunks of `chunk_ms`, keeping the latest block's level (the meter)."""

    def __init__(self, rate: int, chunk_ms: int) -> None:
        self.resampler = Resampler(rate, INPUT_RATE)
        self.size = chunk_bytes(chunk_ms)
        self._pending = bytearray()
        self.level_dbfs = -math.inf

    def feed(self, block: CaptureBlock) -> list[bytes]:
        """The whole chunks ready after `block` (the rest waits for the next block)."""
        samples = block.samples if block.samples.ndim == 2 else block.samples.reshape(-1, 1)
        mono = mix_to_mono(np.asarray(samples, np.float32))
        self.level_dbfs = block_dbfs(mono)
        self._pending += to_int16(self.resampler.process(mono)).tobytes()
        whole = len(self._pending) - len(self._pending) % self.size
        chunks = [bytes(self._pending[i : i + self.size]) for i in range(0, whole, self.size)]
        del self._pending[:whole]
        return chunks


class JitterBuffer:
    """Mono s16le at the sink's rate between the event loop (push, flush) and the sink (pull), thread-safe.

    Playback starts `buffer_ms` after the first sample of a burst arrived (so a short reply plays too); running
    dry ends the burst (silence until the next one is primed). `flush()` drops everything: the next block pulled
    is silence. Each burst's first audible sample (>= -50 dBFS) is noted with the time it plays (`take_onsets`).
    """

    def __init__(self, rate: int, buffer_ms: int = DEFAULT_BUFFER_MS) -> None:
        self.rate = rate
        self.buffer_s = buffer_ms / 1000
        self._lock = threading.Lock()
        self._queue: deque[bytes] = deque()
        self._queued = 0  # bytes in _queue
        self._offset = 0  # bytes of _queue[0] already played
        self._since: float | None = None  # when the waiting burst's first sample arrived (not yet playing)
        self._playing = False
        self._onset_pending = False  # the burst has played no audible sample yet
        self._onsets: list[float] = []
        self.played_bytes = 0
        self.flushes = 0

    @property
    def busy(self) -> bool:
        """Whether something is queued or playing."""
        with self._lock:
            return self._queued > 0 or self._playing

    @property
    def queued_s(self) -> float:
        with self._lock:
            return self._queued / 2 / self.rate

    def push(self, pcm: bytes, now: float) -> None:
        """Queue s16le samples at the sink's rate (arrived at `now`)."""
        if not pcm:
            return
        with self._lock:
            if not self._playing and self._since is None:
                self._since = now
                self._onset_pending = True
            self._queue.append(pcm)
            self._queued += len(pcm)

    def flush(self) -> None:
        """Drop what is queued: the next pull is silence (barge-in)."""
        with self._lock:
            self._queue.clear()
            self._queued = self._offset = 0
            self._since = None
            self._playing = False
            self._onset_pending = False
            self.flushes += 1

    def pull(self, frames: int, now: float) -> bytes:
        """`frames` samples to play from `now` on (silence where there are none)."""
        want = frames * 2
        with self._lock:
            if not self._playing and self._since is not None and now - self._since >= self.buffer_s:
                self._playing, self._since = True, None
            if not self._playing:
                return bytes(want)
            out = bytearray()
            while self._queue and len(out) < want:
                head = self._queue[0]
                take = head[self._offset : self._offset + want - len(out)]
                out += take
                self._offset += len(take)
                if self._offset >= len(head):
                    self._queue.popleft()
                    self._offset = 0
            self._queued -= len(out)
            self.played_bytes += len(out)
            if self._onset_pending:
                self._note_onset(bytes(out), now)
            if not self._queue:
                self._playing = False  # ran dry: the next burst is primed again
            return bytes(out) + bytes(want - len(out))

    def _note_onset(self, pcm: bytes, now: float) -> None:
        samples = np.frombuffer(pcm, "<i2")
        loud = np.flatnonzero(np.abs(samples.astype(np.int32)) >= _AUDIBLE * 32768)
        if loud.size:
            self._onsets.append(now + int(loud[0]) / self.rate)
            self._onset_pending = False

    def take_onsets(self) -> list[float]:
        """When each burst's first audible sample played since the last call."""
        with self._lock:
            onsets, self._onsets = self._onsets, []
            return onsets


class Speaker:
    """What the use case plays through: reply PCM at any rate in (resampled to the sink's), flushed on barge-in."""

    def __init__(self, sink: PlaybackSink, clock: Callable[[], float]) -> None:
        self.sink = sink
        self.clock = clock
        self._resampler: Resampler | None = None
        self._started = False

    @property
    def buffer(self) -> JitterBuffer:
        return self.sink.buffer

    def start(self) -> None:
        if not self._started:
            self.sink.start()
            self._started = True

    def write(self, pcm: bytes, rate: int) -> None:
        """Queue reply audio (s16le mono at `rate`)."""
        if rate != self.sink.rate:
            if self._resampler is None or self._resampler.sr_in != rate:
                self._resampler = Resampler(rate, self.sink.rate)
            pcm = to_int16(self._resampler.process(from_pcm16(pcm))).tobytes()
        self.start()
        self.sink.buffer.push(pcm, self.clock())

    def flush(self) -> None:
        """Stop playback within one block: everything queued is dropped."""
        self.sink.buffer.flush()
        if self._resampler is not None:  # its history belongs to the audio just dropped
            self._resampler = Resampler(self._resampler.sr_in, self.sink.rate)

    @property
    def playing(self) -> bool:
        return self.sink.buffer.busy

    def close(self) -> None:
        if self._started:
            self.sink.close()
            self._started = False
