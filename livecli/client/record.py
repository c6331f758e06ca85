"""`--record DIR` on the client: every frame of every connection of one run, in the recording format
(docs/recording.md).

`ClientRecorder` is a `LinkTap` (client/transport): each link the Conversation opens (the first, and every
reconnect) reports to it, so one recording holds the whole run, its connections numbered from 1. Received
frames come redacted by the link; the writer redacts the target's secrets from everything once more. A failure
to write (a full disk) stops the recording, never the run: `failure` says why, and `finish` reports it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from livecli.audio.recording import RecordingWriter
from livecli.client.transport import Closed
from livecli.protocol.endpoints import Target
from livecli.protocol.recording import CLIENT, SERVER, public_target
from livecli.protocol.redact import redact

__all__ = ["ClientRecorder"]


class ClientRecorder:
    """The recording of one client run: a LinkTap, then `finish(exit_status, error)`."""

    def __init__(self, writer: RecordingWriter, secrets: tuple[str, ...]) -> None:
        self.writer = writer
        self.secrets = secrets
        self.conn = 0
        self.failure: OSError | None = None

    @classmethod
    def start(
        cls,
        directory: str,
        *,
        target: Target,
        command: str,
        case: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> ClientRecorder:
        """Create (or replace) the recording in `directory`; a directory holding anything else is a UsageError."""
        meta: dict[str, Any] = {
            "command": command,
            "target": public_target(target.url, target.headers, target.model, target.backend, target.secrets),
        }
        if case is not None:
            meta["case"] = case
        writer = RecordingWriter(directory, CLIENT, meta, secrets=target.secrets, clock=clock)
        return cls(writer, target.secrets)

    def connected(self, url: str) -> None:
        self.conn += 1
        self._guard(self.writer.event, self.conn, CLIENT, "open", url=url)

    def sent(self, frames: list[str]) -> None:
        for frame in frames:
            self._guard(self.writer.frame, self.conn, CLIENT, frame)

    def received(self, frame: str | bytes) -> None:
        self._guard(self.writer.frame, self.conn, SERVER, frame)

    def ended(self, closed: Closed) -> None:
        """How a connection ended: a close livecli sent, one the server sent, or a drop (1006, no frame)."""
        sender = CLIENT if closed.by_us or closed.refused else SERVER
        kind = "drop" if closed.code == 1006 and not closed.by_us else "close"
        self._guard(self.writer.event, self.conn, sender, kind, code=closed.code, reason=closed.reason)

    def finish(self, exit_status: int, error: BaseException | None) -> None:
        """Write the outcome (the exit status, the error's class and message, secrets removed) and close the
        files; never raises, and only the first call counts."""
        outcome: dict[str, Any] = {"exit_status": exit_status, "error": None, "error_type": None}
        if error is not None:
            outcome["error"] = redact(str(error) or type(error).__name__, self.secrets)
            outcome["error_type"] = type(error).__name__
        self._guard(self.writer.close, outcome)

    def _guard(self, write: Callable[..., None], *args: Any, **fields: Any) -> None:
        if self.failure is not None:
            return
        try:
            write(*args, **fields)
        except OSError as exc:
            self.failure = exc
            self.writer.close()
