"""livecli's local Live server: wire-faithful to the service (docs/wire.md), with scenarios for fault injection.

`session` holds the per-connection logic (sans I/O), `app` the websockets pump; see `ServerConfig` for knobs.
The names below load on first use: a client that only needs `server.schema` (the setup's field names) does not
import the pump (a quarter of a second of `livecli send`'s start-up).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from livecli.server.app import RunningServer, ServerThread, start_server
    from livecli.server.config import ServerConfig

__all__ = ["RunningServer", "ServerConfig", "ServerThread", "start_server"]


def __getattr__(name: str) -> Any:
    if name == "ServerConfig":
        from livecli.server.config import ServerConfig

        return ServerConfig
    if name in ("RunningServer", "ServerThread", "start_server"):
        from livecli.server import app

        return getattr(app, name)
    raise AttributeError(f"module 'livecli.server' has no attribute {name!r}")
