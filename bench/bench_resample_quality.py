"""The resampler's filter beside soxr HQ, row by row as issue 12 states the target (single thread).

1. Level of the strongest output component for a 0.9-amplitude tone, 44.1 and 48 kHz in (7 kHz passes; from
   8 kHz on everything is an alias and must stay at or below -100 dBFS), and the worst alias over a sweep of
   tones from 8 kHz to the input's Nyquist at 22.05, 32, 44.1, 48 and 96 kHz; 8 → 16 kHz images above 4 kHz.
2. Passband: ripple 50 Hz-6 kHz (target <= 0.01 dB), gain at 7 kHz (>= -0.5 dB), the -3 dB point (>= 7.3 kHz).
3. Speed: batch x-realtime (CPU time, best of --reps) and the ratio to soxr HQ (targets: >= 0.5 at 44.1 and
   48 kHz, >= 0.3 at 96 kHz); streaming in 20 ms blocks (>= 300x real time).

Usage: bench/bench_resample_quality.py [--quick]
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"  # before numpy loads: the targets are single-threaded

import argparse  # noqa: E402
import functools  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402
import numpy.typing as npt  # noqa: E402
from resample_measures import OUT, Resample, gain_db, minus_3db_hz, strongest_dbfs, tone  # noqa: E402

from livecli.audio.resample import Resampler, resample  # noqa: E402

TONES_KHZ = (7.0, 8.0, 8.1, 8.5, 9.0, 9.5, 10.0)
SWEEP_RATES = (22050, 32000, 44100, 48000, 96000)


def _soxr() -> Resample | None:
    try:
        import soxr
    except ImportError:
        return None

    def run(x: npt.NDArray[np.float32], sr_in: int, sr_out: int) -> npt.NDArray[np.floating]:
        return np.asarray(soxr.resample(x, sr_in, sr_out, quality="HQ"))

    return run


def worst_alias(fn: Resample, sr: int, step_hz: float) -> tuple[float, float]:
    """(level dBFS, tone Hz) of the worst alias for tones from 8 kHz to the input's Nyquist."""
    freqs = np.arange(8000.0, sr / 2 - 100.0, step_hz)
    return max((strongest_dbfs(fn(tone(sr, f), sr, OUT)), f) for f in freqs)


def worst_image(fn: Resample, step_hz: float) -> float:
    return max(
        strongest_dbfs(fn(tone(8000, f), 8000, OUT), above_hz=4000.0) for f in np.arange(50.0, 3950.0, step_hz)
    )


def speed(fn: Callable[[], object], seconds: float, reps: int) -> float:
    best = float("inf")
    for _ in range(reps):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return seconds / best


def streamed_20ms(x: npt.NDArray[np.float32], sr: int) -> None:
    r = Resampler(sr, OUT)
    block = sr // 50
    for i in range(0, len(x), block):
        r.process(x[i : i + block])
    r.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="coarser sweeps, shorter speed runs")
    args = parser.parse_args()
    step, seconds, reps = (211.0, 10.0, 2) if args.quick else (37.0, 60.0, 5)
    entries: dict[str, Resample] = {"livecli": resample}
    soxr = _soxr()
    if soxr is not None:
        entries["soxr HQ"] = soxr
    names = list(entries)

    print("## Tone → strongest output component, dBFS (0.9 amplitude; from 8 kHz on it is all alias)")
    print("| tone | " + " | ".join(f"{n} {sr / 1000:g}k" for sr in (44100, 48000) for n in names) + " |")
    for khz in TONES_KHZ:
        cells = [
            f"{strongest_dbfs(entries[n](tone(sr, khz * 1000), sr, OUT)):.1f}"
            for sr in (44100, 48000)
            for n in names
        ]
        print(f"| {khz:g} kHz | " + " | ".join(cells) + " |")
    print(f"\n## Worst alias over tones 8 kHz..Nyquist (step {step:g} Hz), dBFS (target <= -100)")
    for sr in SWEEP_RATES:
        worst = {n: worst_alias(entries[n], sr, step) for n in names}
        print(
            f"| {sr} Hz in | "
            + " | ".join(f"{n}: {db:.1f} at {hz:.0f} Hz" for n, (db, hz) in worst.items())
            + " |"
        )
    images = " | ".join(f"{n}: {worst_image(entries[n], step * 2):.1f}" for n in names)
    print(f"| 8 kHz → 16 kHz, images above 4 kHz | {images} |")

    print("\n## Passband (44.1 kHz in)")
    for n in names:
        gains = [gain_db(entries[n], 44100, f) for f in (50.0, 300.0, 1000.0, 3000.0, 5000.0, 6000.0)]
        at_7k = gain_db(entries[n], 44100, 7000.0)
        print(
            f"{n}: ripple 50 Hz-6 kHz {max(gains) - min(gains):.4f} dB, 7 kHz {at_7k:.3f} dB, "
            f"-3 dB at {minus_3db_hz(entries[n], 44100):.0f} Hz"
        )

    print(f"\n## Speed, {seconds:g} s of noise, single thread (x real time, CPU; best of {reps})")
    rng = np.random.default_rng(0)
    for sr in (44100, 48000, 96000):
        x = (rng.standard_normal(int(sr * seconds)) * 0.1).astype(np.float32)
        ours = speed(functools.partial(resample, x, sr, OUT), seconds, reps)
        line = f"{sr} Hz: livecli {ours:.0f}x"
        if soxr is not None:
            theirs = speed(functools.partial(soxr, x, sr, OUT), seconds, reps)
            line += f", soxr HQ {theirs:.0f}x, ratio {ours / theirs:.2f}"
        stream = speed(functools.partial(streamed_20ms, x, sr), seconds, max(1, reps // 2))
        print(line + f"; livecli streaming in 20 ms blocks {stream:.0f}x")


if __name__ == "__main__":
    main()
