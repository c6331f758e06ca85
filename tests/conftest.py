"""Shared fixtures: a clean environment for every test, and one local Live server per test session.

The suite is strict (pyproject.toml's `filterwarnings = ["error", ...]`): a warning fails the test that caused it.
Two things make that hold for asyncio and for leaked sockets, whose warnings would otherwise go unseen:
- every event loop the tests create (asyncio.run, the server thread's loop) runs in debug mode: a call from the
  wrong thread raises, and never-awaited coroutines and unclosed transports are reported with where they were made;
- a garbage collection after each test, so a socket or transport left open (ResourceWarning, raised from a
  finaliser) fails the test that leaked it rather than some later one.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_google import FakeGoogle, fake_google, isolate_credentials
from helpers import LocalServer, local_server

# A blocking callback is reported by debug mode after this long. Tests must not depend on the machine's speed,
# so only a stall this long (a real bug, not a busy CI core) is logged.
_SLOW_CALLBACK_S = 10.0


class _DebugLoopPolicy(asyncio.DefaultEventLoopPolicy):
    """New event loops start in asyncio debug mode; unlike PYTHONASYNCIODEBUG=1, subprocesses of the tests
    (the CLI run as the shell runs it) are not affected, so their stderr stays what a user sees.

    Event loop policies are deprecated from Python 3.14 (removed in 3.16); this project targets 3.11.
    """

    def new_event_loop(self) -> asyncio.AbstractEventLoop:
        loop = super().new_event_loop()
        loop.set_debug(True)
        loop.slow_callback_duration = _SLOW_CALLBACK_S
        return loop


asyncio.set_event_loop_policy(_DebugLoopPolicy())


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """`async def test_*` runs in a fresh event loop (asyncio.run, so in debug mode, see above): the one way to
    write an async test, with no plugin to depend on."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    arguments = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    asyncio.run(pyfuncitem.obj(**arguments))
    return True


def pytest_collection_finish(session: pytest.Session) -> None:
    """Freeze what import and collection made (modules, numpy, pydantic models): the collection after each test
    (collect_garbage) then walks only what has been allocated since."""
    gc.collect()
    gc.freeze()


@pytest.fixture(autouse=True)
def collect_garbage() -> Iterator[None]:
    """Collect garbage once the test's fixtures are torn down (autouse: set up first, so finalised last): a
    socket left open in a reference cycle warns (ResourceWarning) now, and pytest's unraisable-exception check,
    which runs after fixture teardown, fails this test with it.

    What survives is alive (session fixtures, caches, lazily imported modules) and is frozen, so each collection
    costs ~0.1 ms instead of ~20 ms; pytest_sessionfinish unfreezes it for pytest's final collection.
    """
    yield
    gc.collect()
    gc.freeze()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Let pytest's last collection (and unraisable-exception check) see everything again."""
    gc.unfreeze()


# Variables that would change what livecli connects to or with which credentials.
_CLEARED_PREFIXES = ("LIVECLI_", "GOOGLE_", "GEMINI_")
_CLEARED_NAMES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "WSS_PROXY", "WS_PROXY")


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No LIVECLI_*/GOOGLE_*/GEMINI_* variable or proxy from the developer's shell leaks into a test."""
    for name in list(os.environ):
        if name.startswith(_CLEARED_PREFIXES) or name.upper() in _CLEARED_NAMES:
            monkeypatch.delenv(name, raising=False)


@pytest.fixture
def isolated_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No credential variable, no gcloud config and no metadata-server probe: never the user's credentials."""
    isolate_credentials(monkeypatch, tmp_path)


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGoogle]:
    """A local HTTPS stand-in for Google's token and auth_tokens endpoints, trusted by google-auth
    (REQUESTS_CA_BUNDLE) and by urllib/websockets (SSL_CERT_FILE)."""
    with fake_google(tmp_path) as running:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(running.ca_file))
        monkeypatch.setenv("SSL_CERT_FILE", str(running.ca_file))
        yield running


@pytest.fixture(scope="session")
def live_server() -> Iterator[LocalServer]:
    """One local server on 127.0.0.1, port 0, unpaced replies, for the whole test session."""
    with local_server() as server:
        yield server
