"""`-o -`: the reply audio on stdout as it arrives, so `livecli text hi -o - | play -t wav -` plays live.

A `Reporter` in front of the display: every reply audio chunk the client reports is written to stdout at once
(through `write_to_stdout`, so a short write or a gone reader is never taken for success), after a header the
first chunk decides: a WAV header with unknown lengths (`--format wav`, the default) or nothing (`--format raw`,
s16le mono at the reply's rate, which the display states once on stderr). A stream has one rate: a reply whose
rate changes part way is an error. What is on stdout cannot be taken back: when a reconnect sends an input again
from its start, the cut-off attempt's audio stays in the stream, and a warning says so.

`-o FIFO` or `-o DEVICE` (an existing path that is not a regular file) streams the same way into it: it is opened
for writing when the run starts, before connecting (a FIFO waits for its reader there, as the shell's `>` does),
and closed once the replies are written (`close`), so its reader sees the end.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, BinaryIO

from livecli.commands.forwarding import ForwardingReporter
from livecli.errors import OutputError
from livecli.protocol.events import AudioChunk, ServerEvent
from livecli.protocol.report import InputInfo, Reporter

if TYPE_CHECKING:
    from livecli.env import Env
    from livecli.protocol.turns import Turn

__all__ = ["STREAM_FORMATS", "StdoutAudio"]

STREAM_FORMATS = ("wav", "raw")  # what `-o -` can stream: a file format needing its length at the end cannot


class StdoutAudio(ForwardingReporter):
    """Streams reply audio to stdout and passes every report on to the display (`inner`)."""

    def __init__(self, inner: Reporter, env: Env, kind: str = "wav", path: str | None = None) -> None:
        """`path`: a FIFO or device to stream into instead of stdout (opened now: OutputError if it cannot be)."""
        if kind not in STREAM_FORMATS:
            raise OutputError(f"-o {path or '-'} streams {' or '.join(STREAM_FORMATS)}, not {kind}")
        super().__init__(inner)
        self.env = env
        self.kind = kind
        self.destination = path or "-"  # as the plan names it
        self._target: BinaryIO | None = None
        if path is not None:
            try:
                self._target = open(path, "wb", buffering=0)  # noqa: SIM115 (closed by close())
            except OSError as exc:
                raise OutputError(f"{path}: cannot write: {exc.strerror or exc}") from exc
        self.rate: int | None = None
        self.streamed = 0  # PCM bytes on stdout, header not counted
        self._attempt_bytes = 0  # of them, since the input's latest sending began
        self.broken = False  # a write to stdout failed: what reached it is unknown, so nothing is "written"

    def _stream(self, chunk: AudioChunk) -> None:
        from livecli.audio.encode import streaming_wav_header

        if self.rate is None:
            self.rate = chunk.rate
            self.inner.reply_streaming(self.destination, chunk.rate, self.kind)
            if self.kind == "wav":
                self._write(streaming_wav_header(chunk.rate))
        elif chunk.rate != self.rate:
            raise OutputError(
                f"the reply's rate changed from {self.rate} to {chunk.rate} Hz part way: "
                f"a {self.kind} stream on stdout has one rate (give -o FILE to keep such a reply)"
            )
        if chunk.data:
            self._write(chunk.data)
            self.streamed += len(chunk.data)
            self._attempt_bytes += len(chunk.data)

    def _write(self, data: bytes) -> None:
        from livecli.audio.encode import write_to_stdout
        from livecli.env import write_all

        try:
            if self._target is None:
                write_to_stdout(self.env.stdout, data)
            else:
                write_all(self._target, data)
        except OSError as exc:
            self.broken = True
            if self._target is None:
                raise  # stdout's reader went away: a status of its own
            raise OutputError(f"{self.destination}: cannot write: {exc.strerror or exc}") from exc
        except BaseException:
            self.broken = True
            raise

    def close(self) -> None:
        """Close the FIFO or device streamed into (its reader sees the end); stdout stays open."""
        if self._target is not None:
            target, self._target = self._target, None
            try:
                target.close()
            except OSError as exc:
                self.broken = True
                raise OutputError(f"{self.destination}: cannot write: {exc.strerror or exc}") from exc

    @property
    def streamed_s(self) -> float:
        """Seconds of reply audio on stdout."""
        return self.streamed / (2 * self.rate) if self.rate else 0.0

    # --- the Reporter interface: stream, then tell the display --------------------------------------------

    def server_event(self, event: ServerEvent, turn: Turn | None) -> None:
        if isinstance(event, AudioChunk):
            self._stream(event)
        self.inner.server_event(event, turn)

    def reconnecting(self, attempt: int, limit: int, cause: str, delay_s: float, resend: str | None) -> None:
        self.inner.reconnecting(attempt, limit, cause, delay_s, resend)
        if resend is not None and self._attempt_bytes and self.rate:
            self.inner.warning(
                f"{self._attempt_bytes / (2 * self.rate):.2f} s of reply audio already written to stdout stay "
                f"in the stream: {resend} is sent again and its reply will follow them"
            )

    def input_started(self, info: InputInfo) -> None:
        self._attempt_bytes = 0
        self.inner.input_started(info)
