"""`run_cli`: the CLI in-process (Typer's runner) or as a subprocess, with exit code, stdout, stderr apart;
`local_server`: the one way a test starts a local Live server of its own."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import os
import shlex
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

import pytest
from typer.testing import CliRunner
from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Request, Response

from livecli.protocol.endpoints import GEMINI_DEFAULT_VERSION, gemini_path
from livecli.server import ServerConfig, ServerThread

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples"

# `make test-min` runs the suite with the runtime dependencies at their declared floors and without the dev-only
# packages. Read once at import: the clean_environ fixture removes LIVECLI_* variables while a test runs.
TEST_MIN = os.environ.get("LIVECLI_TEST_MIN") == "1"

T = TypeVar("T")


def dev_only(name: str) -> ModuleType:
    """Import a dev-only package (google-genai, and pydantic through it) or an optional extra (Pillow, PyAV, mcp).

    Under `make test-min` a missing one skips the test (or the whole module, when called at import time); in
    every other run it raises ImportError, so `make test` never skips these tests silently.
    """
    if TEST_MIN:
        return pytest.importorskip(name)
    return importlib.import_module(name)


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """For property tests (hypothesis cannot drive an `async def` test): runs the coroutine in a fresh event loop,
    in debug mode like every loop of the suite (tests/conftest.py's loop policy makes it so)."""
    return asyncio.run(coroutine)


MCP_DEMO = REPO / "tests" / "tools" / "mcp_demo_server.py"  # a small MCP server written with the mcp SDK


def mcp_demo_command(*options: str) -> str:
    """`--mcp`'s value that starts the demo MCP server over stdio with `options`."""
    return shlex.join([sys.executable, str(MCP_DEMO), *options])


@contextlib.contextmanager
def mcp_http_demo() -> Iterator[str]:
    """The demo MCP server over streamable HTTP on 127.0.0.1 (a port the system picks): its /mcp URL."""
    process = subprocess.Popen([sys.executable, str(MCP_DEMO), "--http"], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline().split()[1])
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()


def recorded_frames(directory: Path) -> list[dict[str, Any]]:
    """The lines of a recording's frames.jsonl (docs/recording.md), parsed; none if there is no file yet.

    A server that is still running may be writing its next line while a test reads: a last line without its
    newline is not complete yet, so it is left out rather than parsed half-written.
    """
    frames = directory / "frames.jsonl"
    if not frames.exists():
        return []
    text = frames.read_text(encoding="utf-8")
    complete = text if text.endswith("\n") else text[: text.rfind("\n") + 1]
    return [json.loads(line) for line in complete.splitlines()]


@dataclass
class Result:
    """What one livecli run produced."""

    exit_code: int
    stdout_bytes: bytes
    stderr: str

    @property
    def stdout(self) -> str:
        """stdout decoded as UTF-8."""
        return self.stdout_bytes.decode("utf-8", "replace")

    @property
    def json_lines(self) -> list[dict[str, Any]]:
        """stdout parsed as JSON lines (every line must parse)."""
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        """The JSON events of one type."""
        return [event for event in self.json_lines if event["type"] == kind]


def _check(result: Result, expect: int | None, args: tuple[str, ...]) -> Result:
    if expect is not None and result.exit_code != expect:
        raise AssertionError(
            f"livecli {' '.join(args)} exited {result.exit_code}, expected {expect}\n"
            f"--- stderr ---\n{result.stderr}\n--- stdout ---\n{result.stdout[:2000]}"
        )
    return result


def run_cli(
    *args: str, input: bytes = b"", env: Mapping[str, str] | None = None, expect: int | None = 0
) -> Result:
    """Run livecli in-process; raises unless it exits with `expect` (None: any status)."""
    from livecli.cli.app import app

    runner = CliRunner()
    out = runner.invoke(app, list(args), input=input, env=dict(env or {}), catch_exceptions=False)
    return _check(Result(out.exit_code, out.stdout_bytes, out.stderr), expect, args)


def cli_command(*args: str) -> list[str]:
    """The argv that runs livecli from this checkout as a subprocess."""
    return [sys.executable, "-m", "livecli", *args]


def subprocess_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The test process's (already cleaned) environment plus `extra`."""
    env = dict(os.environ)
    env.update(extra or {})
    return env


def serve_subprocess(*args: str, env: Mapping[str, str] | None = None) -> subprocess.Popen[str]:
    """`livecli serve ARGS` as a separate process, stdout and stderr piped as text: its first stdout line is the
    URL (for tests of the command itself: signals, workers, its log; others use `local_server`)."""
    return subprocess.Popen(
        cli_command("serve", *args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(env),
    )


def run_cli_subprocess(
    *args: str,
    input: bytes = b"",
    env: Mapping[str, str] | None = None,
    expect: int | None = 0,
    timeout: float = 30,
) -> Result:
    """Run livecli as a separate process (for pipes and exit codes as the shell sees them)."""
    proc = subprocess.run(
        cli_command(*args), input=input, capture_output=True, env=subprocess_env(env), timeout=timeout, cwd=REPO
    )
    return _check(Result(proc.returncode, proc.stdout, proc.stderr.decode("utf-8", "replace")), expect, args)


@contextlib.contextmanager
def ws_server_thread(handler: Callable[[Any], None], **options: Any) -> Iterator[str]:
    """A plain websockets server (sync API) on 127.0.0.1:0 that runs `handler(connection)` for each connection in
    a thread; yields its ws:// URL. For behaviour livecli's own server will not show (use local_server for that);
    `options` go to websockets' serve (max_queue, close_timeout, ...)."""
    from websockets.sync.server import serve

    server = serve(handler, "127.0.0.1", 0, **options)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"ws://127.0.0.1:{server.socket.getsockname()[1]}"
    finally:
        server.shutdown()
        thread.join(5)


class RawFrameServer:
    """A real WebSocket server on 127.0.0.1:0 that answers setup, then sends fixed frames once the input ends.

    For what livecli's own server will not send (lone surrogates, hostile text); use as a context manager
    (`url` is set once it runs).
    """

    END_MARKERS = ("activityEnd", "audioStreamEnd", '"text"', "turnComplete")

    def __init__(self, frames: list[bytes]) -> None:
        self.frames = frames
        self.received_setup: str | bytes | None = None  # the first frame of the latest connection, verbatim
        self.url = ""
        self._running = contextlib.ExitStack()

    def _handle(self, ws: Any) -> None:
        self.received_setup = ws.recv()
        ws.send(b'{"setupComplete": {}}')
        while True:
            message = str(ws.recv())
            if any(marker in message for marker in self.END_MARKERS):
                break
        for frame in self.frames:
            ws.send(frame)
        with contextlib.suppress(Exception):
            while True:
                ws.recv()

    def __enter__(self) -> RawFrameServer:
        self.url = self._running.enter_context(ws_server_thread(self._handle))
        return self

    def __exit__(self, *exc: object) -> None:
        self._running.close()


@dataclass(frozen=True)
class LocalServer:
    """A running local server: `url` is its base URL; `endpoint(scenario)` picks a scenario per connection."""

    url: str
    thread: ServerThread

    @property
    def port(self) -> int:
        return self.thread.port

    def endpoint(self, scenario: str | None = None) -> str:
        """A URL for --endpoint (the backend's path is appended by the client), with ?scenario= if given."""
        path = gemini_path(GEMINI_DEFAULT_VERSION)
        return self.url + path + (f"?scenario={scenario}" if scenario else "")


@contextlib.contextmanager
def local_server(**overrides: Any) -> Iterator[LocalServer]:
    """A local server of the test's own on 127.0.0.1, port 0, unpaced replies; `overrides` are ServerConfig
    fields (scenario, record, tls_self_signed_dir, limits, ...). Tests that need no special server use the
    session's `live_server` fixture instead, which is this with no overrides."""
    config = ServerConfig(**{"host": "127.0.0.1", "port": 0, "reply_speed": 0, **overrides})
    with ServerThread(config) as thread:
        yield LocalServer(thread.url, thread)


@contextlib.asynccontextmanager
async def ws_server(
    handler: Callable[[ServerConnection], Awaitable[None]], *, redirect: tuple[str, str] | None = None, **kw: Any
) -> AsyncIterator[tuple[str, list[Request]]]:
    """A plain websockets server (asyncio API) on 127.0.0.1:0 in the test's event loop, running `handler` per
    connection; yields its URL and the upgrade requests it accepted. For behaviour livecli's own server will not
    show (use local_server for that).

    `redirect=(path, location)` answers an upgrade of `path` with 302 to `location` instead ("*": every path).
    """
    requests: list[Request] = []

    def process_request(connection: ServerConnection, request: Request) -> Response | None:
        if redirect is not None and redirect[0] in ("*", request.path):
            response = connection.respond(302, "moved\n")
            response.headers["Location"] = redirect[1]
            return response
        requests.append(request)
        return None

    async with serve(handler, "127.0.0.1", 0, process_request=process_request, **kw) as server:
        port = server.sockets[0].getsockname()[1]
        scheme = "wss" if kw.get("ssl") else "ws"
        yield f"{scheme}://127.0.0.1:{port}/path", requests
