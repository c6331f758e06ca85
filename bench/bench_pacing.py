"""Pacing accuracy on the real event loop: livecli's absolute-deadline Pacer vs a naive sleep-per-chunk loop.

Paces `--seconds` (default 60) of 40 ms and 20 ms chunks, building a real audio message per chunk, and prints
the drift at the end and the per-chunk lateness (p50/p99/max). Targets: drift ≤ 2 ms, p99 lateness ≤ 5 ms.
The four schedules run concurrently in one loop, as a send loop shares its loop with the receive task.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from livecli.audio.pacing import Pacer
from livecli.protocol.client_messages import audio_message

DRIFT_TARGET_MS = 2.0
P99_TARGET_MS = 5.0


async def paced(chunk_ms: int, seconds: float) -> list[float]:
    """Lateness (s) of each chunk under the Pacer."""
    pacer = Pacer(chunk_ms / 1000, 1.0)
    pcm = bytes(chunk_ms * 32)
    late = []
    for i in range(int(seconds * 1000 / chunk_ms) + 1):
        late.append(await pacer.wait(i))
        audio_message(pcm)
    return late


async def naive(chunk_ms: int, seconds: float) -> list[float]:
    """Lateness (s) of each chunk when sleeping chunk_ms after each send (what many clients do)."""
    pcm = bytes(chunk_ms * 32)
    t0 = time.monotonic()
    late = []
    for i in range(int(seconds * 1000 / chunk_ms) + 1):
        late.append(time.monotonic() - (t0 + i * chunk_ms / 1000))
        audio_message(pcm)
        await asyncio.sleep(chunk_ms / 1000)
    return late


def report(name: str, late: list[float]) -> bool:
    ms = sorted(x * 1000 for x in late)
    drift, p99 = ms and late[-1] * 1000, ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    print(
        f"{name:<22} chunks {len(ms):5d}  drift at end {drift:8.2f} ms  lateness p50 {statistics.median(ms):6.2f}"
        f"  p99 {p99:6.2f}  max {ms[-1]:7.2f} ms"
    )
    return abs(drift) <= DRIFT_TARGET_MS and p99 <= P99_TARGET_MS


async def main(seconds: float) -> int:
    runs = {
        "pacer 40 ms": paced(40, seconds),
        "pacer 20 ms": paced(20, seconds),
        "naive sleep 40 ms": naive(40, seconds),
        "naive sleep 20 ms": naive(20, seconds),
    }
    results = dict(zip(runs, await asyncio.gather(*runs.values()), strict=True))
    print(f"{seconds:g} s of audio, targets: drift ≤ {DRIFT_TARGET_MS} ms, p99 lateness ≤ {P99_TARGET_MS} ms")
    ok = [report(name, late) for name, late in results.items()]
    met = ok[0] and ok[1]
    print("pacer meets the targets" if met else "pacer MISSES the targets")
    return 0 if met else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="audio duration to pace (default 60)")
    parser.add_argument("--quick", action="store_true", help="10 s instead of --seconds")
    options = parser.parse_args()
    sys.exit(asyncio.run(main(10.0 if options.quick else options.seconds)))
