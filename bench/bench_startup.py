"""Start-up: `livecli --help` (and --version, send --help) wall time vs `python -c "import typer"` (same venv),
and what `--help` imports.

Target: `livecli --help` ≤ 1.5× the bare typer import. `livecli --help` must not import numpy, soundfile,
websockets or google.auth (checked through sys.modules in a subprocess).

Usage: bench/bench_startup.py [--runs N] [--quick]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HEAVY = ("numpy", "soundfile", "websockets", "google.auth", "livecli.audio.decode")
PROBE = """
import sys
sys.argv = ["livecli", "--help"]
from livecli.cli.app import main
try:
    main()
except SystemExit:
    pass
heavy = [m for m in {heavy!r} if m in sys.modules]
sys.stderr.write("HEAVY=" + ",".join(heavy) + "\\n")
"""


def walls(cmds: list[list[str]], runs: int) -> list[float]:
    """Median wall time of each command, runs interleaved so machine noise hits all of them alike.

    Bytecode caching is allowed (PYTHONDONTWRITEBYTECODE dropped; the warm-up run writes livecli's .pyc files)
    because a user's installed livecli has them: otherwise every run recompiles livecli's modules while typer's
    come precompiled from site-packages, which is not the comparison the target means.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    for cmd in cmds:  # warm the page cache and the bytecode cache
        subprocess.run(cmd, capture_output=True, check=False, env=env)
    times: list[list[float]] = [[] for _ in cmds]
    for _ in range(runs):
        for cmd, spent in zip(cmds, times, strict=True):
            start = time.perf_counter()
            subprocess.run(cmd, capture_output=True, check=False, env=env)
            spent.append(time.perf_counter() - start)
    return [statistics.median(spent) for spent in times]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs per command (median)")
    parser.add_argument("--quick", action="store_true", help="5 runs per command")
    args = parser.parse_args()
    if args.quick:
        args.runs = 5
    py = sys.executable
    script = Path(py).parent / "livecli"  # the console script, as a user runs it
    version_cmd = [str(script) if script.exists() else py, *([] if script.exists() else ["-m", "livecli"])]
    cmds = {
        'python -c "import typer"': [py, "-c", "import typer"],
        "livecli --help": [*version_cmd, "--help"],
        "livecli --version": [*version_cmd, "--version"],
        "livecli send --help": [*version_cmd, "send", "--help"],
    }
    medians = dict(zip(cmds, walls(list(cmds.values()), args.runs), strict=True))
    typer_s = medians['python -c "import typer"']
    ratio = medians["livecli --help"] / typer_s
    print(f"## Start-up (median of {args.runs}, same venv)\n")
    print("| command | wall ms | ratio to import typer |")
    print("|---|---|---|")
    for name, seconds in medians.items():
        print(f"| {name} | {seconds * 1000:.1f} | {seconds / typer_s:.2f} |")
    print(f"\n`livecli --help` ratio {ratio:.2f} (target ≤ 1.5): {'ok' if ratio <= 1.5 else 'OVER TARGET'}")
    probe = subprocess.run([py, "-c", PROBE.format(heavy=HEAVY)], capture_output=True, text=True, check=False)
    lines = [line for line in probe.stderr.splitlines() if line.startswith("HEAVY=")]
    if not lines:
        print(f"\n`livecli --help` probe failed:\n{probe.stderr.strip()}")
        return 1
    heavy = [m for m in lines[-1].removeprefix("HEAVY=").split(",") if m]
    print(
        f"`livecli --help` heavy imports: {', '.join(heavy) if heavy else 'none'} ({'ok' if not heavy else 'BAD'})"
    )
    print()
    return 0 if not heavy else 1


if __name__ == "__main__":
    sys.exit(main())
