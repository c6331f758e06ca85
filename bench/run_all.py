"""Run every bench/bench_*.py in turn with this Python, printing their output; exit 1 if any failed.

Options after the script name (e.g. `run_all.py --quick`) go only to the benches whose source names that option
(`"--quick"` in an argparse call); others run without them, so one bench's flag never breaks another.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path


def accepted_args(source: str, args: list[str]) -> list[str]:
    """The options of `args` (with their values) that `source` declares; the rest are dropped."""
    kept: list[str] = []
    keep_values = False
    for arg in args:
        if arg.startswith("-"):
            name = arg.split("=", 1)[0]
            keep_values = re.search(rf"""["']{re.escape(name)}["']""", source) is not None
            if keep_values:
                kept.append(arg)
        elif keep_values:  # the value of the option before it
            kept.append(arg)
    return kept


def main() -> int:
    here = Path(__file__).resolve().parent
    failed = []
    for script in sorted(here.glob("bench_*.py")):
        args = accepted_args(script.read_text(encoding="utf-8"), sys.argv[1:])
        print(f"# {script.name} {' '.join(args)}\n", flush=True)
        start = time.perf_counter()
        status = subprocess.run([sys.executable, str(script), *args], check=False).returncode
        print(f"[{script.name}: exit {status}, {time.perf_counter() - start:.0f} s]\n", flush=True)
        if status:
            failed.append(script.name)
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
