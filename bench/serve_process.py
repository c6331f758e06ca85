"""What the benches share about processes: `livecli serve` started as another process, the open-files limit a
bench with many connections needs, and a process's RSS and CPU read from /proc."""

from __future__ import annotations

import os
import resource
import subprocess
import sys


def start_server(*options: str) -> tuple[subprocess.Popen[str], str]:
    """`python -m livecli serve --port 0 -q OPTIONS…` and the URL it prints once it listens."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "livecli", "serve", "--port", "0", "-q", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def raise_nofile() -> int:
    """The soft open-files limit raised to the hard one (subprocesses inherit it); the new limit."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else 65536
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


def rss_mb(*pids: int) -> float:
    """The resident memory of these processes together, in MB (one that has ended counts nothing)."""
    total = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as handle:
                total += next(int(line.split()[1]) for line in handle if line.startswith("VmRSS:")) / 1024
        except (OSError, StopIteration):
            continue
    return total


def cpu_seconds(*pids: int) -> float:
    """User and system CPU of these processes together, in seconds."""
    total = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total
