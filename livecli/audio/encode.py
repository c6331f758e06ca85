"""Audio out: the reply's s16le as a WAV or FLAC file (by suffix), written atomically, or WAV on stdout.

The reply is encoded in memory first and then written with checked lengths (env.write_all), so every write
error is an OSError with its errno: soundfile writing to a file object turns an error inside its callback into
an AssertionError, and Python's buffered writer reports a short write as success.

Atomic: the file is written under a temporary name next to the destination and renamed over it, so an interrupted
run (Ctrl-C, SIGTERM, a full disk) never leaves a half-written reply where the old one was. The temporary name is
never longer than the destination's (a legal name stays legal), and `prove_writable` creates and removes it
before connecting, so an output that cannot be written fails before the session, not after it.
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import struct
from pathlib import Path
from typing import BinaryIO

from livecli.env import write_all
from livecli.errors import OutputError, UsageError

__all__ = [
    "REPLY_FORMATS",
    "encode_reply",
    "prove_writable",
    "streaming_wav_header",
    "temp_path",
    "write_reply",
    "write_to_stdout",
]

REPLY_FORMATS = {".wav": "WAV", ".flac": "FLAC"}
_TEMP_SUFFIX = ".part"
_NAME_MAX = 255  # where the file system does not say (os.pathconf)


def encode_reply(pcm: bytes, rate: int, kind: str = "WAV") -> bytes:
    """s16le mono as a WAV or FLAC file's bytes, in memory."""
    import numpy as np
    import soundfile as sf

    samples = np.frombuffer(pcm, "<i2", count=len(pcm) // 2)
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format=kind, subtype="PCM_16")
    return buffer.getvalue()


def streaming_wav_header(rate: int) -> bytes:
    """A 16-bit mono WAV header whose lengths are unknown: both sizes 0xFFFFFFFF, as sox and ffmpeg write to a
    pipe, so a player (`play -t wav -`, `aplay`) starts at once and reads until the stream ends."""
    unknown = 0xFFFFFFFF
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)  # PCM, mono, rate, byte rate, block align, bits
    return (
        b"RIFF"
        + struct.pack("<I", unknown)
        + b"WAVEfmt "
        + struct.pack("<I", len(fmt))
        + fmt
        + (b"data" + struct.pack("<I", unknown))
    )


def write_reply(dest: str, pcm: bytes, rate: int, stdout: BinaryIO | None = None) -> None:
    """Write s16le mono as WAV or FLAC (by suffix) atomically; "-" writes WAV to `stdout`.

    Raises:
        OutputError: the file or stdout cannot take the reply (the OSError is its __cause__).
        BrokenPipeError: stdout's reader went away (a status of its own).
        UsageError: an unknown suffix.
    """
    if dest == "-":
        if stdout is None:
            raise OutputError("-o -: no stdout to write to")
        write_to_stdout(stdout, encode_reply(pcm, rate))
        return
    kind = REPLY_FORMATS.get(Path(dest).suffix.lower())
    if kind is None:
        raise UsageError(f"{dest}: unknown output format; use a .wav or .flac file name, or - for stdout")
    data = encode_reply(pcm, rate, kind)
    temp = temp_path(dest)
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # mode honours the umask
        with open(fd, "wb", buffering=0) as handle:  # closing reports late errors too (NFS, quotas)
            write_all(handle, data)
        os.replace(temp, dest)
    except OSError as exc:
        _remove_quietly(temp)
        raise OutputError(f"{dest}: cannot write: {exc.strerror or exc}") from exc
    except BaseException:
        _remove_quietly(temp)
        raise


def write_to_stdout(stdout: BinaryIO, data: bytes) -> None:
    """All of `data` on stdout, or OutputError (BrokenPipeError stays itself: its reader went away)."""
    try:
        write_all(stdout, data)
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise OutputError(f"cannot write to stdout: {exc.strerror or exc}") from exc


def temp_path(dest: str) -> str:
    """A fresh temporary name next to `dest`, never longer than `dest`'s own name when that is long.

    `.reply.wav.1a2b3c4d.part` for short names; a name near the file system's limit (NAME_MAX, in bytes) keeps
    only as much of its start as fits in its own length, so a legal output name never fails for its temporary.
    """
    directory, base = os.path.split(dest)
    tag = f".{secrets.token_hex(4)}{_TEMP_SUFFIX}".encode()
    name = os.fsencode(base)
    full = b"." + name + tag
    if len(full) > _name_max(directory):
        keep = max(len(name) - len(tag) - 1, 0)
        full = b"." + name[:keep] + tag
    return os.path.join(directory, os.fsdecode(full))


def prove_writable(dest: str) -> None:
    """Create and remove `dest`'s temporary file: an output that cannot be written fails before connecting.

    Raises:
        OutputError: the directory does not take the file (permissions, read-only, full, a name too long).
    """
    temp = temp_path(dest)
    try:
        os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    except OSError as exc:
        raise OutputError(f"{dest}: cannot write: {exc.strerror or exc}") from exc
    _remove_quietly(temp)


def _name_max(directory: str) -> int:
    try:
        return os.pathconf(directory or ".", "PC_NAME_MAX")
    except (OSError, ValueError):
        return _NAME_MAX


def _remove_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
