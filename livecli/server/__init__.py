"""livecli's local Live server: wire-faithful to the service (docs/wire.md), with scenarios for fault injection.

`session` holds the per-connection logic (sans I/O), `app` the websockets pump; see `ServerConfig` for knobs.
"""

from __future__ import annotations

from livecli.server.app import RunningServer, ServerThread, start_server
from livecli.server.config import ServerConfig

__all__ = ["RunningServer", "ServerConfig", "ServerThread", "start_server"]
