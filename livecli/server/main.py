"""`livecli serve`: run the server until Ctrl-C, base URL on stdout, the log on stderr."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import importlib.util
import logging
import os
import shlex
import signal
import sys
from collections.abc import Callable
from typing import TextIO

from livecli.extras import import_extra
from livecli.protocol.redact import printable
from livecli.server.app import start_server
from livecli.server.config import ServerConfig

__all__ = ["LOOPS", "loop_factory", "serve_forever"]


class PlainLogFormatter(logging.Formatter):
    """One line per event for a log that is not a terminal (a file, a pipe, CI): an ISO-8601 local timestamp
    with its UTC offset, the level, the message; no padding and no wrapping, so `grep` and `cut` work.

    A traceback would span many lines: the line carries the exception's type and message, and only -v adds
    the traceback below it.
    """

    def __init__(self, *, tracebacks: bool) -> None:
        super().__init__("%(asctime)s %(levelname)s %(message)s")
        self.tracebacks = tracebacks

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.datetime.fromtimestamp(record.created).astimezone().isoformat(timespec="milliseconds")

    def format(self, record: logging.LogRecord) -> str:
        exc_info, record.exc_info, record.exc_text = record.exc_info, None, None
        try:
            line = printable(super().format(record))
        finally:
            record.exc_info = exc_info
        if exc_info and exc_info[1] is not None:
            line += f": {type(exc_info[1]).__name__}: {printable(str(exc_info[1]))}"
            if self.tracebacks:
                line += "\n" + self.formatException(exc_info)
        return line


def _log_handler(verbosity: int, stream: TextIO) -> logging.Handler:
    """Rich's columns for a person at a terminal; plain lines (PlainLogFormatter) for everything else."""
    handler: logging.Handler
    if stream.isatty():
        from rich.console import Console
        from rich.logging import RichHandler

        console = Console(file=stream, markup=False, highlight=False)
        handler = RichHandler(
            console=console, show_path=False, markup=False, rich_tracebacks=False, log_time_format="%H:%M:%S"
        )
    else:
        handler = logging.StreamHandler(stream)
        handler.setFormatter(PlainLogFormatter(tracebacks=verbosity > 0))
    handler.setLevel(logging.DEBUG if verbosity > 0 else logging.WARNING if verbosity < 0 else logging.INFO)
    return handler


def trust_line(directory: str) -> str:
    """What a client needs to trust a --tls-self-signed certificate: the shell line to paste (SSL_CERT_FILE is
    read by livecli, Python's ssl module and so the google-genai SDK, and OpenSSL-based tools)."""
    cert = os.path.abspath(os.path.join(directory, "cert.pem"))
    return f"clients trust this server with: export SSL_CERT_FILE={shlex.quote(cert)}"


LOOPS = ("auto", "asyncio", "uvloop")


def loop_factory(loop: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The event loop `serve` runs on: uvloop (a faster loop on libuv, the `fast` extra) when installed and
    `loop` is "auto" or "uvloop" (then required), asyncio's own for "asyncio". None means asyncio's default."""
    if loop == "asyncio":
        return None
    if loop == "auto" and importlib.util.find_spec("uvloop") is None:
        return None
    uvloop = import_extra("uvloop", needed_by="serve --loop uvloop")
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def serve_forever(
    config: ServerConfig,
    verbosity: int = 0,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    loop: str = "auto",
) -> int:
    """Serve until Ctrl-C or SIGTERM; print the base URL as the first stdout line. Returns the exit status 0.
    `loop`: see `loop_factory`."""
    factory = loop_factory(loop)
    logger = config.logger
    err = stderr or sys.stderr
    handler = _log_handler(verbosity, err)
    logger.addHandler(handler)
    logger.setLevel(handler.level)
    logger.propagate = False
    out = stdout or sys.stdout

    async def main() -> None:
        running = await start_server(config)
        out.write(running.url + "\n")
        out.flush()
        if config.tls_self_signed_dir:
            err.write(trust_line(config.tls_self_signed_dir) + "\n")
            err.flush()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        # Our own handlers: a SIGINT inherited as ignored (background jobs) must still stop the server.
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(signum, stop.set)
        try:
            await stop.wait()
        finally:
            await running.close()
            logger.info("stopped")

    try:
        with asyncio.Runner(loop_factory=factory) as runner:
            runner.run(main())
    except KeyboardInterrupt:
        pass
    finally:
        logger.removeHandler(handler)
    return 0
