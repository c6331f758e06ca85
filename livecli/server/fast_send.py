"""One reply frame written without websockets' asynchronous send machinery, when that is safe.

`await connection.send(frame)` enters an async context manager, checks the state, writes, and awaits a drain:
about a fifth of the server's CPU per reply chunk under load (issue 12's profile). When the connection is open,
no fragmented message is being sent and the transport is not paused (its buffer under websockets' write limit),
the frame is framed and written at once, as websockets itself would; otherwise the caller awaits `send`, whose
drain waits for a client that does not read, so buffering stays bounded (docs/wire.md, "Limits of the local
server"). Relies on websockets 17's asyncio Connection (`protocol`, `send_in_progress`, `paused`, `send_data`);
pyproject pins websockets below 18, and tests/server/test_fast_send.py checks it.
"""

from __future__ import annotations

from websockets.asyncio.server import ServerConnection
from websockets.protocol import State

__all__ = ["send_now"]


def send_now(connection: ServerConnection, frame: bytes) -> bool:
    """Write `frame` as one binary message now and return True, or return False (the caller awaits send)."""
    if (
        connection.protocol.state is not State.OPEN
        or connection.send_in_progress is not None
        or connection.paused
        or connection.transport.is_closing()
    ):
        return False
    connection.protocol.send_binary(frame)
    connection.send_data()
    return True
