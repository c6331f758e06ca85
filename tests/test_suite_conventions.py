"""The suite keeps one way to write each kind of test: a test that goes around it fails here, naming its file."""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _files_using(pattern: str, *allowed: str) -> list[str]:
    """Test files (relative to tests/) whose text matches `pattern`, except `allowed` and this file."""
    skip = {*allowed, Path(__file__).name}
    return sorted(
        str(path.relative_to(TESTS))
        for path in TESTS.rglob("*.py")
        if path.name not in skip and re.search(pattern, path.read_text(encoding="utf-8"))
    )


def test_async_tests_are_async_def_functions() -> None:
    """`async def test_*` is run by tests/conftest.py in a fresh debug-mode event loop; no test wraps its body
    in asyncio.run itself. helpers.py may: its `run_async` is the one way for a property test (hypothesis cannot
    drive an `async def` test) to run a coroutine, in a loop made the same way."""
    assert _files_using(r"\basyncio\.run\(", "conftest.py", "helpers.py") == []


def test_local_servers_start_through_local_server() -> None:
    """A test that needs livecli's server uses the session's `live_server` or `helpers.local_server(...)`, so
    every such server is configured and shut down the same way."""
    assert _files_using(r"\bServerThread\(", "helpers.py") == []


def test_no_test_imports_from_conftest() -> None:
    """Shared code lives in tests/helpers.py (or a package's own helper module): `conftest` is a module name
    pytest may import from another directory first, so `from conftest import ...` breaks when files from two
    directories run together."""
    assert _files_using(r"(?m)^\s*(from conftest import|import conftest\b)") == []


def test_helpers_is_imported_under_one_name() -> None:
    """`from helpers import` everywhere: `tests.helpers` would load the same file a second time as another module
    (two TEST_MIN flags, two LocalServer classes)."""
    assert _files_using(r"(?m)^\s*from tests\.helpers import") == []
