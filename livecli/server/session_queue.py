"""The timed action queue a ServerSession owns: what to send, close or drop, and when (sans I/O).

Work that is due later (a paced reply chunk, a goAway, a scenario timer) is queued with its time; `run_due(now)`
returns the actions due. A callback that raises becomes a 1011 close, as the service ends a session it fails.
"""

from __future__ import annotations

import heapq
import itertools
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from livecli.protocol import close_reasons as cr
from livecli.protocol.close_reasons import CloseReason, cut_reason

__all__ = ["MAX_DUE_BYTES", "Action", "ActionQueue", "Close", "Drop", "Send"]

# Frames one `run_due` hands out at most: an unpaced reply (all of it due at once) goes out a piece per turn of the
# loop, so neither the pump's send buffer nor one callback holds a whole reply (docs/wire.md, "Limits of the
# local server").
MAX_DUE_BYTES = 256 << 10


@dataclass(frozen=True)
class Send:
    """Send one binary frame; `kind` names it for logs and recordings."""

    frame: bytes
    kind: str


@dataclass(frozen=True)
class Close:
    """Close the WebSocket with a code and reason (at most 123 bytes)."""

    code: int
    reason: str


@dataclass(frozen=True)
class Drop:
    """Abort the TCP connection without a close frame."""


Action = Send | Close | Drop


class Timed(Protocol):
    """A frame due at `when` (livecli.server.reply_frames.TimedFrame)."""

    @property
    def when(self) -> float: ...
    @property
    def frame(self) -> bytes: ...
    @property
    def kind(self) -> str: ...


@dataclass(slots=True)
class _Stream:
    """The next frame of a lazily made sequence, the rest still unmade; `done` runs after the last one."""

    head: Timed
    rest: Iterator[Timed]
    done: Callable[[float], None]
    seq: int  # every frame of the stream keeps its place among entries due at the same time


Item = Action | _Stream | Callable[[float], None]


class ActionQueue:
    """A time-ordered queue of actions and callbacks; entries may carry a tag to cancel them together.

    Once a Close or Drop has been returned (or `finish` called) the queue is `closed` and stays empty; while
    `stalled` it returns nothing.
    """

    def __init__(self, log: logging.Logger) -> None:
        self.log = log
        self.closed = False
        self.stalled = False
        self._queue: list[tuple[float, int, int | None, Item]] = []
        self._seq = itertools.count()

    def at(self, when: float, item: Item, tag: int | None = None) -> None:
        """Queue an action, or a callback run with the time it falls due."""
        heapq.heappush(self._queue, (when, next(self._seq), tag, item))

    def send(self, when: float, frame: bytes, kind: str, tag: int | None = None) -> None:
        """Queue one frame."""
        self.at(when, Send(frame, kind), tag)

    def stream(self, frames: Iterator[Timed], done: Callable[[float], None], tag: int | None = None) -> None:
        """Queue frames made one at a time: each is made when the one before it falls due, so a queued reply
        holds one frame, not all of them (docs/wire.md, "Limits of the local server"); `done` runs at the time
        of the last frame, right after it."""
        head = next(frames, None)
        if head is None:
            self.at(0.0, done, tag)
        else:
            seq = next(self._seq)
            heapq.heappush(self._queue, (head.when, seq, tag, _Stream(head, frames, done, seq)))

    def pending_bytes(self) -> int:
        """The bytes of the frames queued now (each lazily made reply counts its next frame only)."""
        total = 0
        for _, _, _, item in self._queue:
            if isinstance(item, Send):
                total += len(item.frame)
            elif isinstance(item, _Stream):
                total += len(item.head.frame)
        return total

    def cancel(self, tags: set[int]) -> None:
        """Drop every queued entry carrying one of `tags`."""
        self._queue = [entry for entry in self._queue if entry[2] not in tags]
        heapq.heapify(self._queue)

    def clear(self) -> None:
        """Drop everything queued."""
        self._queue.clear()

    @property
    def idle(self) -> bool:
        """Whether nothing more will come out: closed or stalled."""
        return self.closed or self.stalled

    def deadline(self) -> float | None:
        """When the earliest entry falls due, or None."""
        return self._queue[0][0] if self._queue and not self.idle else None

    def run_due(self, now: float) -> list[Action]:
        """Pop what is due at `now`, up to MAX_DUE_BYTES of frames: actions are returned, callbacks run (a failing
        one closes with 1011)."""
        out: list[Action] = []
        size = 0  # at most MAX_DUE_BYTES of frames at once: what is due past them stays due, for the next call
        while self._queue and self._queue[0][0] <= now + 1e-9 and not self.stalled and size < MAX_DUE_BYTES:
            _, _, tag, item = heapq.heappop(self._queue)
            if isinstance(item, _Stream):
                out.append(Send(item.head.frame, item.head.kind))
                size += len(item.head.frame)
                self._next_of(item, tag, now)
                continue
            if isinstance(item, Send | Close | Drop):
                out.append(item)
                size += len(item.frame) if isinstance(item, Send) else 0
                if isinstance(item, Close | Drop):
                    self.finish()
                    break
                continue
            try:
                item(now)
            except Exception:
                self.fail(now)
        return out

    def _next_of(self, stream: _Stream, tag: int | None, now: float) -> None:
        """Make the stream's next frame and queue it (or run its `done` when it has no more)."""
        try:
            head = next(stream.rest, None)
        except Exception:
            self.fail(now)
            return
        if head is None:
            heapq.heappush(self._queue, (stream.head.when, stream.seq, tag, stream.done))
        else:
            stream.head = head  # the same entry, its next frame (no new object per frame)
            heapq.heappush(self._queue, (head.when, stream.seq, tag, stream))

    def finish(self) -> None:
        """Nothing more is sent (the connection is closing or gone)."""
        self.closed = True
        self._queue.clear()

    def close_now(self, now: float, code: int, reason: str) -> None:
        """Schedule an immediate close (drops everything still queued)."""
        self._queue.clear()
        self.at(now, Close(code, cut_reason(reason)))

    def close_with(self, now: float, reason: CloseReason, **values: str) -> None:
        """Close now with one of the service's reasons (docs/wire.md, "Close codes") and its code."""
        self.close_now(now, reason.code, reason.format(**values))

    def fail(self, now: float) -> None:
        """An internal error: log it with its traceback and close with 1011, never silently."""
        self.log.exception("internal error; closing the session with 1011")
        self.stalled = False
        self.close_with(now, cr.INTERNAL_ERROR)

    def stall(self) -> None:
        """Stop answering altogether (the socket stays open)."""
        self.stalled = True
        self._queue.clear()
