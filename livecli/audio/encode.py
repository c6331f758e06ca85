"""Audio out: the reply's s16le as a file (WAV, FLAC, OGG/Vorbis, Opus or MP3, by suffix or --format, where the
installed libsndfile writes it), written atomically, or WAV on stdout.

The reply is read in blocks (it may be on disk: commands/reply_spill.py) and written with checked lengths
(env.write_all), so every write error is an OSError with its errno: soundfile writing to a file object turns an
error inside its callback into an AssertionError, and Python's buffered writer reports a short write as success.
WAV is written block by block (its header is livecli's own, the sizes known up front), so a long reply never
sits in memory whole; the other formats are encoded in memory first (their encoded size, not the PCM's).

Atomic: the file is written under a temporary name next to the destination and renamed over it, so an interrupted
run (Ctrl-C, SIGTERM, a full disk) never leaves a half-written reply where the old one was. The temporary name is
never longer than the destination's (a legal name stays legal), and `prove_writable` creates and removes it
before connecting, so an output that cannot be written fails before the session, not after it. Only a regular file
(or a new name) is replaced so: an existing FIFO, device or socket (`is_stream_target`) is written in place,
opened for writing as the shell's `>` would, since renaming over it would remove it and leave its reader waiting.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import secrets
import stat
import struct
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from livecli.env import write_all
from livecli.errors import OutputError, UsageError
from livecli.protocol.reply_audio import PcmBlocks, ReplyAudio

__all__ = [
    "REPLY_FORMATS",
    "ReplyFormat",
    "encode_reply",
    "prove_writable",
    "reply_format",
    "streaming_wav_header",
    "temp_path",
    "wav_header",
    "write_reply",
    "write_to_stdout",
]


@dataclass(frozen=True)
class ReplyFormat:
    """A file format a reply can be written in: its --format name, libsndfile's container and encoding, and the
    file name suffixes that ask for it (the first one names files under -o DIR/)."""

    name: str
    container: str
    subtype: str
    suffixes: tuple[str, ...]

    def writable(self) -> bool:
        """Whether the installed libsndfile writes this format (Opus needs 1.0.29, MP3 1.1.0)."""
        import soundfile as sf

        return self.container in sf.available_formats() and bool(sf.check_format(self.container, self.subtype))


REPLY_FORMATS = (
    ReplyFormat("wav", "WAV", "PCM_16", (".wav",)),
    ReplyFormat("flac", "FLAC", "PCM_16", (".flac",)),
    ReplyFormat("ogg", "OGG", "VORBIS", (".ogg", ".oga")),
    ReplyFormat("opus", "OGG", "OPUS", (".opus",)),
    ReplyFormat("mp3", "MP3", "MPEG_LAYER_III", (".mp3",)),
)


def reply_format(dest: str, name: str | None = None) -> ReplyFormat:
    """The format a reply file is written in: `name` (--format) if given, else by `dest`'s suffix (WAV for an
    existing FIFO or device).

    Raises:
        UsageError: an unknown format or suffix, or one the installed libsndfile cannot write.
    """
    if name is None and is_stream_target(dest):  # a FIFO or device has no suffix to go by: WAV
        name = "wav"
    if name is not None:
        found = next((f for f in REPLY_FORMATS if f.name == name.lower()), None)
        asked = f"--format {name}"
    else:
        suffix = Path(dest).suffix.lower()
        found = next((f for f in REPLY_FORMATS if suffix in f.suffixes), None)
        asked = dest
    if found is None or not found.writable():
        usable = ", ".join(f.name for f in REPLY_FORMATS if f.writable())
        problem = "unknown output format" if found is None else "the installed libsndfile cannot write it"
        raise UsageError(f"{asked}: {problem}; use {usable} (a file name suffix or --format), DIR/, or -")
    return found


_TEMP_SUFFIX = ".part"
_NAME_MAX = 255  # where the file system does not say (os.pathconf)


def _pcm_blocks(pcm: bytes | PcmBlocks) -> PcmBlocks:
    if isinstance(pcm, bytes | bytearray):
        audio = ReplyAudio()
        audio.append(bytes(pcm))
        return audio
    return pcm


def _whole_samples(blocks: Iterable[bytes]) -> Iterator[bytes]:
    """The blocks cut at sample boundaries (a block may end inside a sample); a last odd byte is dropped."""
    carry = b""
    for block in blocks:
        data = carry + block
        cut = len(data) - len(data) % 2
        carry = data[cut:]
        if cut:
            yield data[:cut]


def encode_reply(pcm: bytes | PcmBlocks, rate: int, kind: ReplyFormat = REPLY_FORMATS[0]) -> bytes:
    """s16le mono as a file's bytes in format `kind`, in memory (read block by block).

    Raises:
        OutputError: the encoder refused the audio (Opus takes 8, 12, 16, 24 or 48 kHz only).
    """
    import numpy as np
    import soundfile as sf

    buffer = io.BytesIO()
    try:
        with sf.SoundFile(buffer, "w", rate, 1, subtype=kind.subtype, format=kind.container) as out:
            for block in _whole_samples(_pcm_blocks(pcm).blocks()):
                out.write(np.frombuffer(block, "<i2"))
    except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
        raise OutputError(f"cannot encode the reply ({rate} Hz) as {kind.name}: {exc}") from exc
    return buffer.getvalue()


_UNKNOWN_SIZE = 0xFFFFFFFF


def wav_header(rate: int, data_bytes: int | None) -> bytes:
    """A 16-bit mono WAV header for `data_bytes` of PCM; None (or more than the format can count) writes both
    sizes as 0xFFFFFFFF, unknown, as sox and ffmpeg do on a pipe."""
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)  # PCM, mono, rate, byte rate, block align, bits
    riff = data = _UNKNOWN_SIZE
    if data_bytes is not None and 4 + 8 + len(fmt) + 8 + data_bytes <= _UNKNOWN_SIZE:
        riff, data = 4 + 8 + len(fmt) + 8 + data_bytes, data_bytes
    return (
        b"RIFF"
        + struct.pack("<I", riff)
        + b"WAVEfmt "
        + struct.pack("<I", len(fmt))
        + fmt
        + b"data"
        + struct.pack("<I", data)
    )


def streaming_wav_header(rate: int) -> bytes:
    """A 16-bit mono WAV header whose lengths are unknown, so a player (`play -t wav -`, `aplay`) starts at once
    and reads until the stream ends."""
    return wav_header(rate, None)


def _write_wav(write: Callable[[bytes], None], audio: PcmBlocks, rate: int) -> None:
    """A whole WAV file through `write`, one block at a time."""
    write(wav_header(rate, len(audio) - len(audio) % 2))
    for block in _whole_samples(audio.blocks()):
        write(block)


def write_reply(
    dest: str, pcm: bytes | PcmBlocks, rate: int, stdout: BinaryIO | None = None, *, kind: str | None = None
) -> None:
    """Write s16le mono atomically (in place into an existing FIFO or device), in format `kind` (--format) or by
    suffix; "-" writes WAV to `stdout`.
    `pcm` may be bytes or a store read in blocks (a reply's turns, possibly on disk).

    Raises:
        OutputError: the file or stdout cannot take the reply (the OSError is its __cause__).
        BrokenPipeError: stdout's reader went away (a status of its own).
        UsageError: an unknown suffix or format.
    """
    if dest == "-":
        if stdout is None:
            raise OutputError("-o -: no stdout to write to")
        _write_wav(lambda data: write_to_stdout(stdout, data), _pcm_blocks(pcm), rate)
        return
    audio = _pcm_blocks(pcm)
    fmt = reply_format(dest, kind)
    encoded = encode_reply(audio, rate, fmt) if fmt.name != "wav" else None
    if is_stream_target(dest):
        _write_in_place(dest, audio, rate, encoded)
        return
    temp = temp_path(dest)
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # mode honours the umask
        with open(fd, "wb", buffering=0) as handle:  # closing reports late errors too (NFS, quotas)
            if encoded is None:
                _write_wav(lambda data: write_all(handle, data), audio, rate)
            else:
                write_all(handle, encoded)
        os.replace(temp, dest)
    except OSError as exc:
        _remove_quietly(temp)
        raise OutputError(f"{dest}: cannot write: {exc.strerror or exc}") from exc
    except BaseException:
        _remove_quietly(temp)
        raise


def is_stream_target(dest: str) -> bool:
    """Whether `dest` exists and is neither a regular file nor a directory: a FIFO, a device, a socket."""
    try:
        mode = os.stat(dest).st_mode
    except (OSError, ValueError):
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def _write_in_place(dest: str, audio: PcmBlocks, rate: int, encoded: bytes | None) -> None:
    """The reply written into an existing FIFO or device, which stays what it is (opening a FIFO waits for its
    reader, as the shell's `>` does)."""
    try:
        with open(dest, "wb", buffering=0) as handle:
            if encoded is None:
                _write_wav(lambda data: write_all(handle, data), audio, rate)
            else:
                write_all(handle, encoded)
    except OSError as exc:
        raise OutputError(f"{dest}: cannot write: {exc.strerror or exc}") from exc


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
        OutputError: the directory does not take the file (permissions, read-only, full, a name too long), or an
            existing FIFO or device is not writable.
    """
    if is_stream_target(dest):  # written in place: no temporary file; opening a FIFO now would wait for its reader
        if not os.access(dest, os.W_OK):
            raise OutputError(f"{dest}: cannot write: {os.strerror(errno.EACCES)}")
        return
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
