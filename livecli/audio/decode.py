"""Audio in: any file soundfile reads (or stdin, or a pipe) → 16 kHz mono s16le chunks, streamed block by block.

Imported lazily by the commands that need it (numpy and soundfile load here, never at `livecli --help`).
Every problem with the input becomes one AudioInputError("<name>: <problem>"), also mid-stream.
"""

from __future__ import annotations

import math
import os
import re
import stat
import struct
import sys
import tempfile
from collections.abc import Iterator
from types import TracebackType
from typing import IO, Any, BinaryIO

import numpy as np
import numpy.typing as npt
import soundfile as sf

from livecli.audio.chunks import chunk_bytes, rechunk
from livecli.audio.resample import Resampler, to_int16
from livecli.errors import AudioInputError, cannot_open
from livecli.protocol.wire import INPUT_RATE

__all__ = ["InputAudio", "decode_block", "mix_to_mono", "open_input"]

# The input sample rates livecli takes (README, "Sending audio"): 4 kHz is below any speech codec's rate, 384 kHz
# the highest common studio rate. Outside them a header is bogus (an AIFF with rate 0 read as 1 Hz became 4.4 hours
# of audio; 999,983 Hz cost 3 s and 327 MB to plan): exit 6, not a guess.
MIN_INPUT_RATE = 4_000
MAX_INPUT_RATE = 384_000
BLOCK_BYTES = 1 << 20  # decode block budget (float32, all channels): bounds memory for any file length
SPOOL_BYTES = 1 << 20  # stdin is copied to a temp file in pieces of this size
# The most piped audio (stdin, a FIFO) livecli spools (README, "Sending audio"): over 18 hours of 16 kHz 16-bit
# mono, 3 hours of 48 kHz stereo; an endless stream (`send /dev/zero`) must not fill the disk. Files on disk
# have no limit: they are read in place, block by block.
MAX_SPOOL_BYTES = 2 << 30
_FLOAT_SUBTYPES = {"FLOAT", "DOUBLE", "VORBIS", "OPUS", "MPEG_LAYER_III"}


def decode_block(samplerate: int, channels: int) -> int:
    """Frames per decoded block: at most ~1 s and BLOCK_BYTES of float32, so memory is bounded for any file."""
    return max(1, min(samplerate, BLOCK_BYTES // (4 * channels)))


def mix_to_mono(block: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Average the channels of a (frames, channels) block with one matrix product."""
    if block.shape[1] == 1:
        return block[:, 0]
    weights = np.full(block.shape[1], 1.0 / block.shape[1], np.float32)
    return block @ weights


_SILENT_PEAK = 0.5 / 32768  # a float sample below this rounds to 0 at 16 bits
FLOAT_LIMIT = 16.0  # float samples are clipped to ±this before filtering: 3e38 in a corrupt file must not overflow


def _finite(block: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Replace NaN by 0 and ±inf by ±1, clip absurd values (float files can hold anything)."""
    if not np.isfinite(block).all():
        np.nan_to_num(block, copy=False, nan=0.0, posinf=1.0, neginf=-1.0)
    return np.clip(block, -FLOAT_LIMIT, FLOAT_LIMIT, out=block)


class InputAudio:
    """An opened input; `.pcm16(chunk_ms)` streams it as 16 kHz mono s16le chunks, block by block."""

    def __init__(self, name: str, source: str | IO[bytes], spool: IO[bytes] | None = None) -> None:
        self.name = name
        self._spool = spool
        try:
            self._file = sf.SoundFile(source)
        except (sf.SoundFileError, RuntimeError, TypeError, ValueError) as exc:
            self.close()
            raise AudioInputError(f"{name}: not a readable audio file ({_reason(exc)})") from None
        self.samplerate: int = self._file.samplerate
        self.channels: int = self._file.channels
        self.frames: int = self._file.frames
        self.format: str = self._file.format
        self.subtype: str = self._file.subtype
        if self.frames <= 0 or self.samplerate <= 0 or self.channels <= 0:
            self.close()
            raise AudioInputError(f"{name}: no audio frames (empty file)")
        if not MIN_INPUT_RATE <= self.samplerate <= MAX_INPUT_RATE:
            self.close()
            raise AudioInputError(
                f"{name}: unsupported sample rate {self.samplerate} Hz "
                f"(livecli takes {MIN_INPUT_RATE}–{MAX_INPUT_RATE} Hz)"
            )

    @property
    def duration_s(self) -> float:
        """Duration of the 16 kHz output, in seconds."""
        return math.ceil(self.frames * INPUT_RATE / self.samplerate) / INPUT_RATE

    @property
    def bypass(self) -> bool:
        """True when the file's int16 samples go to the wire untouched (16-bit 16 kHz mono)."""
        return self.samplerate == INPUT_RATE and self.channels == 1 and self.subtype == "PCM_16"

    def pcm16(self, chunk_ms: int = 40) -> Iterator[bytes]:
        """Yield 16 kHz mono s16le chunks of `chunk_ms` (the last may be short); memory is bounded."""
        yield from rechunk((samples.tobytes() for samples in self._blocks16()), chunk_bytes(chunk_ms))

    def silent(self) -> bool:
        """Whether every sample is zero (or NaN): nothing to hear, even at 16 bits (each rounds to 0).

        Reads from the start until the first audible block, so a file with sound costs one block; only a silent
        file is read whole. Leaves the file to be rewound (`pcm16` seeks to the start).
        """
        self._seek_start()
        dtype = "int16" if self.bypass else "float32"
        for raw in self._read_blocks(decode_block(self.samplerate, self.channels), dtype):
            if self.bypass:
                if raw.any():
                    return False
                continue
            mono = mix_to_mono(_finite(raw))  # NaN is silence, ±inf is loud; what is sent is the mono mix
            if float(np.max(np.abs(mono))) >= _SILENT_PEAK:
                return False
        return True

    def _blocks16(self) -> Iterator[npt.NDArray[np.int16]]:
        """The whole input as int16 16 kHz mono blocks (one per decoded block)."""
        block = decode_block(self.samplerate, self.channels)
        self._seek_start()
        if self.bypass:
            for raw in self._read_blocks(block, "int16"):
                yield raw[:, 0].astype("<i2", copy=False)
            return
        resampler = Resampler(self.samplerate, INPUT_RATE)
        needs_check = self.subtype in _FLOAT_SUBTYPES
        # 16-bit PCM is read as int16 and scaled here: the same floats libsndfile makes (x / 32768, exact), read
        # about 3x faster (a third of the decoding time of a 48 kHz WAV went into libsndfile's float conversion).
        as_int16 = self.subtype == "PCM_16"
        for raw in self._read_blocks(block, "int16" if as_int16 else "float32"):
            if as_int16:
                raw = np.multiply(raw, np.float32(1 / 32768), dtype=np.float32)
            mono = mix_to_mono(_finite(raw) if needs_check else raw)
            yield to_int16(resampler.process(mono))
        yield to_int16(resampler.flush())

    def _read_blocks(self, block: int, dtype: str) -> Iterator[npt.NDArray[Any]]:
        done = 0
        while True:
            try:
                data: npt.NDArray[Any] = self._file.read(block, dtype=dtype, always_2d=True)
            except (sf.SoundFileError, RuntimeError) as exc:
                when = (done + self._decodable_frames(done, block)) / self.samplerate
                raise AudioInputError(
                    f"{self.name}: corrupt or truncated audio after {when:.2f} s of "
                    f"{self.frames / self.samplerate:.2f} s ({_reason(exc)})"
                ) from None
            if len(data) == 0:
                break
            done += len(data)
            yield data
        if done < self.frames and self.format in ("FLAC", "WAV", "WAVEX", "AIFF"):
            raise AudioInputError(
                f"{self.name}: truncated: decoding stopped after {done / self.samplerate:.2f} s "
                f"of {self.frames / self.samplerate:.2f} s"
            )

    def _decodable_frames(self, start: int, limit: int) -> int:
        """How many frames from `start` (at most `limit`) decode, read again in 10 ms steps: a block that fails
        to decode is lost whole, and the error says where the audio really breaks (not where the block began)."""
        step = max(1, self.samplerate // 100)
        good = 0
        try:
            self._file.seek(start)
            while good < limit:
                got = len(self._file.read(min(step, limit - good), dtype="float32", always_2d=True))
                if got == 0:
                    break
                good += got
        except (sf.SoundFileError, RuntimeError):
            pass
        return good

    def _seek_start(self) -> None:
        try:
            self._file.seek(0)
        except (sf.SoundFileError, RuntimeError) as exc:
            raise AudioInputError(f"{self.name}: cannot rewind ({_reason(exc)})") from None

    def close(self) -> None:
        """Close the file and remove the stdin spool, if any."""
        if getattr(self, "_file", None) is not None:
            self._file.close()
        if self._spool is not None:
            self._spool.close()
            self._spool = None

    def __enter__(self) -> InputAudio:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def open_input(path: str, stdin: BinaryIO | None = None) -> InputAudio:
    """Open an audio file, or "-" for stdin (spooled to a temp file: libsndfile cannot decode from a pipe)."""
    if path == "-":
        source = stdin if stdin is not None else getattr(sys.stdin, "buffer", None)  # None when fd 0 is closed
        if source is None:
            raise AudioInputError("stdin: not available (closed)")
        spool = _spool_stdin(source)
        return InputAudio("stdin", spool, spool=spool)
    try:
        mode = os.stat(path).st_mode
        if stat.S_ISDIR(mode):
            raise AudioInputError(f"{path}: is a directory, not an audio file")
        with open(path, "rb") as handle:
            if not stat.S_ISREG(mode):  # a pipe such as <(sox ...): spool it like stdin
                spool = _spool_stdin(handle, path)
                return InputAudio(path, spool, spool=spool)
            _check_wav_length(path, handle)
    except (OSError, ValueError) as exc:
        raise AudioInputError(cannot_open(path, exc)) from None
    return InputAudio(path, path)


def _spool_stdin(stdin: IO[bytes], name: str = "stdin") -> IO[bytes]:
    try:
        is_tty = stdin.isatty()
    except (OSError, ValueError):
        is_tty = False
    if is_tty:
        raise AudioInputError(f"{name}: is a terminal; pipe audio in (e.g. `< speech.wav`) or give a file path")
    spool = tempfile.TemporaryFile(prefix="livecli-stdin-")  # noqa: SIM115 - handed to the caller, who closes it
    try:
        size = _copy_capped(stdin, spool, name)
        spool.seek(0)
        _check_wav_length(name, spool)
        spool.seek(0)
    except (OSError, ValueError) as exc:
        spool.close()
        raise AudioInputError(f"{name}: cannot read: {_reason(exc)}") from None
    except AudioInputError:
        spool.close()
        raise
    if size == 0:
        spool.close()
        raise AudioInputError(f"{name}: no data (empty input)")
    return spool


def _copy_capped(source: IO[bytes], spool: IO[bytes], name: str) -> int:
    """Copy `source` to `spool`; AudioInputError past MAX_SPOOL_BYTES. Returns the size copied."""
    size = 0
    while piece := source.read(SPOOL_BYTES):
        size += len(piece)
        if size > MAX_SPOOL_BYTES:
            raise AudioInputError(
                f"{name}: more than {MAX_SPOOL_BYTES >> 30} GiB of piped audio (the most livecli spools); "
                "save it to a file and send the file"
            )
        spool.write(piece)
    return size


def _check_wav_length(name: str, handle: IO[bytes]) -> None:
    """libsndfile silently shortens a cut-off WAV: compare the data chunk's declared size with the file."""
    head = handle.read(12)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return
    total = os.fstat(handle.fileno()).st_size
    pos = 12
    while pos + 8 <= total:
        handle.seek(pos)
        chunk_id, size = struct.unpack("<4sI", handle.read(8))
        if chunk_id == b"data":
            if 0 < size < 0xFFFFFFF0 and pos + 8 + size > total:  # streaming writers put 0 or ~4 GiB here
                have, want = total - pos - 8, size
                raise AudioInputError(f"{name}: truncated WAV: data chunk holds {have} of {want} bytes")
            return
        pos += 8 + size + (size & 1)


def _reason(exc: BaseException) -> str:
    """libsndfile's message without its "Error opening 'path': " prefix (the name is already in front)."""
    text = str(exc).strip() or type(exc).__name__
    text = re.sub(r"^Error opening .*?: ", "", text).removeprefix("Error : ")
    return text.replace("\n", " ").rstrip(".")
