"""`serve --record DIR`: the server's view of every connection, in the one recording format (docs/recording.md).

The pump (`app`) reports in its own terms (`in` = from the client, `out` = to it, `conn` = the connection's own
events); this maps them to the format's absolute senders, so a recording made here replays like one made by the
client (`livecli replay`, `serve --replay`).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from livecli.audio.recording import RecordingWriter
from livecli.protocol.recording import CLIENT, SERVER

__all__ = ["GuardedRecorder", "Recorder"]

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


class GuardedRecorder:
    """The run's Recorder, which never fails a session (docs/wire.md, "Limits of the local server"): a disk error
    (a full disk) stops the recording with one warning, a frame the format cannot hold (a lone surrogate) is left
    out with one. False when there is no recording or it stopped. One object for the pump and `--replay` both, so a
    stop is seen by both."""

    def __init__(self, recorder: Recorder | None, logger: logging.Logger) -> None:
        self.recorder: Recorder | None = recorder  # None once stopped
        self._log = logger

    def __bool__(self) -> bool:
        return self.recorder is not None

    def write(self, what: str, *args: Any, **fields: Any) -> None:
        """`Recorder.frame` or `Recorder.event` (`what`) with these arguments, unless the recording stopped."""
        recorder = self.recorder
        if recorder is None:
            return
        try:
            getattr(recorder, what)(*args, **fields)
        except OSError as exc:
            self._log.warning("recording stopped: %s: %s", recorder.directory, exc.strerror or exc)
            self.recorder = None
            with contextlib.suppress(Exception):
                recorder.close()
        except Exception as exc:
            self._log.warning("a frame was left out of the recording: %s", exc)

    def close(self) -> None:
        """Write the outcome and close the files (a failure is one warning)."""
        recorder, self.recorder = self.recorder, None
        if recorder is None:
            return
        try:
            recorder.close()
        except OSError as exc:
            self._log.warning("the recording could not be closed: %s", exc.strerror or exc)
