"""`serve --record DIR`: the server's view of every connection, in the one recording format (docs/recording.md).

The pump (`app`) reports in its own terms (`in` = from the client, `out` = to it, `conn` = the connection's own
events); this maps them to the format's absolute senders, so a recording made here replays like one made by the
client (`livecli replay`, `serve --replay`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from livecli.audio.recording import RecordingWriter
from livecli.protocol.recording import CLIENT, SERVER

__all__ = ["Recorder"]

_SENDER = {"in": CLIENT, "out": SERVER, "conn": SERVER}


class Recorder:
    """Records every connection of one server run into `directory`; safe to share between connections."""

    def __init__(
        self, directory: str, clock: Callable[[], float] = time.monotonic, *, secrets: Iterable[str] = ()
    ) -> None:
        self.directory = directory
        self._writer = RecordingWriter(
            directory, SERVER, {"command": "serve"}, secrets=secrets, clock=clock, what="serve --record"
        )

    def event(self, conn: int, direction: str, kind: str, **fields: Any) -> None:
        """A connection event: `open` (the client's upgrade; `path`), `close` and `drop` (sent by the server),
        `closed` (the connection is over, with the code the server saw)."""
        sender = CLIENT if kind == "open" else _SENDER.get(direction, SERVER)
        self._writer.event(conn, sender, kind, **fields)

    def frame(self, conn: int, direction: str, frame: str | bytes) -> None:
        """One frame received (`in`) or sent (`out`) on connection `conn`."""
        self._writer.frame(conn, _SENDER[direction], frame)

    def close(self) -> None:
        """Write the outcome and close the files."""
        self._writer.close({"exit_status": 0, "error": None, "error_type": None})
