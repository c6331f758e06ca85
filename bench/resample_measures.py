"""How the resampler's filter is measured, once: by bench/bench_resample_quality.py (which prints the numbers
beside soxr HQ) and by tests/audio/test_resample_stopband.py (which holds the targets).

Levels are of the strongest spectral component, amplitude-calibrated: a tone of amplitude 0.9 reads -0.9 dBFS
(issue 12's convention, as in ../shared/bench/resample_anchors.py), not the RMS convention of livecli.audio.levels.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

OUT = 16000
EDGE_TRIM = 1500  # output samples dropped at each end: the test tones start and stop abruptly there
Resample = Callable[[npt.NDArray[np.float32], int, int], npt.NDArray[np.floating]]


def tone(sr: int, freq: float, seconds: float = 0.3, amp: float = 0.9) -> npt.NDArray[np.float32]:
    return (amp * np.sin(2 * np.pi * freq * np.arange(int(sr * seconds)) / sr)).astype(np.float32)


def strongest_dbfs(y: npt.NDArray[np.floating], *, above_hz: float = 0.0, rate: int = OUT) -> float:
    """The level of the strongest spectral component above `above_hz`, in dBFS: a Kaiser window (beta 20: its
    leakage stays ~150 dB down, so a strong tone near `above_hz` cannot pass for an image) zero-padded 8x (a tone
    between bins reads within 0.1 dB of its amplitude)."""
    y64 = np.asarray(y[EDGE_TRIM:-EDGE_TRIM], np.float64)
    window = np.kaiser(len(y64), 20.0)
    size = 8 * len(y64)
    spectrum = np.abs(np.fft.rfft(y64 * window, n=size)) / (window.sum() / 2)
    freqs = np.fft.rfftfreq(size, 1 / rate)
    return 20 * math.log10(float(spectrum[freqs > above_hz].max()) + 1e-20)


def gain_db(resample: Resample, sr_in: int, freq: float) -> float:
    """The gain at `freq` from a least-squares fit of the output to the ideal 16 kHz tone, in dB."""
    y = np.asarray(resample(tone(sr_in, freq, 0.5), sr_in, OUT), np.float64)
    t = np.arange(len(y)) / OUT
    middle = slice(EDGE_TRIM, len(y) - EDGE_TRIM)
    basis = np.stack([np.sin(2 * np.pi * freq * t[middle]), np.cos(2 * np.pi * freq * t[middle])], axis=1)
    coef, *_ = np.linalg.lstsq(basis, y[middle], rcond=None)
    return 20 * math.log10(math.hypot(*coef) / 0.9)


def minus_3db_hz(resample: Resample, sr_in: int) -> float:
    """Where the gain crosses -3 dB between 6.5 and 8 kHz (bisection to 1 Hz)."""
    low, high = 6500.0, 8000.0
    while high - low > 1.0:
        mid = (low + high) / 2
        low, high = (mid, high) if gain_db(resample, sr_in, mid) >= -3.0 else (low, mid)
    return low
