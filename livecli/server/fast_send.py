"""One reply frame written without websockets' asynchronous send machinery, when that is safe.

`await connection.send(frame)` enters an async context manager, checks the state, writes, and awaits a drain:
about a fifth of the server's CPU per reply chunk under load (issue 12's profile). When the connection is open,
no fragmented message is being sent and the transport is not paused (its buffer under websockets' write limit),
the frame is written at once, byte for byte as websockets would frame it; otherwise the caller awaits `send`,
whose drain waits for a client that does not read, so buffering stays bounded (docs/wire.md, "Limits of the
local server"). Relies on websockets 17's asyncio Connection (`protocol`, `protocol.writes`, `send_in_progress`,
`paused`); pyproject pins websockets below 18, and tests/server/test_fast_send.py checks it.
"""

from __future__ import annotations

from websockets.asyncio.server import ServerConnection
from websockets.protocol import State

__all__ = ["binary_frame", "send_now"]


def send_now(connection: ServerConnection, frame: bytes) -> bool:
    """Write `frame` as one binary message now and return True, or return False (the caller awaits send)."""
    protocol = connection.protocol
    if (
        protocol.state is not State.OPEN
        or connection.send_in_progress is not None
        or connection.paused
        or protocol.writes  # websockets has bytes of its own to write first
        or connection.transport.is_closing()
    ):
        return False
    connection.transport.write(binary_frame(frame))
    return True


def binary_frame(payload: bytes) -> bytes:
    """`payload` as one binary frame, byte for byte as websockets' send_binary serializes it (FIN, opcode 2, no
    mask from a server, no extension negotiated: RFC 6455 section 5.2), without its Frame object and buffer."""
    size = len(payload)
    if size < 126:
        return bytes((0x82, size)) + payload
    if size < 1 << 16:
        return b"\x82\x7e" + size.to_bytes(2, "big") + payload
    return b"\x82\x7f" + size.to_bytes(8, "big") + payload
