"""`livecli serve`: run the server until Ctrl-C, base URL on stdout, Rich log on stderr."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from typing import TextIO

from livecli.server.app import start_server
from livecli.server.config import ServerConfig

__all__ = ["serve_forever"]


def _log_handler(verbosity: int) -> logging.Handler:
    from rich.console import Console
    from rich.logging import RichHandler

    console = Console(stderr=True, markup=False, highlight=False)
    handler = RichHandler(console=console, show_path=False, markup=False, rich_tracebacks=False)
    handler.setLevel(logging.DEBUG if verbosity > 0 else logging.WARNING if verbosity < 0 else logging.INFO)
    return handler


def serve_forever(config: ServerConfig, verbosity: int = 0, stdout: TextIO | None = None) -> int:
    """Serve until Ctrl-C or SIGTERM; print the base URL as the first stdout line. Returns the exit status 0."""
    logger = config.logger
    handler = _log_handler(verbosity)
    logger.addHandler(handler)
    logger.setLevel(handler.level)
    logger.propagate = False
    out = stdout or sys.stdout

    async def main() -> None:
        running = await start_server(config)
        out.write(running.url + "\n")
        out.flush()
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
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
    finally:
        logger.removeHandler(handler)
    return 0
