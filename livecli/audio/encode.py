"""Audio out: the reply's 24 kHz s16le as a WAV or FLAC file (by suffix), written atomically, or WAV on stdout.

Atomic: the file is written under a temporary name next to the destination and renamed over it, so an interrupted
run (Ctrl-C, SIGTERM, a full disk) never leaves a half-written reply where the old one was.
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import sys
from pathlib import Path
from typing import BinaryIO

import numpy as np
import soundfile as sf

from livecli.errors import UsageError

__all__ = ["REPLY_FORMATS", "write_reply"]

REPLY_FORMATS = {".wav": "WAV", ".flac": "FLAC"}


def write_reply(dest: str, pcm: bytes, rate: int, stdout: BinaryIO | None = None) -> None:
    """Write s16le mono as WAV or FLAC (by suffix) atomically; "-" writes WAV to stdout."""
    samples = np.frombuffer(pcm, "<i2", count=len(pcm) // 2)
    if dest == "-":
        buffer = io.BytesIO()
        sf.write(buffer, samples, rate, format="WAV", subtype="PCM_16")
        out = stdout if stdout is not None else sys.stdout.buffer
        out.write(buffer.getvalue())
        out.flush()
        return
    kind = REPLY_FORMATS.get(Path(dest).suffix.lower())
    if kind is None:
        raise UsageError(f"{dest}: unknown output format; use a .wav or .flac file name, or - for stdout")
    directory, base = os.path.split(dest)
    temp = os.path.join(directory, f".{base}.{secrets.token_hex(4)}.part")
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # mode honours the umask
        with os.fdopen(fd, "wb") as handle:
            sf.write(handle, samples, rate, format=kind, subtype="PCM_16")
        os.replace(temp, dest)
    except OSError as exc:
        _remove_quietly(temp)
        raise UsageError(f"{dest}: cannot write: {exc.strerror or exc}") from None
    except BaseException:
        _remove_quietly(temp)
        raise


def _remove_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
