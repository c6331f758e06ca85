"""Run every bench/bench_*.py in turn with this Python, printing their output; exit 1 if any failed.

Arguments after the script name are passed to every bench (e.g. `run_all.py --quick` if they all accept it).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path


def main() -> int:
    here = Path(__file__).resolve().parent
    failed = []
    for script in sorted(here.glob("bench_*.py")):
        print(f"# {script.name}\n", flush=True)
        start = time.perf_counter()
        status = subprocess.run([sys.executable, str(script), *sys.argv[1:]], check=False).returncode
        print(f"[{script.name}: exit {status}, {time.perf_counter() - start:.0f} s]\n", flush=True)
        if status:
            failed.append(script.name)
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
