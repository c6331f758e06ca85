"""The resampler's plan stays within MAX_PLAN_BYTES for every accepted input rate (issue 10, T7), keeping the exact
ratio: the worst rates (primes near 104 kHz and 384 kHz, and near the 4 kHz floor) are built here; the whole
range is bounded by bench/bench_resample_plans.py --all."""

from __future__ import annotations

import math

import numpy as np
import pytest

from livecli.audio.resample import MAX_PLAN_BYTES, Resampler, _dense_bytes, _design, resample
from livecli.protocol.wire import INPUT_RATE


@pytest.mark.parametrize("rate", [4001, 103_997, 383_987])
def test_the_worst_rates_build_at_most_the_budget(rate: int) -> None:
    """383,987 Hz built a 118 MB dense plan; it now takes the gather path (a ~7 MB kernel table)."""
    assert Resampler(rate, INPUT_RATE).plan_bytes() <= MAX_PLAN_BYTES


def test_the_size_bound_holds_for_the_plans_built() -> None:
    """_dense_bytes (which picks the path without building) never underestimates a plan."""
    for rate in (4001, 11_025, 96_000):
        r = Resampler(rate, INPUT_RATE)
        assert r._stage._plan is not None
        assert sum(m.nbytes for m in r._stage._plan.matrices) <= _dense_bytes(_design(rate, INPUT_RATE))


def test_a_high_prime_rate_keeps_the_exact_ratio_and_the_tone() -> None:
    rate = 383_987
    n = rate // 4
    x = (0.5 * np.sin(2 * np.pi * 1000.0 * np.arange(n) / rate)).astype(np.float32)
    y = resample(x, rate, INPUT_RATE)
    assert len(y) == math.ceil(n * INPUT_RATE / rate)
    ideal = 0.5 * np.sin(2 * np.pi * 1000.0 * np.arange(len(y)) / INPUT_RATE)
    middle = slice(200, len(y) - 200)  # away from the zero history at both ends
    assert np.max(np.abs(y[middle] - ideal[middle])) < 1e-3
