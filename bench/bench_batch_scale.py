"""How many real-time sessions can one `livecli batch` process drive? Loopback only, a few minutes.

For each level N (default 100, 200, 300, ...): a manifest of N cases, each streaming a `--input-s` second WAV in
real time (40 ms chunks on absolute deadlines) to `livecli serve` running in another process (replies paced in
real time too), run by ONE `livecli batch --concurrency N` process. From results.jsonl: cases that did not pass,
and the send lateness (how long after its real-time deadline each audio message left, the histogram every case
records, merged: its p99 is the bucket bound that 99% of the messages are under) plus the worst per-case p99.
A level holds when no case fails and the merged p99 is at most `--target-ms` (20 ms, the issue's target); the
break point is the first level that does not. Also the batch process's CPU (cores) and peak RSS.

The machine may be shared: other processes' load shows up as lateness. Report the load average with the numbers.
Usage: python bench/bench_batch_scale.py [--levels 100,200,300,400] [--input-s 4] [--target-ms 20]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from serve_process import raise_nofile, start_server

from livecli.commands.batch.results import LATENESS_BUCKETS_MS

BUCKETS = (*(str(bound) for bound in LATENESS_BUCKETS_MS), "inf")  # results.jsonl's histogram


def write_input(folder: Path, seconds: float) -> Path:
    """A tone at 16 kHz (what the client sends without resampling), quiet enough to be speech-like."""
    t = np.arange(int(seconds * 16000)) / 16000
    path = folder / "input.wav"
    sf.write(path, (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 16000, subtype="PCM_16")
    return path


def merged_percentile(histograms: list[dict[str, int]], fraction: float) -> str:
    """The bucket bound (ms) under which `fraction` of all messages fall."""
    totals = {bucket: sum(h.get(bucket, 0) for h in histograms) for bucket in BUCKETS}
    count = sum(totals.values())
    running = 0
    for bucket in BUCKETS:
        running += totals[bucket]
        if count and running >= fraction * count:
            return bucket
    return "-"


def run_level(n: int, url: str, audio: Path, folder: Path, start_rate: float) -> dict[str, Any]:
    manifest = folder / f"suite-{n}.jsonl"
    manifest.write_text("".join(json.dumps({"id": f"c{k}", "turns": [str(audio)]}) + "\n" for k in range(n)))
    out = folder / f"out-{n}"
    argv = [sys.executable, "-m", "livecli", "batch", str(manifest), "-o", str(out), "--endpoint", url]
    argv += ["--concurrency", str(n), "--max-retries", "0", "--timeout", "60", "--connect-timeout", "60", "-q"]
    argv += ["--start-rate", str(start_rate)]
    start = time.monotonic()
    proc = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    stderr = proc.stderr.read() if proc.stderr is not None else ""
    records = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    lateness = [r["send_lateness_ms"] for r in records if r.get("send_lateness_ms")]
    per_case_p99 = sorted(item["p99"] for item in lateness)
    return {
        "n": n,
        "exit": os.waitstatus_to_exitcode(status),
        "failed": sum(r["status"] != "pass" for r in records) + (n - len(records)),
        "p99_ms": merged_percentile([item["histogram"] for item in lateness], 0.99),
        "p50_ms": merged_percentile([item["histogram"] for item in lateness], 0.50),
        "worst_case_p99_ms": per_case_p99[-1] if per_case_p99 else None,
        "median_case_p99_ms": per_case_p99[len(per_case_p99) // 2] if per_case_p99 else None,
        "max_ms": max((item["max"] for item in lateness), default=None),
        "cpu_cores": (usage.ru_utime + usage.ru_stime) / wall,
        "rss_mb": usage.ru_maxrss / 1024,
        "wall_s": wall,
        "stderr": stderr.strip().splitlines()[-3:],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--levels", default="100,200,300,400")
    parser.add_argument("--input-s", type=float, default=4.0)
    parser.add_argument("--target-ms", type=float, default=20.0)
    parser.add_argument("--start-rate", type=float, default=50.0, help="batch's --start-rate (0: all at once)")
    args = parser.parse_args()
    print(f"RLIMIT_NOFILE {raise_nofile()}; {os.cpu_count()} CPUs; load average {os.getloadavg()}")
    proc, url = start_server()
    best, broke = 0, None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            audio = write_input(folder, args.input_s)
            for n in (int(level) for level in args.levels.split(",")):
                level = run_level(n, url, audio, folder, args.start_rate)
                p99 = level["p99_ms"]
                holds = level["failed"] == 0 and p99 not in ("inf", "-") and float(p99) <= args.target_ms
                print(
                    f"N={n:4d}: {'holds' if holds else 'BREAKS'}; failed {level['failed']}, exit {level['exit']}; "
                    f"send lateness p50 <= {level['p50_ms']} ms, p99 <= {p99} ms (merged histogram), per-case p99 "
                    f"median {level['median_case_p99_ms']} / worst {level['worst_case_p99_ms']} ms, max "
                    f"{level['max_ms']} ms; batch CPU {level['cpu_cores']:.2f} cores, "
                    f"RSS {level['rss_mb']:.0f} MB, wall {level['wall_s']:.1f} s; load {os.getloadavg()[0]:.2f}",
                    flush=True,
                )
                if level["failed"]:
                    print("  last lines:", *level["stderr"], sep="\n    ")
                if holds and broke is None:
                    best = n
                elif not holds and broke is None:
                    broke = n
                if level["failed"] > n // 2:  # no point going higher
                    break
    finally:
        proc.terminate()
        proc.wait(10)
    print(f"result: held up to {best} concurrent real-time sessions (p99 <= {args.target_ms:g} ms, no failure); "
          f"break point {broke if broke is not None else 'not reached'}")  # fmt: skip


if __name__ == "__main__":
    main()
