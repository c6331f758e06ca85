"""The process environment, injected: streams, TTY flags, environment variables, clock.

Built once by the CLI and passed down; nothing below the CLI reads sys.stdout, os.environ or time directly,
so tests can swap any of it. Also the one way livecli writes bytes to a stream (`write_all`), so a short
write is never mistaken for a complete one.

The standard streams have two roles. stdout carries data (audio, JSON lines, a transcript): a failure to write
it is a failure of the run. stderr carries the display: when it is closed (`2>&-`) or fails (`2>/dev/full`)
the display is simply off, and the run goes on as if it were not there.
"""

from __future__ import annotations

import errno
import io
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import BinaryIO, TextIO, cast

__all__ = ["DisplayStream", "Env", "write_all"]


@dataclass
class Env:
    """Streams, TTY flags, environment variables and the monotonic clock of one run.

    `stdout_closed`/`stderr_closed`: the shell closed that stream (`>&-`, `2>&-`); the stream is then a
    stand-in (writing to stdout fails, stderr discards).
    """

    stdin: BinaryIO
    stdout: BinaryIO
    stderr: TextIO
    environ: Mapping[str, str] = field(default_factory=dict)
    stdout_isatty: bool = False
    stderr_isatty: bool = False
    clock: Callable[[], float] = time.monotonic
    stdout_closed: bool = False
    stderr_closed: bool = False

    @classmethod
    def from_process(cls) -> Env:
        """The real process's streams and environment."""
        occupy_closed_descriptors()
        return cls(
            stdin=sys.stdin.buffer if sys.stdin is not None else _closed_stream(),
            stdout=sys.stdout.buffer if sys.stdout is not None else _closed_stream(),
            stderr=cast(TextIO, DisplayStream(sys.stderr)),
            environ=dict(os.environ),
            stdout_isatty=_isatty(sys.stdout),
            stderr_isatty=_isatty(sys.stderr),
            stdout_closed=sys.stdout is None,
            stderr_closed=sys.stderr is None,
        )


def occupy_closed_descriptors() -> None:
    """Put /dev/null on a standard descriptor the shell closed (`>&-`), as daemons do.

    Python leaves sys.stdout None for a closed descriptor 1, but the next file or socket opened would get
    number 1, and anything written "to stdout" below Python (a C library's message) would land in it: in the
    reply's temporary file, or on the WebSocket. sys.std* stay None, so livecli still knows the stream is closed.
    """
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            try:
                null = os.open(os.devnull, os.O_RDWR)
            except OSError:
                return
            if null != fd:
                os.dup2(null, fd)
                os.close(null)


def write_all(stream: BinaryIO, data: bytes) -> None:
    """Write every byte of `data` to `stream` and flush it, or raise OSError with its errno.

    Python's buffered writer returns a short count instead of raising when the reader of a pipe goes away part
    way through a large write (`-o - | head -c 100`), and a flush then has nothing left to fail on; so a stream
    with a descriptor is flushed and then written with os.write until every byte is taken. A closed stream is
    EBADF; EPIPE stays BrokenPipeError.
    """
    try:
        fd = stream.fileno()
    except (OSError, ValueError):  # in memory (tests), or closed
        fd = None
    try:
        if fd is None:
            written = stream.write(data)
            if written is not None and written != len(data):
                raise OSError(errno.EIO, f"short write: {written} of {len(data)} bytes")
            stream.flush()
            return
        stream.flush()  # whatever the stream buffered goes first, in order
    except ValueError:  # "I/O operation on closed file"
        raise OSError(errno.EBADF, "the stream is closed") from None
    view = memoryview(data)
    while view:
        count = os.write(fd, view)
        if count <= 0:
            raise OSError(errno.EIO, "the stream took no bytes")
        view = view[count:]


class DisplayStream(io.TextIOBase):
    """stderr as the display sees it: a stream that cannot be written turns the display off, not the run.

    `stream` None is a stderr the shell closed. The first failing write (a full device, a closed pipe) turns
    it off for good, and later writes are dropped: the run keeps its own exit status.
    """

    def __init__(self, stream: TextIO | None) -> None:
        super().__init__()
        self._stream = stream

    @property
    def off(self) -> bool:
        """Whether writes are being dropped."""
        return self._stream is None

    def write(self, text: str) -> int:
        if self._stream is not None:
            try:
                self._stream.write(text)
            except (OSError, ValueError):
                self._stream = None
        return len(text)

    def flush(self) -> None:
        if self._stream is not None:
            try:
                self._stream.flush()
            except (OSError, ValueError):
                self._stream = None

    def isatty(self) -> bool:
        return _isatty(self._stream)

    def writable(self) -> bool:
        return True


def _closed_stream() -> BinaryIO:
    """Stands in for a stream the shell closed (`<&-`, `>&-`): using it is then a clear error, not a crash."""
    stream = io.BytesIO()
    stream.close()
    return stream


def _isatty(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # closed stream
        return False
