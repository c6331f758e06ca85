"""What `livecli replay` compares (docs/recording.md, "Replay"): the server's side of a session reduced to its
turns, and the differences between a recorded session and its replay. Pure: frames in, records out.

A turn ends at `turnComplete` (docs/wire.md, "Turn end"); its input and output transcripts, text, tool calls (by
name) and reply audio duration are what a replay must reproduce. Transcripts and text are compared with case and
runs of whitespace folded (the service's transcription varies in exactly that); durations within a tolerance.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from livecli.errors import ProtocolError
from livecli.protocol.events import (
    AudioChunk,
    InputTranscription,
    Interrupted,
    OutputTranscription,
    TextPart,
    ToolCall,
    TurnComplete,
)
from livecli.protocol.server_parse import parse_server_message

__all__ = ["MIN_TOLERANCE_S", "TurnSummary", "compare", "summarize_turns"]

# Below this, reply durations are never told apart (one 40 ms chunk of jitter, a rounding of the last chunk).
MIN_TOLERANCE_S = 0.1


@dataclass
class TurnSummary:
    """One turn of the server's side."""

    input_transcript: str = ""
    output_transcript: str = ""
    text: str = ""
    tool_calls: list[str] = field(default_factory=list)
    reply_s: float = 0.0
    interrupted: bool = False
    complete: bool = False

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "reply_s": round(self.reply_s, 3)}


def summarize_turns(frames: Iterable[str | bytes]) -> list[TurnSummary]:
    """The turns the server's frames make, in order; a last turn with no turnComplete is kept (`complete`
    False) when anything arrived for it. A frame livecli cannot parse counts for nothing."""
    turns: list[TurnSummary] = []
    current = TurnSummary()
    started = False
    for frame in frames:
        try:
            events = parse_server_message(frame)
        except ProtocolError:
            continue
        for event in events:
            if isinstance(event, AudioChunk):
                current.reply_s += event.duration_s
            elif isinstance(event, InputTranscription):
                current.input_transcript += event.text
            elif isinstance(event, OutputTranscription):
                current.output_transcript += event.text
            elif isinstance(event, TextPart) and not event.thought:
                current.text += event.text
            elif isinstance(event, ToolCall):
                current.tool_calls += [call.name for call in event.calls]
            elif isinstance(event, Interrupted):
                current.interrupted = True
            elif isinstance(event, TurnComplete):
                current.complete = True
                turns.append(current)
                current, started = TurnSummary(), False
                continue
            else:
                continue
            started = True
    if started:
        turns.append(current)
    return turns


def _folded(text: str) -> str:
    return " ".join(text.split()).casefold()


def compare(recorded: list[TurnSummary], replayed: list[TurnSummary], *, tolerance: float) -> list[dict[str, Any]]:
    """The differences, each `{"what", "turn"?, "recorded", "replayed"}`; none when the replay reproduces the
    recording. A duration differs when it is off by more than `tolerance` of the recorded one (and more than
    MIN_TOLERANCE_S)."""
    found: list[dict[str, Any]] = []
    if len(recorded) != len(replayed):
        found.append({"what": "turns", "recorded": len(recorded), "replayed": len(replayed)})
    for number, (old, new) in enumerate(zip(recorded, replayed, strict=False), 1):
        for name in ("input_transcript", "output_transcript", "text"):
            if _folded(getattr(old, name)) != _folded(getattr(new, name)):
                found.append(
                    {"what": name, "turn": number, "recorded": getattr(old, name), "replayed": getattr(new, name)}
                )
        for name in ("tool_calls", "interrupted", "complete"):
            if getattr(old, name) != getattr(new, name):
                found.append(
                    {"what": name, "turn": number, "recorded": getattr(old, name), "replayed": getattr(new, name)}
                )
        allowed = max(MIN_TOLERANCE_S, tolerance * old.reply_s)
        if abs(old.reply_s - new.reply_s) > allowed:
            found.append(
                {
                    "what": "reply_s",
                    "turn": number,
                    "recorded": round(old.reply_s, 3),
                    "replayed": round(new.reply_s, 3),
                    "tolerance_s": round(allowed, 3),
                }
            )
    return found
