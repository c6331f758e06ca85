"""Unpaced throughput and memory of the client (issue 12 §4): `livecli send --speed 0` of long 48 kHz audio into
`livecli serve --reply-speed 0` (another process), wall time and the client's RSS sampled as it runs.

Targets: 1 h in ≤ 5 s wall; RSS ≤ 100 MB and flat from 1 h to 2 h of input. The WAV files (48 kHz mono s16, a
tone with noise) are written block by block into a temporary directory; the client is a whole process
(`python -m livecli send`), its peak RSS from wait4 and its RSS over time from /proc.

Usage: python bench/bench_client_throughput.py [--hours 1,2] [--quick]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np
import soundfile as sf
from serve_process import cpu_seconds, rss_mb, start_server

RATE = 48_000
WALL_TARGET_S_PER_HOUR = 5.0
RSS_TARGET_MB = 100.0
SAMPLES = "RSS at 25/50/75/100 % of the run"


def write_input(path: str, seconds: float) -> None:
    """A 440 Hz tone at -20 dBFS with noise at -50 dBFS, written a minute at a time."""
    rng = np.random.default_rng(1)
    with sf.SoundFile(path, "w", RATE, 1, "PCM_16") as out:
        done = 0
        total = int(seconds * RATE)
        while done < total:
            n = min(60 * RATE, total - done)
            t = (np.arange(done, done + n) / RATE).astype(np.float64)
            block = 0.1 * np.sin(2 * np.pi * 440 * t) + 0.003 * rng.standard_normal(n)
            out.write(block.astype(np.float32))
            done += n


def run_send(url: str, path: str) -> tuple[float, float, list[float]]:
    """(wall s, CPU s, RSS samples MB) of one `livecli send --speed 0`. RSS is sampled from /proc: wait4's
    ru_maxrss would count the bench's own pages the child had before it exec'd."""
    command = [sys.executable, "-m", "livecli", "send", path, "--endpoint", url, "--speed", "0", "-q"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    samples: list[float] = []

    def sample() -> None:
        while proc.poll() is None:
            samples.append(rss_mb(proc.pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    sampler.join()
    assert proc.stderr is not None
    if proc.returncode != 0:
        raise SystemExit(f"send exited {proc.returncode}: {proc.stderr.read().decode(errors='replace')[-500:]}")
    return wall, usage.ru_utime + usage.ru_stime, [s for s in samples if s]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hours", default="1,2", help="input lengths in hours, comma-separated")
    parser.add_argument("--quick", action="store_true", help="6 and 12 minutes instead (for make bench)")
    args = parser.parse_args()
    hours = [0.1, 0.2] if args.quick else [float(h) for h in args.hours.split(",")]
    server, url = start_server("--reply-speed", "0")
    try:
        with tempfile.TemporaryDirectory() as folder:
            print(f"load average {os.getloadavg()}")
            print(f"| input | wall | wall per hour | client CPU | server CPU | peak RSS | {SAMPLES} |")
            print("|---|---|---|---|---|---|---|")
            for h in hours:
                path = os.path.join(folder, f"in-{h}h.wav")
                write_input(path, h * 3600)
                server_cpu = cpu_seconds(server.pid)
                wall, cpu, samples = run_send(url, path)
                server_cpu = cpu_seconds(server.pid) - server_cpu
                peak = max(samples)
                marks = [samples[min(len(samples) - 1, int(len(samples) * q))] for q in (0.25, 0.5, 0.75, 0.999)]
                print(
                    f"| {h:g} h at 48 kHz | {wall:.2f} s | {wall / h:.2f} s | {cpu:.2f} s | {server_cpu:.2f} s | "
                    f"{peak:.0f} MB | " + " / ".join(f"{m:.0f}" for m in marks) + " MB |",
                    flush=True,
                )
                os.unlink(path)
            print(f"targets: ≤ {WALL_TARGET_S_PER_HOUR:.0f} s per hour, ≤ {RSS_TARGET_MB:.0f} MB flat")
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
