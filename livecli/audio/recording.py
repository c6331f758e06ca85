"""A recording directory written as frames arrive, and read back (the format: docs/recording.md,
livecli.protocol.recording).

Here because both sides write it (the client's `--record` through its link, the server's `serve --record`) and
both read it (`livecli replay`, `serve --replay`): client and server are siblings, and a recording is mostly
audio sidecars. The WAV files are written with the standard library's `wave`, whose header is patched after
every write, so a run that dies leaves WAVs that open.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import threading
import time
import wave
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import IO, Any

from livecli import __version__
from livecli.errors import UsageError
from livecli.protocol import recording as fmt
from livecli.protocol.redact import Redactor

__all__ = ["Recording", "RecordingWriter", "read_recording"]


class RecordingWriter:
    """One recording: `frame` and `event` append lines (thread-safe), `update` rewrites recording.json, `close`
    writes the outcome and closes every file. Everything written passes `secrets`' redaction first."""

    def __init__(
        self,
        directory: str,
        side: str,
        meta: dict[str, Any],
        *,
        secrets: Iterable[str] = (),
        clock: Callable[[], float] = time.monotonic,
        what: str = "--record",
    ) -> None:
        _prepare(directory, what)
        self.directory = directory
        self._redactor = Redactor(secrets)
        self._clock = clock
        self._t0 = clock()
        self._lock = threading.Lock()
        self._wavs: dict[str, tuple[wave.Wave_write, list[int]]] = {}
        self._counts: dict[str, int] = {}
        self._closed = False
        created = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        self.meta: dict[str, Any] = {
            "format": fmt.FORMAT,
            "version": fmt.VERSION,
            "side": side,
            "livecli": __version__,
            "created": created,
            **meta,
            "connections": 0,
            "outcome": None,
        }
        self._write_meta()
        # A lone surrogate (a server may send one, JSON-escaped) is written back as its JSON escape, not refused.
        self._frames: IO[str] = open(  # noqa: SIM115 -- closed by close()
            os.path.join(directory, fmt.FRAMES), "w", encoding="utf-8", errors="backslashreplace"
        )

    def now(self) -> float:
        """Seconds since the recording started (its own monotonic clock)."""
        return self._clock() - self._t0

    def frame(self, conn: int, sender: str, frame: str | bytes) -> None:
        """Record one frame `sender` sent on connection `conn`, its payloads moved to the sidecars."""
        with self._lock:
            if self._closed:
                return
            message = fmt.parse_frame(frame)
            if message is not None:
                message = fmt.externalize(message, sender, self._place)
            size = len(frame) if isinstance(frame, bytes) else len(frame.encode("utf-8", "surrogatepass"))
            line = fmt.frame_line(self.now(), conn, sender, message, size, isinstance(frame, bytes))
            if sender == fmt.CLIENT and line["kind"].startswith("setup") and "setup" not in self.meta:
                self.meta["setup"] = message.get("setup") if isinstance(message, dict) else None
                self._write_meta()
            self._append(line)

    def event(self, conn: int, sender: str, kind: str, **fields: Any) -> None:
        """Record a connection event: `open` (by the client), `close` (by whoever closed), `drop`."""
        with self._lock:
            if self._closed:
                return
            if kind == "open":
                self.meta["connections"] = max(self.meta["connections"], conn)
            self._append({"t": round(self.now(), 6), "conn": conn, "from": sender, "kind": kind, **fields})

    def update(self, **fields: Any) -> None:
        """Merge `fields` into recording.json."""
        with self._lock:
            self.meta.update(fields)
            self._write_meta()

    def close(self, outcome: dict[str, Any] | None = None) -> None:
        """Write the outcome (if given) and the connection count, close the files; idempotent, never raises."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if outcome is not None:
                self.meta["outcome"] = outcome
            with contextlib.suppress(OSError):
                self._write_meta()
            with contextlib.suppress(OSError):
                self._frames.close()
            for writer, _ in self._wavs.values():
                with contextlib.suppress(OSError, wave.Error):
                    writer.close()

    def _append(self, line: dict[str, Any]) -> None:
        text = self._redactor.text(json.dumps(line, ensure_ascii=False, separators=(",", ":")))
        self._frames.write(text + "\n")
        self._frames.flush()

    def _place(self, sender: str, mime: str, data: bytes) -> dict[str, Any]:
        sidecar = fmt.sidecar_for(sender, mime, self._counts.get(sender, 0))
        path = os.path.join(self.directory, sidecar.name)
        if sidecar.rate is None:  # an image (or other blob): a file of its own
            self._counts[sender] = self._counts.get(sender, 0) + 1
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as handle:
                handle.write(data)
            return {"sidecar": sidecar.name, "bytes": len(data)}
        if sidecar.name not in self._wavs:
            writer = wave.open(path, "wb")  # noqa: SIM115 -- closed by close()
            writer.setnchannels(1)
            writer.setsampwidth(2)
            writer.setframerate(sidecar.rate)
            self._wavs[sidecar.name] = (writer, [0])
        writer, written = self._wavs[sidecar.name]
        offset = written[0]
        writer.writeframes(data)
        written[0] += len(data)
        return {"sidecar": sidecar.name, "offset": offset, "bytes": len(data)}

    def _write_meta(self) -> None:
        path = os.path.join(self.directory, fmt.META)
        text = self._redactor.text(json.dumps(self.meta, ensure_ascii=False, indent=2))
        with open(path + ".tmp", "w", encoding="utf-8", errors="backslashreplace") as handle:
            handle.write(text + "\n")
        os.replace(path + ".tmp", path)


def _prepare(directory: str, what: str) -> None:
    """Create the directory; one that holds anything but a previous recording is refused (nothing is deleted
    that livecli did not write)."""
    try:
        os.makedirs(directory, exist_ok=True)
        entries = set(os.listdir(directory))
    except OSError as exc:
        raise UsageError(f"{what} {directory}: {exc.strerror or exc}") from None
    if entries and fmt.META not in entries:
        raise UsageError(f"{what} {directory}: the directory is not empty (and holds no livecli recording)")
    for name in entries:  # a previous recording is replaced: its sidecars must not outlive it
        path = os.path.join(directory, name)
        if name == fmt.MEDIA and os.path.isdir(path):
            for item in os.listdir(path):
                os.remove(os.path.join(path, item))
        elif name == fmt.META or name == fmt.FRAMES or name.endswith(".wav"):
            os.remove(path)


@dataclass
class Recording:
    """A recording read back: `meta` (recording.json), `lines` (frames.jsonl), and the payloads on demand."""

    directory: str
    meta: dict[str, Any]
    lines: list[dict[str, Any]]
    _pcm: dict[str, bytes] = field(default_factory=dict)

    def payload(self, ref: dict[str, Any]) -> bytes:
        """The bytes a payload reference points to."""
        name = str(ref["sidecar"])
        path = os.path.join(self.directory, name)
        try:
            if name.endswith(".wav"):
                if name not in self._pcm:
                    with wave.open(path, "rb") as reader:
                        self._pcm[name] = reader.readframes(reader.getnframes())
                offset = int(ref.get("offset", 0))
                return self._pcm[name][offset : offset + int(ref["bytes"])]
            with open(path, "rb") as handle:
                return handle.read()
        except (OSError, wave.Error, EOFError) as exc:
            raise UsageError(f"recording {self.directory}: sidecar {name} cannot be read: {exc}") from None

    def frame_text(self, line: dict[str, Any]) -> str:
        """A frame line's message as it was sent (its payloads back in place), as JSON text."""
        return json.dumps(
            fmt.internalize(line["message"], self.payload), ensure_ascii=False, separators=(",", ":")
        )

    def frames(self, sender: str | None = None) -> list[dict[str, Any]]:
        """The frame lines (connection events left out), of one sender if given."""
        return [
            line for line in self.lines if "message" in line and (sender is None or line.get("from") == sender)
        ]


def read_recording(directory: str) -> Recording:
    """Read a recording directory; anything that is not a recording this livecli reads is one UsageError line."""
    where = f"recording {directory}"
    try:
        with open(os.path.join(directory, fmt.META), encoding="utf-8") as handle:
            meta = json.load(handle)
        with open(os.path.join(directory, fmt.FRAMES), encoding="utf-8") as handle:
            lines = [json.loads(text) for text in handle if text.strip()]
    except FileNotFoundError as exc:
        raise UsageError(f"{where}: no {os.path.basename(exc.filename or '')} (not a livecli recording)") from None
    except OSError as exc:
        raise UsageError(f"{where}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise UsageError(f"{where}: not valid JSON: {exc}") from None
    if not isinstance(meta, dict) or meta.get("format") != fmt.FORMAT:
        raise UsageError(f"{where}: {fmt.META} is not a livecli recording")
    version = meta.get("version")
    if not isinstance(version, int) or version > fmt.VERSION:
        raise UsageError(f"{where}: format version {version!r}; this livecli reads version {fmt.VERSION}")
    if not all(isinstance(line, dict) and isinstance(line.get("conn"), int) for line in lines):
        raise UsageError(f"{where}: {fmt.FRAMES} has a line that is not a frame record")
    return Recording(directory, meta, lines)
