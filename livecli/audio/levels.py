"""How loud 16-bit PCM is, and digital silence: one family for the client (near-silent replies, audible onset)
and the local server (its energy VAD, its silent replies).

Units are in the names: `_pcm16` takes or returns s16le bytes, `_ms` is milliseconds, `_dbfs` is decibels relative
to full scale, where a full-scale square wave is 0 dBFS (so a full-scale sine is -3 dBFS). numpy only, no
soundfile: the server imports this module and stays light to start. The near-silence threshold itself is
NEAR_SILENT_DBFS in livecli.protocol.report.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator

import numpy as np
import numpy.typing as npt

__all__ = [
    "first_audible_byte_offset",
    "frame_rms_dbfs",
    "rms_dbfs_pcm16",
    "rms_dbfs_pcm16_parts",
    "silence_pcm16",
]

FULL_SCALE = 32768.0
_MEASURE_BLOCK = 1 << 16  # samples per step: long replies are measured without a full-length float64 copy
_FRAME_FLOOR_POWER = 1e-12  # -120 dBFS, what an all-zero frame measures (below the int16 floor, -101 dBFS)


def silence_pcm16(duration_ms: int, *, rate: int) -> bytes:
    """`duration_ms` milliseconds of s16le digital silence at `rate` Hz (nothing for a negative duration)."""
    return bytes(max(0, rate * duration_ms // 1000) * 2)


def rms_dbfs_pcm16(pcm: bytes) -> float:
    """RMS level of a whole s16le buffer in dBFS; -inf for digital silence or no audio."""
    return rms_dbfs_pcm16_parts([pcm])


def rms_dbfs_pcm16_parts(parts: Iterable[bytes | bytearray]) -> float:
    """RMS level in dBFS of s16le buffers taken as one (a reply's turns), not joined; -inf for silence."""
    count, energy = 0, 0.0
    for pcm in parts:
        count += len(pcm) // 2
        for block in _sample_blocks(pcm):
            wide = block.astype(np.float64)
            energy += float(np.dot(wide, wide))
    if energy == 0.0:
        return -math.inf
    return 20.0 * math.log10(math.sqrt(energy / count) / FULL_SCALE)


def frame_rms_dbfs(frames: npt.NDArray[np.int16]) -> npt.NDArray[np.float32]:
    """RMS level in dBFS of each row of int16 samples (one row per VAD frame); all-zero rows give -120 dBFS."""
    power = np.mean(np.square(frames.astype(np.float32) / np.float32(FULL_SCALE)), axis=-1)
    levels: npt.NDArray[np.float32] = 10.0 * np.log10(np.maximum(power, _FRAME_FLOOR_POWER))
    return levels


def first_audible_byte_offset(pcm: bytes, threshold_dbfs: float) -> int | None:
    """Byte offset in s16le `pcm` of the first sample whose magnitude reaches `threshold_dbfs`; None if none."""
    limit = FULL_SCALE * 10.0 ** (threshold_dbfs / 20.0)
    for index, block in enumerate(_sample_blocks(pcm)):
        loud = np.flatnonzero(np.abs(block.astype(np.int32)) >= limit)
        if loud.size:
            return (index * _MEASURE_BLOCK + int(loud[0])) * 2
    return None


def _sample_blocks(pcm: bytes | bytearray) -> Iterator[npt.NDArray[np.int16]]:
    samples = np.frombuffer(pcm, "<i2", count=len(pcm) // 2)
    for start in range(0, samples.size, _MEASURE_BLOCK):
        yield samples[start : start + _MEASURE_BLOCK]
