"""`--record FILE.jsonl`: every frame with time, connection, direction and kind; audio summarized, never base64."""

from __future__ import annotations

import json
import threading
import time
from typing import IO, Any

__all__ = ["Recorder", "summarize"]


def _scrub(value: Any) -> Any:
    """Replace every base64 `data` string with its decoded size."""
    if isinstance(value, dict):
        return {
            k: (f"<{len(v) * 3 // 4} bytes>" if k == "data" and isinstance(v, str) else _scrub(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def summarize(frame: str | bytes) -> tuple[str, Any]:
    """(kind, scrubbed message) of one frame; kind is e.g. `realtimeInput.audio` or `serverContent.modelTurn`."""
    try:
        message = json.loads(frame)
    except (ValueError, UnicodeDecodeError):
        return "malformed", None
    if not isinstance(message, dict) or not message:
        return "malformed", None
    top = next(iter(message))
    body = message[top]
    kind = f"{top}.{next(iter(body))}" if isinstance(body, dict) and body else top
    return kind, _scrub(message)


class Recorder:
    """Appends one JSON object per line; safe to share between connections (and threads)."""

    def __init__(self, path: str, clock: Any = time.monotonic) -> None:
        self._file: IO[str] = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed by close()
        self._clock = clock
        self._t0 = clock()
        self._lock = threading.Lock()

    def event(self, conn: int, direction: str, kind: str, **fields: Any) -> None:
        """Record one event (`direction`: in, out or conn)."""
        line = {"t": round(self._clock() - self._t0, 6), "conn": conn, "dir": direction, "kind": kind, **fields}
        with self._lock:
            self._file.write(json.dumps(line, ensure_ascii=False) + "\n")
            self._file.flush()

    def frame(self, conn: int, direction: str, frame: str | bytes) -> None:
        """Record one frame, summarized."""
        kind, message = summarize(frame)
        self.event(conn, direction, kind, bytes=len(frame), binary=isinstance(frame, bytes), message=message)

    def close(self) -> None:
        """Flush and close the file."""
        with self._lock:
            self._file.close()
