"""An energy VAD on the incoming 16 kHz PCM, driven by the server's clock (docs/wire.md, "Voice activity").

Speech starts when frames louder than the start threshold last `prefixPaddingMs`; it ends once
`silenceDurationMs` of quieter audio has arrived AND that much time has passed on the server's clock since the
silence began. So a one-second pause streamed in real time ends a turn, while the same file sent as a burst is
heard as one utterance (its pause arrives in a few milliseconds), as on the real service.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from livecli.audio.levels import frame_rms_dbfs
from livecli.protocol.wire import INPUT_RATE

__all__ = ["FRAME_MS", "EnergyVad", "VadParams"]

FRAME_MS = 20
MAX_PREFIX_MS = 10_000  # a larger prefixPaddingMs is taken as 10 s (the prefix is buffered until speech starts)
# dBFS thresholds per sensitivity: a HIGH start sensitivity hears quieter speech; a HIGH end sensitivity ends
# speech sooner (quieter frames already count as silence).
_START_DBFS = {"START_SENSITIVITY_HIGH": -45.0, "START_SENSITIVITY_LOW": -30.0}
_END_DBFS = {"END_SENSITIVITY_HIGH": -40.0, "END_SENSITIVITY_LOW": -55.0}


@dataclass(frozen=True)
class VadParams:
    """The setup's automaticActivityDetection settings, with the server's defaults."""

    start_dbfs: float = _START_DBFS["START_SENSITIVITY_HIGH"]
    end_dbfs: float = _END_DBFS["END_SENSITIVITY_HIGH"]
    prefix_padding_ms: int = 40
    silence_duration_ms: int = 800

    @classmethod
    def from_setup(cls, detection: dict[str, Any]) -> VadParams:
        """From a camelCased `automaticActivityDetection` object."""
        default = cls()
        return cls(
            start_dbfs=_START_DBFS.get(str(detection.get("startOfSpeechSensitivity")), default.start_dbfs),
            end_dbfs=_END_DBFS.get(str(detection.get("endOfSpeechSensitivity")), default.end_dbfs),
            prefix_padding_ms=min(
                MAX_PREFIX_MS, max(FRAME_MS, int(detection.get("prefixPaddingMs", default.prefix_padding_ms)))
            ),
            silence_duration_ms=max(
                FRAME_MS, int(detection.get("silenceDurationMs", default.silence_duration_ms))
            ),
        )


class EnergyVad:
    """Feed 16 kHz s16le audio with the arrival time; it reports speech start and end.

    `feed` returns "start" / "end" events in order; after an "end", `take_turn()` gives the turn's audio (from
    the speech start, prefix included, to the last speech frame) and `turn_s` its full duration: audio past
    `max_turn_s` is counted but not kept, so endless speech cannot grow memory.
    """

    def __init__(self, params: VadParams, rate: int = INPUT_RATE, max_turn_s: float = 120.0) -> None:
        self.params = params
        self.frame_bytes = rate * FRAME_MS // 1000 * 2
        self.max_frames = int(max_turn_s * 1000 // FRAME_MS)
        self.turn_s = 0.0
        self.in_speech = False
        self._pending = b""
        self._run: list[bytes] = []  # loud frames before the start is committed (the prefix)
        self._turn: list[bytes] = []  # at most max_frames
        self._turn_frames = 0  # frames heard in this turn (kept or not)
        self._turn_speech_len = 0  # frames heard up to the last speech frame
        self._silent_ms = 0
        self._silence_since: float | None = None
        self._finished: bytes | None = None

    def feed(self, pcm: bytes, now: float) -> list[str]:
        """Process audio that arrived at `now` (server clock)."""
        data = self._pending + pcm
        usable = len(data) - len(data) % self.frame_bytes
        self._pending = data[usable:]
        if not usable:
            return self.poll(now)
        frames = np.frombuffer(data[:usable], dtype="<i2").reshape(-1, self.frame_bytes // 2)
        levels = frame_rms_dbfs(frames)
        events: list[str] = []
        for index, level in enumerate(levels.tolist()):
            frame = data[index * self.frame_bytes : (index + 1) * self.frame_bytes]
            events += self._frame(frame, level, now)
        return events + self.poll(now)

    def _frame(self, frame: bytes, level: float, now: float) -> list[str]:
        if not self.in_speech:
            if level < self.params.start_dbfs:
                self._run.clear()
                return []
            self._run.append(frame)
            if len(self._run) * FRAME_MS < self.params.prefix_padding_ms:
                return []
            self.in_speech = True
            self._turn = self._run
            self._run = []
            self._turn_frames = self._turn_speech_len = len(self._turn)
            self._silent_ms, self._silence_since = 0, None
            return ["start"]
        self._turn_frames += 1
        if len(self._turn) < self.max_frames:
            self._turn.append(frame)
        if level >= self.params.end_dbfs:
            self._turn_speech_len = self._turn_frames
            self._silent_ms, self._silence_since = 0, None
            return []
        if self._silence_since is None:
            self._silence_since = now
        self._silent_ms += FRAME_MS
        return self.poll(now)

    def deadline(self) -> float | None:
        """When `poll` may next report an end (enough silent audio, waiting for the clock), or None."""
        if (
            self.in_speech
            and self._silence_since is not None
            and self._silent_ms >= self.params.silence_duration_ms
        ):
            return self._silence_since + self.params.silence_duration_ms / 1000
        return None

    def poll(self, now: float) -> list[str]:
        """Report the end of speech once the silence has lasted long enough in audio and in time."""
        due = self.deadline()
        if due is None or now + 1e-9 < due:
            return []
        return self.end()

    def end(self) -> list[str]:
        """End the current speech now (audioStreamEnd); no event when there is none."""
        if not self.in_speech:
            return []
        self.in_speech = False
        self._finished = b"".join(self._turn[: self._turn_speech_len])
        self.turn_s = self._turn_speech_len * FRAME_MS / 1000
        self._turn = []
        self._silent_ms, self._silence_since = 0, None
        return ["end"]

    def take_turn(self) -> bytes:
        """The audio of the speech that just ended."""
        audio, self._finished = self._finished or b"", None
        return audio
