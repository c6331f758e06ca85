"""Resampler plans over the whole input-rate range livecli accepts (issue 10, T7): the size of what each rate
builds (dense plan or gather table) and the time to build it, plus the time to resample one second.

Run: .venv/bin/python bench/bench_resample_plans.py [--all]
Prints the worst cases. Sizes are exact for the rates measured; `--all` also sweeps the size bound of every rate
4000..384000 (without building), which takes a few seconds.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np

from livecli.audio.decode import MAX_INPUT_RATE, MIN_INPUT_RATE
from livecli.audio.resample import (
    MAX_DENSE_PHASES,
    MAX_PLAN_BYTES,
    Resampler,
    _decimation,
    _dense_bytes,
    _design,
    _plan,
    _table,
)
from livecli.protocol.wire import INPUT_RATE

# Primes near the ends and in the middle of the range, the common rates, and the old worst cases.
RATES = [
    4001,
    4003,
    8000,
    11025,
    16000,
    22050,
    44100,
    44101,
    48000,
    96000,
    103997,
    104003,
    176400,
    192000,
    191999,
    383987,
    383993,
    384000,
]


def built_bytes(rate: int) -> tuple[str, int, float]:
    """What Resampler(rate → 16 kHz) builds: its path, the bytes of its plans or tables, seconds to build them."""
    _plan.cache_clear()
    _table.cache_clear()
    start = time.perf_counter()
    r = Resampler(rate, INPUT_RATE)
    size = r.plan_bytes()  # a gather table is built here
    return r.path, size, time.perf_counter() - start


def one_second(rate: int) -> float:
    """Seconds to resample one second of noise at `rate` (plan already built)."""
    x = np.random.default_rng(1).standard_normal(rate).astype(np.float32) * 0.1
    r = Resampler(rate, INPUT_RATE)
    r.process(x[:100])
    start = time.perf_counter()
    r.process(x[100:])
    r.flush()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--all", action="store_true", help="also bound the plan of every rate in the range")
    args = parser.parse_args()
    print(f"accepted input rates: {MIN_INPUT_RATE}..{MAX_INPUT_RATE} Hz; plan budget {MAX_PLAN_BYTES >> 20} MiB")
    print(f"{'rate':>8} {'path':>20} {'MiB':>7} {'build s':>8} {'1 s in s':>9}")
    for rate in RATES:
        path, size, build = built_bytes(rate)
        print(f"{rate:>8} {path:>20} {size / 2**20:>7.2f} {build:>8.3f} {one_second(rate):>9.3f}")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    if args.all:
        worst = 0
        for rate in range(MIN_INPUT_RATE, MAX_INPUT_RATE + 1):
            d = _design(rate, INPUT_RATE * _decimation(rate, INPUT_RATE))  # the stage after any decimation
            dense = d.up <= MAX_DENSE_PHASES and _dense_bytes(d) <= MAX_PLAN_BYTES
            size = _dense_bytes(d) if dense else (2 * d.half * 2048 + 2) * 4
            worst = max(worst, size)
        print(f"largest plan or table over every rate: {worst / 2**20:.2f} MiB")


if __name__ == "__main__":
    main()
