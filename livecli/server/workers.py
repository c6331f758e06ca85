"""`livecli serve --workers N`: N server processes on one port, sharing what a session may meet on any of them.

The parent reserves the port: it binds a socket with SO_REUSEPORT and never listens on it (so the kernel hands
it no connection), which also makes `--port 0` pick one port for all. Each worker, a spawned process running
`serve_forever`, binds and listens on that port with SO_REUSEPORT, and the kernel spreads connections over the
workers' sockets. Resumption handles, ephemeral tokens and (tests) received audio live in one SQLite file in a
directory the parent makes and removes (livecli.server.store). The parent prints the URL once every worker
listens, then waits: Ctrl-C or SIGTERM stops every worker; a worker that dies stops the rest (docs/wire.md,
"Workers").
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import multiprocessing
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any, TextIO

from livecli.errors import ConnectError, LivecliError, UsageError
from livecli.server.config import ServerConfig
from livecli.server.scenarios import load_scenario
from livecli.server.store import SharedDatabase, SharedReceivedAudio, create_database
from livecli.server.tls import server_ssl_context, write_self_signed

__all__ = ["MAX_WORKERS", "WorkerPool", "serve_workers"]

MAX_WORKERS = 64
_READY_TIMEOUT_S = 60.0


class _PipeLines:
    """A worker's stdout as `serve_forever` sees it: its first line (the URL) goes to the parent, once."""

    def __init__(self, pipe: Connection) -> None:
        self.pipe = pipe
        self.sent = False

    def write(self, text: str) -> int:
        if not self.sent and text.strip():
            self.sent = True
            self.pipe.send(("ready", text.strip()))
        return len(text)

    def flush(self) -> None:
        """Nothing is buffered."""


class _NameWorker(logging.Filter):
    """Each worker's log lines start with its number: connection numbers are per worker."""

    def __init__(self, number: int | None) -> None:
        super().__init__()
        self.prefix = f"worker {number}: "

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.prefix + str(record.msg)
        return True


def _stop_with_parent(lifeline: Connection) -> None:
    """A worker outlives no parent: when the parent's end of `lifeline` closes (it exited, even killed), the
    worker sends itself SIGTERM and stops as if the parent had asked."""

    def watch() -> None:
        with contextlib.suppress(EOFError, OSError):
            while True:
                lifeline.recv()
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="livecli-worker-lifeline", daemon=True).start()


def _worker_main(config: ServerConfig, verbosity: int, loop: str, pipe: Connection, lifeline: Connection) -> None:
    """One worker: serve until SIGTERM or Ctrl-C; why it could not start goes to the parent."""
    from livecli.server.main import serve_forever

    _stop_with_parent(lifeline)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # until serve_forever's own handler: stop, not a traceback
    config.logger.addFilter(_NameWorker(config.worker))
    try:
        serve_forever(config, verbosity, stdout=_PipeLines(pipe), loop=loop)  # type: ignore[arg-type]
    except LivecliError as exc:
        pipe.send(("error", f"{type(exc).__name__}:{exc}"))
    except BaseException as exc:
        pipe.send(("error", f"ConnectError:worker {config.worker}: {type(exc).__name__}: {exc}"))
        raise


def _reserve_port(host: str, port: int) -> socket.socket:
    """A socket bound to (host, port) with SO_REUSEPORT, not listening: the port is the workers' and no one
    else's (SO_REUSEPORT binds only beside sockets of the same user that set it too)."""
    try:
        family, kind, proto, _name, address = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise ConnectError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise ConnectError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    return sock


class WorkerPool:
    """`workers` server processes on one port: `with WorkerPool(cfg, 2) as pool: ... pool.url`."""

    def __init__(self, config: ServerConfig, workers: int, verbosity: int = 0, loop: str = "auto") -> None:
        if not 1 <= workers <= MAX_WORKERS:
            raise UsageError(f"--workers must be between 1 and {MAX_WORKERS}")
        for option, value in (("--record", config.record), ("--replay", config.replay)):
            if value is not None:
                raise UsageError(f"{option} works with one server process: drop --workers")
        if config.ssl_context is not None:
            raise UsageError("workers load TLS from files: give tls_cert/tls_key, not an ssl_context")
        self.config = config
        self.workers = workers
        self.verbosity = verbosity
        self.loop = loop
        self.url = ""
        self.port = 0
        self.directory = ""
        self._reserved: socket.socket | None = None
        self._processes: list[Any] = []
        self._lifelines: list[Connection] = []
        self._database: SharedDatabase | None = None

    def start(self) -> WorkerPool:
        """Check what can be checked once, reserve the port, start every worker and wait until each listens."""
        config = self.config
        load_scenario(config.scenario)  # a bad scenario is one usage error here, not N
        tls: dict[str, Any] = {}
        if config.tls_self_signed_dir:  # one certificate for every worker
            try:
                cert, key = write_self_signed(config.tls_self_signed_dir)
            except OSError as exc:
                raise UsageError(
                    f"--tls-self-signed {config.tls_self_signed_dir}: {exc.strerror or exc}"
                ) from None
            tls = {"tls_cert": str(cert), "tls_key": str(key), "tls_self_signed_dir": None}
        server_ssl_context(dataclasses.replace(config, **tls))  # a bad certificate: one usage error
        self._reserved = _reserve_port(config.host, config.port)
        self.port = int(self._reserved.getsockname()[1])
        self.directory = tempfile.mkdtemp(prefix="livecli-serve-")  # mode 0700: only this user reads the store
        path = os.path.join(self.directory, "shared.sqlite3")
        create_database(path)
        self._database = SharedDatabase(path)
        context = multiprocessing.get_context("spawn")  # a fresh interpreter: no inherited loop, threads or locks
        pipes = []
        try:
            for number in range(1, self.workers + 1):
                worker_config = dataclasses.replace(
                    config, port=self.port, shared_store=path, worker=number, **tls
                )
                receive, send = context.Pipe(duplex=False)
                lifeline, held = context.Pipe(duplex=False)
                process = context.Process(
                    target=_worker_main,
                    args=(worker_config, self.verbosity, self.loop, send, lifeline),
                    name=f"livecli-serve-worker-{number}",
                )
                process.start()
                send.close()
                lifeline.close()
                self._lifelines.append(held)  # closed when this process ends, however it ends
                self._processes.append(process)
                pipes.append(receive)
            for receive in pipes:
                self.url = self._await_ready(receive) or self.url
        except BaseException:
            self.stop()
            raise
        finally:
            for receive in pipes:
                receive.close()
        return self

    def _await_ready(self, pipe: Connection) -> str:
        if not pipe.poll(_READY_TIMEOUT_S):
            raise ConnectError(f"a worker did not start listening within {_READY_TIMEOUT_S:.0f} s")
        try:
            kind, text = pipe.recv()
        except EOFError:
            raise ConnectError("a worker exited before it listened") from None
        if kind == "ready":
            return str(text)
        name, _, message = str(text).partition(":")
        raise (UsageError if name in ("UsageError", "MissingExtra") else ConnectError)(message)

    def received_audio(self) -> dict[str, bytes]:
        """Session id → the audio it received, over every worker (with `keep_received_audio`)."""
        assert self._database is not None
        return SharedReceivedAudio(self._database).sessions()

    def wait(self, stop: threading.Event) -> int | None:
        """Until `stop` is set (→ None) or a worker exits (→ its exit code)."""
        while not stop.wait(0.2):
            for process in self._processes:
                if not process.is_alive():
                    # A Ctrl-C at a terminal reaches every process: a worker that stopped for it is no death.
                    return None if stop.wait(1.0) else int(process.exitcode or 0)
        return None

    def stop(self) -> None:
        """Stop every worker (SIGTERM, then SIGKILL after 10 s) and remove the shared store."""
        for process in self._processes:
            if process.is_alive():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGTERM)
        for process in self._processes:
            process.join(10)
            if process.is_alive():
                process.kill()
                process.join(5)
        self._processes.clear()
        for held in self._lifelines:
            held.close()
        self._lifelines.clear()
        if self._database is not None:
            self._database.close()
            self._database = None
        if self._reserved is not None:
            self._reserved.close()
            self._reserved = None
        if self.directory:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = ""

    def __enter__(self) -> WorkerPool:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def serve_workers(
    config: ServerConfig,
    workers: int,
    verbosity: int = 0,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    loop: str = "auto",
) -> int:
    """`livecli serve --workers N`: the URL on stdout once every worker listens, until Ctrl-C or SIGTERM.
    Returns 0, or 1 when a worker died (the others are stopped)."""
    from livecli.server.main import trust_line

    out, err = stdout or sys.stdout, stderr or sys.stderr
    stop = threading.Event()
    previous = {signum: signal.signal(signum, lambda *_: stop.set()) for signum in (signal.SIGINT, signal.SIGTERM)}
    pool = WorkerPool(config, workers, verbosity, loop)
    try:
        pool.start()
        out.write(pool.url + "\n")
        out.flush()
        if config.tls_self_signed_dir:
            err.write(trust_line(config.tls_self_signed_dir) + "\n")
            err.flush()
        died = pool.wait(stop)
        if died is not None:
            err.write(f"a worker exited with status {died}: stopping the others\n")
            err.flush()
            return 1
        return 0
    finally:
        pool.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
