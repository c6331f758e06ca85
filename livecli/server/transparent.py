"""Transparent resumption, the server side, sans I/O (docs/wire.md, "goAway and resumption").

On a Vertex path a setup may ask for `sessionResumption.transparent`. Every client message after the setup then
has an index (0-based, per session: a resumed connection continues its handle's count), and each resumable
sessionResumptionUpdate carries `lastConsumedClientMessageIndex`, the last message its handle's state holds. A
connection resumed with that handle restores that state (the open activity and its audio, the VAD, the record of
received audio), forgetting what the old connection received after it; so when the client sends again exactly
the messages after the index, each is consumed once, in order.

livecli's choices, where the public record is silent:
- an update at least once per second of received audio (counted in audio seconds, not on a clock);
- only the newest KEPT_STATES transparent handles of a session resolve (each holds a copy of the input state);
- a resumed connection starts the resampler of non-16 kHz input afresh (its few samples of history are not kept).
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass
from typing import Any

from livecli.server.replies import InboundAudio
from livecli.server.session_turns import InputTurns
from livecli.server.validate import decode_audio_blob

__all__ = [
    "AUDIO_PER_UPDATE_S",
    "KEPT_STATES",
    "ConnectionAudio",
    "ConsumedState",
    "ReceivedAudio",
    "audio_blobs",
]

AUDIO_PER_UPDATE_S = 1.0
KEPT_STATES = 8
GO_AWAY_LEAD_S = 50.0  # as at the connection's time limit (livecli.server.session)
_EPSILON_S = 1e-9  # 25 chunks of 0.04 s add up to 0.9999999999999999 s in floats


def audio_blobs(body: dict[str, Any]) -> tuple[list[bytes], float]:
    """The PCM of a (valid, camelCased) realtimeInput's audio Blobs, and their duration at their declared rates."""
    blobs = [body["audio"]] if "audio" in body else []
    blobs += [b for b in body.get("mediaChunks", []) if str(b.get("mimeType", "audio/pcm")).startswith("audio/")]
    chunks: list[bytes] = []
    seconds = 0.0
    for blob in blobs:
        pcm, rate = decode_audio_blob(blob, "realtime_input.audio")
        chunks.append(pcm)
        seconds += len(pcm) / 2 / rate
    return chunks, seconds


def _copy_turns(turns: InputTurns) -> InputTurns:
    """A copy of the input side that shares nothing mutable with `turns`, except its callbacks (rebound by
    the connection that restores it) and a fresh resampler. The audio bytes are shared: they are immutable."""
    memo: dict[int, Any] = {
        id(turns.on_speech): turns.on_speech,
        id(turns.on_turn): turns.on_turn,
        id(turns.inbound): InboundAudio(),
    }
    return copy.deepcopy(turns, memo)


@dataclass(frozen=True)
class ConsumedState:
    """What a transparent handle restores beyond the conversation: the index of the last client message it holds
    (-1: none yet), the input side as it was then, and how much of the session's received audio it had."""

    index: int
    turns: InputTurns
    received_chunks: int

    @classmethod
    def capture(cls, index: int, turns: InputTurns, received_chunks: int) -> ConsumedState:
        """The state now (a copy: the live input goes on changing)."""
        return cls(index, _copy_turns(turns), received_chunks)

    def restore(self, turns_for: InputTurns) -> InputTurns:
        """A fresh copy of the saved input side, wired to the callbacks of `turns_for` (the new connection's)."""
        restored = _copy_turns(self.turns)
        restored.on_speech, restored.on_turn = turns_for.on_speech, turns_for.on_turn
        return restored


class ReceivedAudio:
    """Server-wide, kept only when asked (`ServerConfig.keep_received_audio`): per session, the PCM of every audio
    Blob it consumed, in order, as sent. A transparent resumption rolls it back to its handle, so a test can check
    that every sample arrived exactly once and in order. Read from another thread: `sessions()` takes the lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, list[bytes]] = {}

    def open(self, session_id: str, keep: int | None = None) -> list[bytes]:
        """The session's record to append to: new, continued, or (with `keep`) cut to its first `keep` chunks."""
        with self._lock:
            chunks = self._sessions.setdefault(session_id, [])
            if keep is not None:
                del chunks[keep:]
            return chunks

    def add(self, chunks: list[bytes], more: list[bytes]) -> None:
        """Append to a record returned by `open`."""
        with self._lock:
            chunks.extend(more)

    def sessions(self) -> dict[str, bytes]:
        """Session id → the audio it consumed, in the order the sessions started."""
        with self._lock:
            return {session_id: b"".join(chunks) for session_id, chunks in self._sessions.items()}


class ConnectionAudio:
    """The audio one connection received: when the next update is due, and when the connection ends if it may
    receive only `limit_s` seconds (`--max-connection-audio-s`: goAway `lead_s` before, then close 1008)."""

    def __init__(self, limit_s: float | None) -> None:
        self.limit_s = limit_s
        self.total_s = 0.0
        self.since_update_s = 0.0
        self.go_away_sent = False

    def add(self, seconds: float) -> None:
        """`seconds` more audio were consumed."""
        self.total_s += seconds
        self.since_update_s += seconds

    def update_due(self) -> bool:
        """Whether a second of audio has arrived since the last update."""
        return self.since_update_s >= AUDIO_PER_UPDATE_S - _EPSILON_S

    def updated(self) -> None:
        """An update was sent."""
        self.since_update_s = 0.0

    @property
    def lead_s(self) -> float:
        """The goAway's timeLeft, in seconds of audio."""
        assert self.limit_s is not None
        return min(GO_AWAY_LEAD_S, self.limit_s / 2)

    def go_away_due(self) -> bool:
        """Whether the goAway is due now (once per connection)."""
        if self.limit_s is None or self.go_away_sent or self.total_s < self.limit_s - self.lead_s - _EPSILON_S:
            return False
        self.go_away_sent = True
        return True

    def spent(self) -> bool:
        """Whether the connection has received all the audio it may."""
        return self.limit_s is not None and self.total_s >= self.limit_s - _EPSILON_S
