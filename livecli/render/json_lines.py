"""`--json`: one flushed JSON object per line on stdout, with a stable `type` and `t` (seconds since start).

Audio is described by sizes and durations, never base64. The types and their fields are documented in the
README's `--json` table, which tests/render/test_renderers.py holds to what this module emits, field by field.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, BinaryIO

from livecli.audio.encode import write_to_stdout
from livecli.errors import OutputError, ServerClosed
from livecli.protocol import events
from livecli.protocol.report import FramesSent, InputInfo, Reporter, ToolOutcome, TurnReport
from livecli.protocol.session import Turn
from livecli.protocol.wire import INPUT_BYTES_PER_S

__all__ = ["JsonLinesRenderer"]

PROGRESS_EVERY_S = 1.0  # input_progress at most once per second of audio sent, and at the end

# The `error` event's message for failures that carry no text of their own.
_QUIET_FAILURES = {"KeyboardInterrupt": "interrupted", "CancelledError": "interrupted"}


def _r(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def usage_fields(usage: events.Usage) -> dict[str, Any]:
    """A usage event's counts and the raw usageMetadata."""
    return {
        "prompt_tokens": usage.prompt_tokens,
        "response_tokens": usage.response_tokens,
        "total_tokens": usage.total_tokens,
        "raw": usage.raw,
    }


def terminal_safe_json(record: dict[str, Any]) -> str:
    """One line of JSON, UTF-8 for readable text, with every non-printable character \\u-escaped.

    json.dumps escapes only C0 controls; C1 controls (U+009B is CSI), bidi overrides and lone surrogates from a
    server's `\\ud800` escapes would otherwise reach a terminal raw or fail to encode as UTF-8. The escapes are
    valid JSON and decode back to the same string.
    """
    try:
        line = json.dumps(record, ensure_ascii=False)
    except RecursionError:  # a server value nested deeper than the stack allows (a hostile usageMetadata)
        line = json.dumps(_cut_deep(record, _MAX_DEPTH), ensure_ascii=False)
    if line.isprintable():
        return line
    return "".join(ch if ch.isprintable() else _json_escape(ch) for ch in line)


# How deep a record is kept when it cannot be encoded whole: json.dumps recurses once per level, and a frame the
# parser accepted (it recursed too, from a shallower stack) could otherwise end the reader with RecursionError.
_MAX_DEPTH = 32
_CUT = "…(nested too deeply)"


def _cut_deep(value: Any, depth: int) -> Any:
    """`value` with what lies more than `depth` levels down replaced by a marker (recurses at most `depth`)."""
    if isinstance(value, dict | list | tuple) and depth <= 0:
        return _CUT
    if isinstance(value, dict):
        return {key: _cut_deep(item, depth - 1) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_cut_deep(item, depth - 1) for item in value]
    return value


def _json_escape(ch: str) -> str:
    code = ord(ch)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


class JsonLinesRenderer(Reporter):
    """Machine-readable events on stdout, one object per line."""

    def __init__(self, stdout: BinaryIO, clock: Callable[[], float]) -> None:
        self._out = stdout
        self._clock = clock
        self._t0 = clock()
        self._progress_at: dict[str, int] = {}
        self._broken = False

    def emit(self, type_: str, **fields: Any) -> None:
        """Write one whole event line and flush it (or raise OSError).

        Once stdout has failed (its reader went away, a full device) nothing more is written: the failure is
        the run's, reported once, and the error and summary lines would only fail again.
        """
        if self._broken:
            return
        record = {"type": type_, "t": round(self._clock() - self._t0, 4), **fields}
        try:
            write_to_stdout(self._out, terminal_safe_json(record).encode("utf-8") + b"\n")
        except (OSError, OutputError):
            self._broken = True
            raise

    def connected(self, url: str, backend: str) -> None:
        self.emit("connected", url=url, backend=backend)

    def setup_complete(self, setup_s: float, session_id: str | None) -> None:
        self.emit("setup_complete", setup_s=_r(setup_s), session_id=session_id)

    def _progress(self, info: InputInfo, chunks: int, sent_bytes: int, done: bool) -> None:
        self.emit(
            "input_progress",
            input=info.name,
            index=info.index,
            chunks=chunks,
            bytes=sent_bytes,
            total_bytes=info.total_bytes,
            sent_s=_r(sent_bytes / INPUT_BYTES_PER_S),
            done=done,
        )

    def input_started(self, info: InputInfo) -> None:
        self._progress_at[info.name] = 0  # an input sent again after a reconnect reports its progress again

    def input_progress(self, info: InputInfo, chunks: int, sent_bytes: int) -> None:
        step = int(PROGRESS_EVERY_S * INPUT_BYTES_PER_S)
        if sent_bytes // step > self._progress_at.get(info.name, 0):
            self._progress_at[info.name] = sent_bytes // step
            self._progress(info, chunks, sent_bytes, False)

    def input_ended(self, info: InputInfo, chunks: int, sent_bytes: int) -> None:
        self._progress(info, chunks, sent_bytes, True)

    def frames_sent(self, info: InputInfo, sent: FramesSent) -> None:
        self.emit(
            "frames_sent",
            input=info.name,
            index=info.index,
            source=sent.source,
            frames=sent.frames,
            bytes=sent.nbytes,
            width=sent.width,
            height=sent.height,
            mime=sent.mime,
            total_frames=sent.total_frames,
            total_bytes=sent.total_bytes,
        )

    def server_event(self, event: events.ServerEvent, turn: Turn | None) -> None:
        index = turn.index if turn is not None else None
        if isinstance(event, events.AudioChunk):
            self.emit(
                "reply_audio", turn=index, bytes=len(event.data), rate=event.rate, duration_s=_r(event.duration_s)
            )
        elif isinstance(event, events.InputTranscription | events.OutputTranscription):
            kind = (
                "input_transcription" if isinstance(event, events.InputTranscription) else "output_transcription"
            )
            self.emit(kind, turn=index, text=event.text, finished=event.finished)
        elif isinstance(event, events.TextPart):
            self.emit("text", turn=index, text=event.text, thought=event.thought)
        elif isinstance(event, events.ToolCall):
            calls = [{"id": c.id, "name": c.name, "args": c.args} for c in event.calls]
            self.emit("tool_call", turn=index, calls=calls)
        elif isinstance(event, events.ToolCallCancellation):
            self.emit("tool_call_cancellation", turn=index, ids=list(event.ids))
        elif isinstance(event, events.Usage):
            self.emit("usage", turn=index, **usage_fields(event))
        elif isinstance(event, events.Interrupted):
            self.emit("interrupted", turn=index)
        elif isinstance(event, events.GoAway):
            self.emit("go_away", time_left_s=event.time_left_s)

    def turn_complete(self, report: TurnReport) -> None:
        turn = report.turn
        complete = turn.complete
        self.emit(
            "turn_complete",
            turn=turn.index,
            input=report.input_name,
            end=turn.end,
            reason=complete.reason if complete else None,
            inferred=complete.inferred if complete else False,
            reply_bytes=len(turn.audio),
            rate=turn.audio_rate,
            reply_duration_s=_r(turn.audio_duration_s),
            setup_s=_r(report.setup_s),
            latency_s=_r(turn.reply_latency_s),
            level_dbfs=_r(report.level_dbfs, 1) if report.level_dbfs not in (None, float("-inf")) else None,
            near_silent=report.near_silent,
            input_transcript=turn.input_transcript,
            output_transcript=turn.output_transcript,
            text=turn.text,
            usage=usage_fields(turn.usage) if turn.usage else None,
            **(report.metrics.fields() if report.metrics else {}),
        )

    def reconnecting(self, attempt: int, limit: int, cause: str, delay_s: float, resend: str | None) -> None:
        self.emit("reconnect", attempt=attempt, max_reconnects=limit, cause=cause, delay_s=delay_s, resend=resend)

    def resumed(self, setup_s: float, with_handle: bool) -> None:
        self.emit("resumed", setup_s=_r(setup_s), with_handle=with_handle)

    def tool_finished(self, outcome: ToolOutcome) -> None:
        try:
            response = json.loads(outcome.response_json) if outcome.response_json else None
        except ValueError:  # (redaction cannot break JSON of an API key; text stays text either way)
            response = outcome.response_json
        self.emit(
            "tool_response",
            id=outcome.call_id,
            name=outcome.name,
            duration_s=_r(outcome.duration_s),
            bytes=outcome.response_bytes,
            error=outcome.error,
            cancelled=outcome.cancelled is not None,
            scheduling=outcome.scheduling,
            response=response,
        )

    def reply_written(self, dest: str, nbytes: int, rate: int, partial: bool) -> None:
        self.emit("reply_written", path=dest, bytes=nbytes, rate=rate, partial=partial)

    def warning(self, text: str) -> None:
        self.emit("warning", message=text)

    def error(self, exc: BaseException, status: int) -> None:
        message = str(exc) or _QUIET_FAILURES.get(type(exc).__name__, type(exc).__name__)
        fields: dict[str, Any] = {"message": message, "kind": type(exc).__name__, "exit_status": status}
        if isinstance(exc, ServerClosed):
            fields.update(close_code=exc.code, close_reason=exc.reason, after_setup=exc.after_setup)
        self.emit("error", **fields)

    def summary(
        self, inputs: int, turns: int, reply_bytes: int, status: int, *, reconnects: int = 0, usage_turns: int = 0
    ) -> None:
        extra = {"usage": "per turn, as received (raw usageMetadata of each turn's final message)"}
        self.emit(
            "summary",
            inputs=inputs,
            turns=turns,
            reply_bytes=reply_bytes,
            exit_status=status,
            reconnects=reconnects,
            **(extra if usage_turns else {}),
        )
