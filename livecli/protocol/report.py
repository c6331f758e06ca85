"""What a run reports: the records and the Reporter interface shared by client, use cases and renderers.

The sans-I/O vocabulary of "what happened" (docs/architecture.md): the client measures, the renderers show, and
neither imports the other. Everything here is standard library.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from livecli.protocol.events import ServerEvent
    from livecli.protocol.session import Turn

__all__ = ["NEAR_SILENT_DBFS", "FramesSent", "InputInfo", "Reporter", "ToolOutcome", "TurnMetrics", "TurnReport"]

# A reply quieter than this (RMS) is flagged, and a sample at or above it counts as audible (TTFA): replies of
# near-zero amplitude pass every counter as healthy (docs/wire.md, "Audio").
NEAR_SILENT_DBFS = -50.0


@dataclass(frozen=True, slots=True)
class TurnMetrics:
    """The milestones of one turn, in seconds after the end of input (None: did not happen)."""

    first_input_transcription_s: float | None
    ttfb_s: float | None
    ttfa_s: float | None
    generation_complete_s: float | None
    turn_complete_s: float | None
    realtime_factor: float | None

    def fields(self) -> dict[str, float | None]:
        """The measurements for JSON (rounded to the millisecond)."""
        return {
            "first_input_transcription_s": _round(self.first_input_transcription_s),
            "ttfb_s": _round(self.ttfb_s),
            "ttfa_s": _round(self.ttfa_s),
            "generation_complete_s": _round(self.generation_complete_s),
            "turn_complete_s": _round(self.turn_complete_s),
            "realtime_factor": _round(self.realtime_factor, 2),
        }


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


@dataclass(frozen=True)
class InputInfo:
    """One input being sent: its display name, position and size."""

    name: str
    index: int  # 1-based
    count: int
    duration_s: float
    total_bytes: int
    kind: str = "audio"  # audio | text


@dataclass(frozen=True)
class FramesSent:
    """Image frames (`realtimeInput.video` or inlineData parts) sent with an input: one report per image, or per
    batch of a video's frames."""

    source: str  # the file they come from
    frames: int  # frames in this report
    nbytes: int  # their bytes as sent (before base64)
    width: int  # of the last frame
    height: int
    mime: str  # image/jpeg or image/png
    total_frames: int  # sent with this input so far, this report included
    total_bytes: int


@dataclass(frozen=True)
class ToolOutcome:
    """How one function call ended (docs/wire.md, "Tool calls"). Texts are already redacted of the secrets."""

    call_id: str
    name: str
    duration_s: float  # from the toolCall to the answer (or the cancellation)
    response_json: str  # the function response as sent, compact JSON ("": nothing sent)
    error: str | None = None  # the message of an error response
    cancelled: str | None = None  # why nothing was sent: "toolCallCancellation", "the connection closed"
    scheduling: str | None = None  # INTERRUPT | WHEN_IDLE | SILENT, when the handler asked for one

    @property
    def response_bytes(self) -> int:
        """The size of the response sent, in bytes of UTF-8 JSON."""
        # (a lone surrogate counts as the 3 bytes of the U+FFFD it is sent as)
        return len(self.response_json.encode("utf-8", "surrogatepass"))


@dataclass(frozen=True)
class TurnReport:
    """A finished turn with the measurements the displays show."""

    turn: Turn
    input_name: str
    setup_s: float | None
    level_dbfs: float | None  # None when the turn has no audio
    metrics: TurnMetrics | None = None  # latency milestones and real-time factor

    @property
    def near_silent(self) -> bool:
        """Whether the reply audio is there but (nearly) silent."""
        return self.level_dbfs is not None and self.level_dbfs < NEAR_SILENT_DBFS


class Reporter:
    """What a run reports, event by event; this base class shows nothing (the null reporter).

    The client and the use cases call it; the renderers in livecli.render implement it.
    """

    def connecting(self, url: str, backend: str) -> None:
        """Before the WebSocket opens (`url` already redacted)."""

    def connected(self, url: str, backend: str) -> None:
        """The upgrade succeeded; setup is being sent."""

    def setup_complete(self, setup_s: float, session_id: str | None) -> None:
        """setupComplete arrived, `setup_s` after connecting began."""

    def input_started(self, info: InputInfo) -> None:
        """An input starts streaming."""

    def input_progress(self, info: InputInfo, chunks: int, sent_bytes: int) -> None:
        """Called after every chunk sent (renderers throttle themselves)."""

    def input_ended(self, info: InputInfo, chunks: int, sent_bytes: int) -> None:
        """All of an input (and any trailing silence) was sent."""

    def frames_sent(self, info: InputInfo, sent: FramesSent) -> None:
        """Image frames went with `info` (between input_started and input_ended)."""

    def server_event(self, event: ServerEvent, turn: Turn | None) -> None:
        """One parsed server event, with the turn it belongs to."""

    def turn_complete(self, report: TurnReport) -> None:
        """A turn ended (turnComplete, inferred after generationComplete, interrupted…)."""

    def tool_finished(self, outcome: ToolOutcome) -> None:
        """A function call was answered (a response or an error response), or cancelled with nothing sent."""

    def reconnecting(self, attempt: int, limit: int, cause: str, delay_s: float, resend: str | None) -> None:
        """The connection is being replaced (attempt of limit); `resend` names the input sent again."""

    def resumed(self, setup_s: float, with_handle: bool) -> None:
        """The new connection's setup completed (with_handle: the session continues, history kept)."""

    def reply_streaming(self, dest: str, rate: int, kind: str) -> None:
        """The reply starts streaming to `dest` ("-": stdout) as `kind` (wav, raw) at `rate` Hz."""

    def reply_written(self, dest: str, nbytes: int, rate: int, partial: bool) -> None:
        """A reply file was written (partial: cut short by an error or Ctrl-C)."""

    def warning(self, text: str) -> None:
        """Something the user should know that is not an error."""

    def checks_passed(self, text: str) -> None:
        """The CI expectations asked for (--expect-transcript, --min-reply-seconds) held; `text` says which.

        A display for people; `--json` readers have the summary's exit_status."""

    def error(self, exc: BaseException, status: int) -> None:
        """The run failed with `exc` (a LivecliError, Ctrl-C, a broken pipe, a bug); `status` is the exit status.

        The CLI boundary prints the one-line error itself.
        """

    def summary(
        self, inputs: int, turns: int, reply_bytes: int, status: int, *, reconnects: int = 0, usage_turns: int = 0
    ) -> None:
        """The run ended (also after an error); usage_turns: turns that reported usageMetadata."""

    def close(self) -> None:
        """Release the display (progress bars)."""
