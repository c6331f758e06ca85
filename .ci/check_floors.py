"""Check that the running venv holds every runtime dependency at exactly its declared floor.

`make test-min` installs the dependencies with uv's lowest-direct resolution, but a floor can still be lifted
silently: another dependency may require more (typer 0.26 needs rich >= 13.8), so the suite would pass with a
version the floor does not name. This fails instead, naming the floor to raise.

Standard library only: it runs in the floor venv before the tests.
"""

from __future__ import annotations

import re
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
# "name[extra]>=1.2,<3": the name and the floor; every runtime dependency must have one.
_FLOOR = re.compile(r"^(?P<name>[A-Za-z0-9_.-]+)(?:\[[^\]]*\])?\s*>=\s*(?P<floor>[^,;\s]+)")


def _release(text: str) -> tuple[int, ...]:
    """1.23.2 -> (1, 23, 2); 15.0 and 15.0.0 compare equal (trailing zeros dropped)."""
    parts = [int(p) for p in re.findall(r"\d+", text.split("+")[0])]
    while parts and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def main() -> int:
    dependencies = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    problems = []
    for requirement in dependencies:
        match = _FLOOR.match(requirement)
        if match is None:
            problems.append(f"{requirement}: no '>=' floor declared")
            continue
        name, floor = match["name"], match["floor"]
        installed = version(name)
        if _release(installed) != _release(floor):
            problems.append(f"{name}: declared floor {floor}, but {installed} is installed (raise the floor?)")
        else:
            print(f"{name} {installed} (floor {floor})")
    for problem in problems:
        print(f"check_floors: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
