"""`--local`: the command starts the in-process Live server and hands the input loop a way to reach it.

The loop receives a `Reach` like any other target, so neither it nor livecli.client knows a server exists.
The server's own warnings become the client's warning lines, not bare log lines.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from livecli.auth.target import resolve_target
from livecli.commands.input_loop import Reach
from livecli.commands.request import RunRequest
from livecli.protocol.endpoints import Target
from livecli.protocol.report import Reporter

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from livecli.env import Env

__all__ = ["reach_local_server"]


def reach_local_server(req: RunRequest, env: Env, renderer: Reporter) -> Reach:
    """Start a server on 127.0.0.1 (a free port) on entering, stop it on leaving; yields its target."""

    @asynccontextmanager
    async def reach() -> AsyncIterator[Target]:
        from livecli.server import ServerConfig, start_server

        # The in-process server paces its replies like the client paces its input (--speed 0: neither).
        config = ServerConfig(host="127.0.0.1", port=0, reply_speed=req.speed, logger=_local_logger(renderer))
        server = await start_server(config)
        try:
            yield resolve_target(req.connect, env.environ, local_url=server.url)
        finally:
            await server.close()

    return reach


class _ToRenderer(logging.Handler):
    """The in-process server's warnings, shown as the client's own warning lines (not bare log lines)."""

    def __init__(self, renderer: Reporter) -> None:
        super().__init__(logging.WARNING)
        self.renderer = renderer

    def emit(self, record: logging.LogRecord) -> None:
        self.renderer.warning(f"local server: {record.getMessage()}")


def _local_logger(renderer: Reporter) -> logging.Logger:
    logger = logging.getLogger("livecli.local")
    logger.handlers = [_ToRenderer(renderer)]
    logger.setLevel(logging.WARNING)
    logger.propagate = False
    return logger
