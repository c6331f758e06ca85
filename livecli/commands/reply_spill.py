"""Reply audio on disk as it arrives, so a long or endless reply does not fill the memory (issue 10, L5).

`ReplySpill` is one anonymous temporary file per run, next to the output (the directory `check_destinations`
proved writable; the system's temporary directory for `-o -` and without `-o`), deleted by the system once
closed, even after a crash. Each turn's audio is a `SpilledAudio`: the newest audio stays in memory up to
WINDOW_BYTES, then goes to the file as one segment; reading walks its segments, then the window. Memory per turn
is thus at most WINDOW_BYTES, whatever the reply's length; the disk holds what `--max-reply-seconds` allows.

A write that fails (a full disk) is an OutputError naming the directory, raised where the audio arrived: the
run stops as for any failure and what was kept is written as a partial reply.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from types import TracebackType
from typing import BinaryIO

from livecli.env import write_all
from livecli.errors import OutputError
from livecli.protocol.reply_audio import BLOCK_BYTES, ReplyAudio

__all__ = ["WINDOW_BYTES", "ReplySpill", "SpilledAudio", "spill_directory"]

WINDOW_BYTES = 1 << 20  # reply audio a turn keeps in memory: 1 MiB, about 22 s at 24 kHz


def spill_directory(destinations: tuple[str | None, ...]) -> str | None:
    """Where the spill file goes: beside the first reply file, else the system's temporary directory (None). A
    FIFO or device is not a file to go beside (`-o /dev/null` would put it in /dev)."""
    from livecli.audio.encode import is_stream_target

    files = (d for d in destinations if d is not None and d != "-" and not is_stream_target(d))
    first = next(files, None)
    return (os.path.dirname(first) or ".") if first is not None else None


class ReplySpill:
    """The run's spill file, opened on first use; `new_audio` is the session's `new_reply_audio`."""

    def __init__(self, directory: str | None) -> None:
        self.directory = directory
        self._file: BinaryIO | None = None
        self.size = 0  # bytes written so far (the next segment's offset)

    def new_audio(self) -> SpilledAudio:
        """A store for one turn's reply audio."""
        return SpilledAudio(self)

    def write(self, data: bytes) -> int:
        """Append `data`; its offset in the file.

        Raises:
            OutputError: the temporary file cannot be created or written (the OSError is its __cause__).
        """
        try:
            if self._file is None:  # no name: O_TMPFILE where the system has it, else unlinked at once
                self._file = tempfile.TemporaryFile(dir=self.directory, prefix=".livecli-reply-", buffering=0)  # noqa: SIM115 (closed by close())
            write_all(self._file, data)  # reads use pread: the file's position stays at its end
        except OSError as exc:
            where = self.directory or tempfile.gettempdir()
            problem = exc.strerror or exc
            raise OutputError(f"cannot keep the reply audio in a temporary file in {where}: {problem}") from exc
        offset, self.size = self.size, self.size + len(data)
        return offset

    def read(self, offset: int, size: int) -> bytes:
        """`size` bytes from `offset` (all of them: a short read of a regular file means it was cut)."""
        assert self._file is not None
        data = os.pread(self._file.fileno(), size, offset)
        if len(data) != size:
            raise OutputError(f"the reply's temporary file lost data ({len(data)} of {size} bytes read)")
        return data

    def close(self) -> None:
        """Close the file (the system deletes it)."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> ReplySpill:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class SpilledAudio(ReplyAudio):
    """One turn's reply audio: segments of the spill file, then a window of at most WINDOW_BYTES in memory."""

    def __init__(self, spill: ReplySpill) -> None:
        super().__init__()
        self.spill = spill
        self._segments: list[tuple[int, int]] = []  # (offset, length) in the spill file, in order
        self._spilled = 0

    def append(self, data: bytes) -> None:
        self._data += data
        if len(self._data) >= WINDOW_BYTES:
            offset = self.spill.write(bytes(self._data))
            self._segments.append((offset, len(self._data)))
            self._spilled += len(self._data)
            self._data = bytearray()

    def __len__(self) -> int:
        return self._spilled + len(self._data)

    def blocks(self, size: int = BLOCK_BYTES) -> Iterator[bytes]:
        for offset, length in self._segments:
            for start in range(0, length, size):
                yield self.spill.read(offset + start, min(size, length - start))
        yield from super().blocks(size)
