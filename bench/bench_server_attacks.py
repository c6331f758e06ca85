"""Issue 12, section 3: `livecli serve` (its own process) under each attack, and a bystander meanwhile.

For each attack a well-behaved client connects while it runs and asks one text turn; the table gives how long its
setupComplete and its whole reply took (should stay under 1 s; replies unpaced, `--reply-speed 0`), what the
attacker got back (a close code, or "open" 2 s later), and the server's resident memory after the attack
(VmRSS, Linux).

    python bench/bench_server_attacks.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from serve_process import rss_mb, start_server

from livecli.server.probe import Probe

WORDS = " ".join(f"word{i}" for i in range(64))
NO_INTERRUPTION = {
    "realtimeInputConfig": {
        "automaticActivityDetection": {"disabled": True},
        "activityHandling": "NO_INTERRUPTION",
    }
}


SETUPS: dict[str, dict[str, object]] = {
    "queued_long_turns": NO_INTERRUPTION,
    "handle_flood": {"sessionResumption": {}},
}


async def bystander(url: str) -> tuple[float, float]:
    start = time.perf_counter()
    probe = await Probe.open(url)
    await probe.setup()
    ready = time.perf_counter() - start
    await probe.send({"realtimeInput": {"text": "still served"}})
    await probe.turn(60)
    await probe.close()
    return ready, time.perf_counter() - start


async def _opened(url: str, **setup: object) -> Probe:
    probe = await Probe.open(url)
    await probe.setup(**setup)
    return probe


async def text_flood(probe: Probe, scale: int) -> None:
    frame = json.dumps({"realtimeInput": {"text": WORDS}})
    for _ in range(10_000 // scale):
        await probe.send(frame)


async def rate_switching(probe: Probe, scale: int) -> None:
    rates = [47981 - 4 * i for i in range(10)]
    for index in range(40):
        frame = {
            "realtimeInput": {"audio": {"data": "AAAAAA==", "mimeType": f"audio/pcm;rate={rates[index % 10]}"}}
        }
        with contextlib.suppress(Exception):
            await probe.send(frame)


async def queued_long_turns(probe: Probe, scale: int) -> None:
    data = base64.b64encode(b"\x01\x02" * 16000 * 120).decode()
    frame = json.dumps({"realtimeInput": {"audio": {"data": data, "mimeType": "audio/pcm;rate=16000"}}})
    for _ in range(16 // scale):
        await probe.send({"realtimeInput": {"activityStart": {}}})
        await probe.send(frame)
        await probe.send({"realtimeInput": {"activityEnd": {}}})


async def huge_text(probe: Probe, scale: int) -> None:
    await probe.send(json.dumps({"realtimeInput": {"text": "ab " * (16_000_000 // 3 // scale)}}))


async def handle_flood(probe: Probe, scale: int) -> None:
    frame = json.dumps({"realtimeInput": {"text": "again"}})
    for _ in range(5_000 // scale):
        await probe.send(frame)


async def _drain(probe: Probe) -> None:
    with contextlib.suppress(Exception):
        async for _ in probe.ws:
            pass


async def run(url: str, pid: int, attack: Callable[[Probe, int], Awaitable[None]], scale: int) -> str:
    """Start the attack, let it run for a moment (or to its end), then time a bystander while it goes on."""
    opened: list[Probe] = []

    async def attacking() -> None:
        attacker = await _opened(url, **SETUPS.get(attack.__name__, {}))
        opened.append(attacker)
        if attack is not queued_long_turns:  # that one never reads; the others read what they asked for
            asyncio.get_running_loop().create_task(_drain(attacker))
        await attack(attacker, scale)

    task = asyncio.create_task(attacking())
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(asyncio.shield(task), 1.0)
    try:
        ready, whole = await bystander(url)
    except TimeoutError:  # no setupComplete within Probe's 5 s: the attack stalled it
        ready = whole = float("inf")
    code = "open"
    if opened:  # how the attack ended, if it did within 2 s of the bystander's reply
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(opened[0].ws.wait_closed(), 2.0)
    if opened and opened[0].ws.close_code is not None:
        code = str(opened[0].ws.close_code)
    memory = rss_mb(pid)
    task.cancel()
    with contextlib.suppress(BaseException):
        await task
    for probe in opened:
        probe.ws.transport.abort()
    return f"| {attack.__name__} | {ready * 1000:.0f} ms | {whole * 1000:.0f} ms | {code} | {memory:.0f} MB |"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of each attack")
    scale = 10 if parser.parse_args().quick else 1
    server, url = start_server("--reply-speed", "0")
    try:
        print(f"server idle: {rss_mb(server.pid):.0f} MB")
        print("| attack | bystander setupComplete | bystander whole reply | attacker closed | server RSS |")
        print("|---|---|---|---|---|")
        for attack in (text_flood, rate_switching, queued_long_turns, huge_text, handle_flood):
            print(await run(url, server.pid, attack, scale), flush=True)
            await asyncio.sleep(0.5)
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            print("the server did not stop within 10 s of SIGTERM")
            server.kill()
            server.wait()


if __name__ == "__main__":
    asyncio.run(main())
