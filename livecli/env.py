"""The process environment, injected: streams, TTY flags, environment variables, clock.

Built once by the CLI and passed down; nothing below the CLI reads sys.stdout, os.environ or time directly,
so tests can swap any of it.
"""

from __future__ import annotations

import io
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import BinaryIO, TextIO

__all__ = ["Env"]


@dataclass
class Env:
    """Streams, TTY flags, environment variables and the monotonic clock of one run."""

    stdin: BinaryIO
    stdout: BinaryIO
    stderr: TextIO
    environ: Mapping[str, str] = field(default_factory=dict)
    stdout_isatty: bool = False
    stderr_isatty: bool = False
    clock: Callable[[], float] = time.monotonic

    @classmethod
    def from_process(cls) -> Env:
        """The real process's streams and environment."""
        return cls(
            stdin=sys.stdin.buffer if sys.stdin is not None else _closed_stream(),
            stdout=sys.stdout.buffer,
            stderr=sys.stderr,
            environ=dict(os.environ),
            stdout_isatty=_isatty(sys.stdout),
            stderr_isatty=_isatty(sys.stderr),
        )


def _closed_stream() -> BinaryIO:
    """Stands in for a stdin the shell closed (`<&-`): reading it is then a clear bad-input error."""
    stream = io.BytesIO()
    stream.close()
    return stream


def _isatty(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # closed stream
        return False
