"""How far does one `livecli serve` process scale? Loopback only, bounded in time (about a minute).

1. Open sessions: N connections (default 1000) each complete setup and stay open; reports the server's RSS.
2. Real-time streams: N concurrent streams each send 16 kHz audio in 40 ms chunks at real-time pace inside
   activity brackets and receive the 24 kHz echo at real-time pace; N doubles until a level fails. A level is
   sustained when every turn completes, the p95 time from activityEnd to the first reply byte is under 300 ms and
   every reply arrives within 10% (+0.2 s) of its real-time duration. Reports server CPU per stream.

The server runs as a subprocess (`python -m livecli serve`); this script is the load generator in another process.
Usage: python bench/bench_server_scale.py [--sessions 1000] [--max-streams 800] [--turn-s 2.0]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import resource
import statistics
import subprocess
import sys
import time

from websockets.asyncio.client import connect

from livecli.protocol.endpoints import GEMINI_DEFAULT_VERSION, gemini_path

PATH = gemini_path(GEMINI_DEFAULT_VERSION)
SETUP = json.dumps(
    {
        "setup": {
            "model": "models/gemini-3.8-live",
            "realtimeInputConfig": {"automaticActivityDetection": {"disabled": True}},
        }
    }
)
CHUNK = 1280  # 40 ms at 16 kHz


def raise_nofile() -> int:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else 65536
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))  # the server subprocess inherits it
    return target


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def start_server() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "livecli", "serve", "--port", "0", "-q"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


async def open_sessions(url: str, n: int, pid: int) -> None:
    gate = asyncio.Semaphore(100)
    conns = []

    async def one() -> None:
        async with gate:
            ws = await connect(url + PATH, compression=None, open_timeout=30, ping_interval=None)
            await ws.send(SETUP)
            assert b"setupComplete" in await ws.recv()
            conns.append(ws)

    t0 = time.monotonic()
    rss0 = rss_mb(pid)
    await asyncio.gather(*(one() for _ in range(n)))
    elapsed = time.monotonic() - t0
    await asyncio.sleep(1.0)
    print(
        f"open sessions: {len(conns)} held at once; opened in {elapsed:.1f} s; "
        f"server RSS {rss_mb(pid):.0f} MB (+{(rss_mb(pid) - rss0) / max(1, len(conns)) * 1024:.0f} KB/session)"
    )
    await asyncio.gather(*(ws.close() for ws in conns))


async def stream(url: str, turn_s: float, turns: int, stats: dict[str, list[float]], offset_s: float) -> None:
    frame = json.dumps(
        {
            "realtimeInput": {
                "audio": {"mimeType": "audio/pcm;rate=16000", "data": base64.b64encode(os.urandom(CHUNK)).decode()}
            }
        }
    )
    n_chunks = int(turn_s / 0.04)
    expected_reply_s = turn_s + 0.2  # chime + echo
    async with connect(url + PATH, compression=None, open_timeout=30, max_size=None) as ws:
        await ws.send(SETUP)
        await ws.recv()
        await asyncio.sleep(offset_s)  # streams start spread over one turn, as independent users would
        for _ in range(turns):
            await ws.send('{"realtimeInput":{"activityStart":{}}}')
            t0 = time.monotonic()
            for i in range(n_chunks):
                lag = time.monotonic() - (t0 + i * 0.04)
                if lag < 0:
                    await asyncio.sleep(-lag)
                else:
                    stats["send_lag"].append(lag)
                await ws.send(frame)
            await ws.send('{"realtimeInput":{"activityEnd":{}}}')
            end = time.monotonic()
            first = last = None
            while True:
                message = await asyncio.wait_for(ws.recv(), 30)
                if b'"inlineData"' in message[:80]:
                    last = time.monotonic()
                    first = first or last
                elif b'"turnComplete"' in message:
                    break
            assert first is not None and last is not None
            stats["first_byte"].append(first - end)
            stats["reply_over"].append((last - first) - (expected_reply_s - 0.04))


async def stream_level(url: str, n: int, turn_s: float, pid: int) -> bool:
    stats: dict[str, list[float]] = {"send_lag": [], "first_byte": [], "reply_over": []}
    cpu0, t0 = cpu_seconds(pid), time.monotonic()
    gen0 = time.process_time()
    results = await asyncio.gather(
        *(stream(url, turn_s, 3, stats, turn_s * i / n) for i in range(n)), return_exceptions=True
    )
    wall = time.monotonic() - t0
    server_cpu = cpu_seconds(pid) - cpu0
    gen_cpu = time.process_time() - gen0
    failures = [r for r in results if isinstance(r, BaseException)]
    p95 = statistics.quantiles(stats["first_byte"], n=20)[-1] if len(stats["first_byte"]) > 1 else float("inf")
    worst_over = max(stats["reply_over"], default=float("inf"))
    lag95 = statistics.quantiles(stats["send_lag"], n=20)[-1] if len(stats["send_lag"]) > 1 else 0.0
    ok = not failures and p95 < 0.3 and worst_over < 0.1 * turn_s + 0.2
    print(
        f"streams {n:4d}: {'sustained' if ok else 'NOT sustained'}; server CPU {server_cpu / wall:.2f} cores "
        f"({server_cpu / wall / n * 1000:.1f} ms CPU per stream-second); "
        f"first reply byte p95 {p95 * 1000:.0f} ms; "
        f"reply late by ≤ {worst_over * 1000:.0f} ms; generator CPU {gen_cpu / wall:.2f} cores, send lag p95 "
        f"{lag95 * 1000:.0f} ms; failures {len(failures)}"
    )
    return ok


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--start-streams", type=int, default=25)
    parser.add_argument("--max-streams", type=int, default=800)
    parser.add_argument("--turn-s", type=float, default=2.0)
    args = parser.parse_args()
    print(f"RLIMIT_NOFILE raised to {raise_nofile()}; {os.cpu_count()} CPUs")
    proc, url = start_server()
    try:
        await open_sessions(url, args.sessions, proc.pid)
        n, best = args.start_streams, 0
        while n <= args.max_streams:
            if not await stream_level(url, n, args.turn_s, proc.pid):
                break
            best, n = n, n * 2
        print(f"result: {args.sessions} concurrent open sessions; {best} concurrent real-time streams sustained")
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    asyncio.run(main())
