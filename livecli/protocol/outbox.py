"""Numbered client messages and the unacknowledged tail, for transparent resumption (sans-I/O).

docs/wire.md, "Resending input": every client message after `setup` has an index, 0-based and counted
per session (a resumed connection goes on counting). With `sessionResumption.transparent` (Vertex) each
resumable `sessionResumptionUpdate` says which index its handle's state holds (`lastConsumedClientMessageIndex`);
the messages after it are the tail, kept here and sent again, with their own indices, on the connection that
resumes with that handle: nothing is missing and nothing arrives twice.

The tail holds at most TAIL_LIMIT_S of audio. A server that acknowledges nothing for that long makes the oldest
messages drop out; the tail is then incomplete until an acknowledgement passes them, and a resumption in between
cannot be transparent (the caller falls back to sending the input again).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from livecli.protocol.wire import INPUT_RATE

__all__ = ["TAIL_LIMIT_S", "Numbered", "Outbox"]

TAIL_LIMIT_S = 60.0
_BYTES_PER_S = INPUT_RATE * 2  # 16 kHz s16le mono


@dataclass(frozen=True, slots=True)
class Numbered:
    """One client message as sent: its index, its JSON text and how many bytes of audio it carries."""

    index: int
    frame: str
    audio_bytes: int = 0


class Outbox:
    """Numbers client messages; with `keep`, keeps those the server has not acknowledged (at most `limit_s`)."""

    def __init__(self, *, keep: bool, limit_s: float = TAIL_LIMIT_S) -> None:
        self.keep = keep
        self.next_index = 0
        self.acknowledged: int | None = None  # the index that goes with the newest resumable handle
        self._limit_bytes = int(limit_s * _BYTES_PER_S)
        self._tail: deque[Numbered] = deque()
        self._tail_audio = 0
        self._dropped_through = -1  # the newest index that fell out of a full tail before it was acknowledged

    def number(self, frame: str, audio_bytes: int = 0) -> str:
        """Give the next message its index (kept in the tail when transparent); returns the frame."""
        index = self.next_index
        self.next_index += 1
        if self.keep:
            self._tail.append(Numbered(index, frame, audio_bytes))
            self._tail_audio += audio_bytes
            while self._tail_audio > self._limit_bytes:
                oldest = self._tail.popleft()
                self._tail_audio -= oldest.audio_bytes
                self._dropped_through = oldest.index
        return frame

    def acknowledge(self, index: int | None) -> None:
        """A resumable handle arrived with `index` (None: without one): the tail keeps only what follows it."""
        self.acknowledged = index
        if index is None:
            return
        while self._tail and self._tail[0].index <= index:
            self._tail_audio -= self._tail.popleft().audio_bytes

    @property
    def complete(self) -> bool:
        """Whether the tail holds every message after the acknowledged index (a transparent resumption can
        resend exactly those)."""
        return self.keep and self.acknowledged is not None and self._dropped_through <= self.acknowledged

    @property
    def overflowed(self) -> bool:
        """Whether unacknowledged messages fell out of the tail (more than the limit's audio unacknowledged)."""
        return self.keep and self._dropped_through > (self.acknowledged if self.acknowledged is not None else -1)

    def pending(self, index: int) -> bool:
        """Whether message `index` has not been acknowledged (it is in the tail, or fell out of it)."""
        return self.acknowledged is None or index > self.acknowledged

    def unacknowledged(self) -> list[str]:
        """The frames after the acknowledged index, in order, to resend as they are."""
        return [sent.frame for sent in self._tail]

    @property
    def tail_audio_s(self) -> float:
        """Seconds of audio in the tail."""
        return self._tail_audio / _BYTES_PER_S

    def restart(self, next_index: int) -> None:
        """The tail is given up (the input is sent again): numbering goes on at `next_index`."""
        self._tail.clear()
        self._tail_audio = 0
        self._dropped_through = -1
        self.next_index = next_index
