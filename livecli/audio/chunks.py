"""How the 16 kHz input is cut into audio messages: the --chunk-ms range and the chunk sizes.

Standard library only (no numpy): a chunk plan is arithmetic on the input's length, and the CLI can declare the
option's range from MIN_CHUNK_MS/MAX_CHUNK_MS without loading the audio stack.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from livecli.errors import UsageError
from livecli.protocol.wire import INPUT_RATE

__all__ = ["MAX_CHUNK_MS", "MIN_CHUNK_MS", "chunk_bytes", "chunk_plan", "rechunk"]

MIN_CHUNK_MS, MAX_CHUNK_MS = 10, 1000


def chunk_bytes(chunk_ms: int, rate: int = INPUT_RATE) -> int:
    """Bytes of s16le mono in one chunk of `chunk_ms` (MIN_CHUNK_MS–MAX_CHUNK_MS, else UsageError)."""
    if not MIN_CHUNK_MS <= chunk_ms <= MAX_CHUNK_MS:
        raise UsageError(f"chunk length must be {MIN_CHUNK_MS}–{MAX_CHUNK_MS} ms, got {chunk_ms} ms")
    return max(1, rate * chunk_ms // 1000) * 2


def chunk_plan(total_bytes: int, chunk_ms: int) -> list[int]:
    """Chunk sizes for `total_bytes` of 16 kHz s16le: full chunks, then a short last one; they sum to the total."""
    size = chunk_bytes(chunk_ms)
    full, rest = divmod(max(0, total_bytes), size)
    return [size] * full + ([rest] if rest else [])


def rechunk(blocks: Iterable[bytes], size: int) -> Iterator[bytes]:
    """Cut a stream of byte blocks of any size into pieces of `size` bytes (the last may be short)."""
    pending = b""
    for block in blocks:
        data = pending + block if pending else block
        end = len(data) - len(data) % size
        for i in range(0, end, size):
            yield data[i : i + size]
        pending = data[end:]
    if pending:
        yield pending
