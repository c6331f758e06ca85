"""Peak memory of the client for one long reply (issue 10, L5: spill reply audio to disk as it arrives).

Starts `livecli serve --reply-speed 0` with a scenario whose first turn answers with MINUTES of 24 kHz audio,
then runs `livecli text hi` against it once per output (`-o reply.wav`, `-o reply.flac`, `-o -` to /dev/null,
no `-o`) and prints each client's peak RSS (os.wait4's ru_maxrss) beside the reply's size in memory.

Usage: bench/bench_reply_memory.py [--minutes M]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
from serve_process import start_server

RATE = 24000


def long_reply(path: Path, minutes: float) -> int:
    """A reply file of `minutes` of a quiet tone (not near-silent: no warning, no failure), written a minute at a
    time so this process stays small; its PCM bytes."""
    minute = (0.1 * np.sin(2 * np.pi * 220 * np.arange(60 * RATE) / RATE) * 32767).astype("<i2")
    whole, part = divmod(int(minutes * 60 * RATE), len(minute))
    with sf.SoundFile(str(path), "w", RATE, 1, subtype="PCM_16") as out:
        for _ in range(whole):
            out.write(minute)
        out.write(minute[:part])
    return (whole * len(minute) + part) * 2


def peak_rss_mb(argv: list[str], quiet_stdout: bool) -> tuple[int, float]:
    """Run `argv`; its exit status and peak resident set size in MB. posix_spawn, not fork: a forked child
    starts with this process's memory high-water mark, which ru_maxrss would report as the child's."""
    actions = [(os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)]
    if quiet_stdout:
        actions.append((os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0))
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)
    _, status, usage = os.wait4(pid, 0)
    return os.waitstatus_to_exitcode(status), usage.ru_maxrss / 1024  # kB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=20.0)
    args = parser.parse_args()
    livecli = [sys.executable, "-m", "livecli"]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        pcm_bytes = long_reply(work / "answer.wav", args.minutes)
        scenario = work / "long.toml"
        scenario.write_text('name = "long"\n[[turns]]\naudio = "answer.wav"\n', encoding="utf-8")
        server, url = start_server("--reply-speed", "0", "--scenario", str(scenario))
        try:
            print(f"reply: {args.minutes:g} min of 24 kHz audio = {pcm_bytes / 2**20:.1f} MiB of PCM")
            cases: list[tuple[str, list[str]]] = [
                ("-o reply.wav", ["-o", str(work / "reply.wav")]),
                ("-o reply.flac", ["-o", str(work / "reply.flac")]),
                ("-o - > /dev/null", ["-o", "-"]),
                ("no -o (transcript)", []),
            ]
            for label, output in cases:
                argv = [*livecli, "text", "hi", "--endpoint", url, "-q", "--timeout", "120", *output]
                status, rss = peak_rss_mb(argv, quiet_stdout=not output or output == ["-o", "-"])
                print(f"{label:<22} exit {status}  peak RSS {rss:7.1f} MB")
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
