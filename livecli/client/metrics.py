"""Per-turn latency and quality (docs/wire.md, "Reply timing"): when each milestone of a reply arrived.

All offsets are seconds from the end of the user's input on the session clock: the activityEnd (or, with
`--turn-end silence`, the end of the user's audio, before the appended silence), or the text turn; an offset is
negative when the event came before that end (never clamped):
first input transcription → first reply byte (TTFB) → first audible sample (TTFA, not the same as TTFB: a
reply may open with silence) → generationComplete → turn complete. The output real-time factor is seconds of
reply audio received per wall-clock second of receiving it (< 1: a live player would stutter).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from livecli.protocol.events import AudioChunk, GenerationComplete, InputTranscription, ServerEvent
from livecli.protocol.report import NEAR_SILENT_DBFS, Reporter, TurnMetrics, TurnReport

if TYPE_CHECKING:
    from collections.abc import Sequence

    from livecli.protocol.session import Turn

__all__ = ["TurnReports", "TurnTimes", "measure"]


@dataclass(slots=True)
class TurnTimes:
    """Arrival times the session's Turn does not keep, recorded as events arrive."""

    first_input_transcription_at: float | None = None
    first_audible_at: float | None = None
    generation_complete_at: float | None = None
    last_audio_at: float | None = None

    def observe(self, event: ServerEvent, now: float) -> None:
        """Note the arrival of one event of this turn."""
        if isinstance(event, AudioChunk):
            self.last_audio_at = now
            if self.first_audible_at is None and event.data:
                from livecli.audio.levels import first_audible_byte_offset

                if first_audible_byte_offset(event.data, NEAR_SILENT_DBFS) is not None:
                    self.first_audible_at = now
        elif isinstance(event, InputTranscription):
            if self.first_input_transcription_at is None and event.text:
                self.first_input_transcription_at = now
        elif isinstance(event, GenerationComplete) and self.generation_complete_at is None:
            self.generation_complete_at = now


def _since(start: float | None, at: float | None) -> float | None:
    """Seconds from `start` to `at`, never clamped: negative when it happened before the input ended (server
    VAD may answer before the input is over)."""
    return None if start is None or at is None else at - start


def measure(turn: Turn, times: TurnTimes | None) -> TurnMetrics:
    """Measure a finished turn."""
    times = times or TurnTimes()
    end = turn.input_ended_at
    rtf = None
    if turn.first_reply_at is not None and times.last_audio_at is not None:
        span = times.last_audio_at - turn.first_reply_at
        # One chunk (or an unpaced burst) has no measurable span: no factor rather than a huge one.
        rtf = turn.audio_duration_s / span if span >= 0.001 else None
    return TurnMetrics(
        first_input_transcription_s=_since(end, times.first_input_transcription_at),
        ttfb_s=_since(end, turn.first_reply_at),
        ttfa_s=_since(end, times.first_audible_at),
        generation_complete_s=_since(end, times.generation_complete_at),
        turn_complete_s=_since(end, turn.ended_at),
        realtime_factor=rtf,
    )


class TurnReports:
    """A conversation's turns measured as their events arrive, and each reported once when it is over (the
    renderer's `turn_complete`, with its metrics and loudness)."""

    def __init__(self, renderer: Reporter) -> None:
        self.renderer = renderer
        self.times: dict[int, TurnTimes] = {}
        self._reported: set[int] = set()

    def observe(self, event: ServerEvent, turn: Turn | None, now: float) -> None:
        """Note the arrival of one event of `turn` (None: before any turn)."""
        if turn is not None:
            self.times.setdefault(turn.index, TurnTimes()).observe(event, now)

    def report_finished(self, turns: Sequence[Turn], setup_s: float | None) -> None:
        """Report every turn over and not reported yet; a turn cut with no reply is a stray transcription, not a
        turn the user needs to see."""
        for turn in turns:
            if turn.over and turn.index not in self._reported:
                self._reported.add(turn.index)
                if turn.end in ("superseded", "disconnected") and not turn.has_reply:
                    continue
                level = None
                if turn.audio:
                    from livecli.audio.levels import rms_dbfs_pcm16_parts

                    level = rms_dbfs_pcm16_parts(turn.audio.blocks())  # in blocks: it may be on disk
                name = turn.input.name if turn.input is not None else ""
                metrics = measure(turn, self.times.get(turn.index))
                self.renderer.turn_complete(TurnReport(turn, name, setup_s, level, metrics))
