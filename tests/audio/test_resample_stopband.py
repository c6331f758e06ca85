"""The resampler's filter against issue 12's target: nothing at or above the output's Nyquist (8 kHz) comes back
as an alias, for any input rate livecli meets and any block size, with a flat passband and no delay."""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest
from helpers import REPO
from hypothesis import given, settings
from hypothesis import strategies as st

from livecli.audio.resample import Resampler, resample

# The measures are the bench's (bench/resample_measures.py): the targets here are what `make bench` reports.
_spec = importlib.util.spec_from_file_location("resample_measures", REPO / "bench" / "resample_measures.py")
if _spec is None or _spec.loader is None:
    raise ImportError("bench/resample_measures.py is missing")
measures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(measures)
OUT = measures.OUT


def _streamed(x: np.ndarray, sr_in: int, sr_out: int, block: int) -> np.ndarray:
    r = Resampler(sr_in, sr_out)
    pieces = [r.process(x[i : i + block]) for i in range(0, len(x), block)]
    return np.concatenate([*pieces, r.flush()])


@settings(max_examples=30, deadline=None)
@given(
    sr=st.sampled_from([22050, 32000, 44100, 48000, 96000]),
    position=st.floats(0.0, 1.0),
    block=st.integers(64, 5000),
)
def test_no_tone_at_or_above_8k_comes_back(sr: int, position: float, block: int) -> None:
    freq = 8000.0 + position * (sr / 2 - 8100.0)
    y = _streamed(measures.tone(sr, freq), sr, OUT, block)
    assert measures.strongest_dbfs(y) <= -100.0


@pytest.mark.parametrize("sr", [22050, 32000, 44100, 48000, 96000])
@pytest.mark.parametrize("freq", [8100.0, 9000.0])
def test_the_tones_that_used_to_fold_back_are_gone(sr: int, freq: float) -> None:
    """8.1 kHz came back at -6.9 dBFS (folded to 7.9 kHz) and 9 kHz at -32 dBFS: both now at least 100 dB down."""
    level = measures.strongest_dbfs(resample(measures.tone(sr, freq), sr, OUT))
    assert level <= 20 * math.log10(0.9) - 100.0


@settings(max_examples=15, deadline=None)
@given(freq=st.floats(50.0, 3950.0), block=st.integers(16, 3000))
def test_upsampling_8k_leaves_no_image_above_4k(freq: float, block: int) -> None:
    y = _streamed(measures.tone(8000, freq), 8000, OUT, block)
    assert measures.strongest_dbfs(y, above_hz=4000.0) <= -100.0


@pytest.mark.parametrize("sr", [44100, 48000])
def test_the_passband_ripple_is_under_a_hundredth_of_a_db(sr: int) -> None:
    gains = [measures.gain_db(resample, sr, freq) for freq in (50.0, 300.0, 1000.0, 3000.0, 5000.0, 6000.0)]
    assert max(gains) - min(gains) <= 0.01


@pytest.mark.parametrize("sr", [22050, 44100, 48000, 96000])
def test_7k_passes_within_half_a_db(sr: int) -> None:
    assert measures.gain_db(resample, sr, 7000.0) >= -0.5


@pytest.mark.parametrize("sr", [44100, 48000])
def test_the_minus_3_db_point_is_at_or_above_7_3k(sr: int) -> None:
    assert measures.gain_db(resample, sr, 7300.0) >= -3.0


@pytest.mark.parametrize("sr", [103_997, 383_987])
def test_a_decimating_first_stage_keeps_length_and_alignment(sr: int) -> None:
    """Odd high rates are first decimated by an integer factor (one stage would be the slow gather path): the
    chain still gives exactly ceil(n * 16000 / sr) samples, with no delay, streamed as in one call."""
    assert Resampler(sr, OUT).path.startswith("decimate/")
    x = measures.tone(sr, 1000.0, 0.2, amp=0.5)
    batch = resample(x, sr, OUT)
    assert len(batch) == math.ceil(len(x) * OUT / sr)
    ideal = 0.5 * np.sin(2 * np.pi * 1000.0 * np.arange(len(batch)) / OUT)
    middle = slice(400, len(batch) - 400)
    assert np.max(np.abs(batch[middle] - ideal[middle])) < 2e-4
    assert np.max(np.abs(_streamed(x, sr, OUT, 3333) - batch)) <= 1e-5


@settings(max_examples=10, deadline=None)
@given(n=st.integers(1, 20000), block=st.integers(1, 7000))
def test_a_two_stage_chain_has_the_exact_length_for_any_input(n: int, block: int) -> None:
    x = np.random.default_rng(n).uniform(-1, 1, n).astype(np.float32)
    assert len(_streamed(x, 191_999, OUT, block)) == math.ceil(n * OUT / 191_999)


def test_a_decimated_high_rate_has_no_alias_either() -> None:
    assert measures.strongest_dbfs(resample(measures.tone(383_987, 8100.0), 383_987, OUT)) <= -100.0
