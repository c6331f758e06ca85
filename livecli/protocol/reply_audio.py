"""Where a turn keeps its reply audio (s16le, appended as it arrives): an interface, in memory by default.

The session only appends (`turn.audio += data`) and the readers only ask for the length and for the bytes in
blocks, so a use case can give the session a store that keeps the audio elsewhere: `commands/reply_spill.py`
writes it to a temporary file next to the output and keeps a bounded window in memory, so a long or endless
reply does not fill the memory (issue 10, L5). This module stays sans-I/O: the store it defines is the
in-memory one.

A store compares equal to the bytes it holds and converts with `bytes()`, so code and tests that treat
`turn.audio` as bytes keep working; `bytes()` of a long spilled reply reads all of it back, so readers that may
meet one use `blocks()`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol

__all__ = ["BLOCK_BYTES", "JoinedAudio", "PcmBlocks", "ReplyAudio"]

BLOCK_BYTES = 1 << 20  # what `blocks()` hands out at a time: 1 MiB, about 22 s of 24 kHz audio


class PcmBlocks(Protocol):
    """Audio that can be read in blocks without holding all of it: its length in bytes and its blocks in order."""

    def __len__(self) -> int: ...

    def blocks(self, size: int = BLOCK_BYTES) -> Iterator[bytes]: ...


class ReplyAudio:
    """A turn's reply audio, kept in memory. Subclasses override `append`, `__len__` and `blocks`."""

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by content

    def __init__(self) -> None:
        self._data = bytearray()

    def append(self, data: bytes) -> None:
        """Add audio that arrived."""
        self._data += data

    def __iadd__(self, data: bytes) -> ReplyAudio:
        self.append(data)
        return self

    def __len__(self) -> int:
        return len(self._data)

    def __bool__(self) -> bool:
        return len(self) > 0

    @property
    def in_memory(self) -> int:
        """How many of its bytes the store holds in memory."""
        return len(self._data)

    def blocks(self, size: int = BLOCK_BYTES) -> Iterator[bytes]:
        """The audio in order, at most `size` bytes at a time."""
        for start in range(0, len(self._data), size):
            yield bytes(self._data[start : start + size])

    def __bytes__(self) -> bytes:
        return b"".join(self.blocks())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ReplyAudio):
            return bytes(self) == bytes(other)
        if isinstance(other, bytes | bytearray | memoryview):
            return len(self) == len(other) and bytes(self) == bytes(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self)} bytes)"


class JoinedAudio:
    """Several stores (a reply's turns) read as one, without joining them in memory."""

    def __init__(self, parts: Iterable[PcmBlocks]) -> None:
        self.parts = list(parts)

    def __len__(self) -> int:
        return sum(len(part) for part in self.parts)

    def blocks(self, size: int = BLOCK_BYTES) -> Iterator[bytes]:
        """Each part's blocks in turn."""
        for part in self.parts:
            yield from part.blocks(size)
