"""Events parsed from server messages (docs/wire.md, "Server messages"), frozen, with log-safe `__str__`.

`__str__` never shows audio bytes or base64 (only sizes and durations), elides long text and escapes control
characters through `repr`, so an event can go to a log or a terminal as is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "AudioChunk",
    "FunctionCall",
    "GenerationComplete",
    "GoAway",
    "InputTranscription",
    "Interrupted",
    "OutputTranscription",
    "ResumptionUpdate",
    "ServerEvent",
    "SetupComplete",
    "TextPart",
    "ToolCall",
    "ToolCallCancellation",
    "TurnComplete",
    "Usage",
]

_MAX_LOG_TEXT = 80


def _short(text: str) -> str:
    """`repr` of text (control characters escaped), elided past _MAX_LOG_TEXT characters."""
    if len(text) > _MAX_LOG_TEXT:
        return repr(text[:_MAX_LOG_TEXT]) + f"…({len(text)} chars)"
    return repr(text)


@dataclass(frozen=True, slots=True)
class SetupComplete:
    """`setupComplete`: the session is ready for input."""

    session_id: str | None = None

    def __str__(self) -> str:
        return (
            "SetupComplete()"
            if self.session_id is None
            else f"SetupComplete(session_id={_short(self.session_id)})"
        )


@dataclass(frozen=True, slots=True)
class AudioChunk:
    """One `inlineData` audio part: 16-bit little-endian mono PCM at `rate` Hz (from its mimeType)."""

    data: bytes = field(repr=False)
    rate: int
    mime: str

    @property
    def duration_s(self) -> float:
        """Playback duration of this chunk in seconds."""
        return len(self.data) / (2 * self.rate)

    def __str__(self) -> str:
        return f"AudioChunk({len(self.data)} bytes, {self.duration_s * 1000:.0f} ms, {self.rate} Hz)"

    def __repr__(self) -> str:
        return f"AudioChunk(data=<{len(self.data)} bytes>, rate={self.rate}, mime={self.mime!r})"


@dataclass(frozen=True, slots=True)
class TextPart:
    """One text part of `modelTurn`; `thought` marks the model's thinking, not its answer."""

    text: str
    thought: bool = False

    def __str__(self) -> str:
        return f"TextPart({_short(self.text)}{', thought' if self.thought else ''})"


@dataclass(frozen=True, slots=True)
class _Transcription:
    """A piece of a transcript (pieces are deltas: concatenate them); `finished` marks the last one."""

    text: str
    finished: bool = False

    def __str__(self) -> str:
        return f"{type(self).__name__}({_short(self.text)}{', finished' if self.finished else ''})"


@dataclass(frozen=True, slots=True)
class InputTranscription(_Transcription):
    """A piece of the transcript of what the user said."""


@dataclass(frozen=True, slots=True)
class OutputTranscription(_Transcription):
    """A piece of the transcript of the model's spoken reply."""


@dataclass(frozen=True, slots=True)
class GenerationComplete:
    """`generationComplete`: the model generated everything (turnComplete normally follows)."""

    def __str__(self) -> str:
        return "GenerationComplete()"


@dataclass(frozen=True, slots=True)
class TurnComplete:
    """`turnComplete`; `inferred` is True when livecli ended the turn itself (no turnComplete within the grace)."""

    reason: str | None = None
    waiting_for_input: bool | None = None
    inferred: bool = False

    def __str__(self) -> str:
        details = [f"reason={_short(self.reason)}"] if self.reason is not None else []
        if self.waiting_for_input is not None:
            details.append(f"waiting_for_input={self.waiting_for_input}")
        if self.inferred:
            details.append("inferred")
        return f"TurnComplete({', '.join(details)})"


@dataclass(frozen=True, slots=True)
class Interrupted:
    """`interrupted`: barge-in; the rest of the reply is discarded."""

    def __str__(self) -> str:
        return "Interrupted()"


@dataclass(frozen=True, slots=True)
class FunctionCall:
    """One function call of a `toolCall`; answer with a toolResponse carrying the same `id`."""

    id: str  # mandatory: the toolResponse must carry it back
    name: str
    args: dict[str, Any] = field(default_factory=dict, hash=False)

    def __str__(self) -> str:
        return f"FunctionCall(id={_short(self.id)}, name={_short(self.name)}, {len(self.args)} args)"


@dataclass(frozen=True, slots=True)
class ToolCall:
    """`toolCall`: the model asks the client to run functions."""

    calls: tuple[FunctionCall, ...]

    def __str__(self) -> str:
        return f"ToolCall({', '.join(str(call) for call in self.calls)})"


@dataclass(frozen=True, slots=True)
class ToolCallCancellation:
    """`toolCallCancellation`: earlier calls with these ids are void."""

    ids: tuple[str, ...]

    def __str__(self) -> str:
        return f"ToolCallCancellation({', '.join(_short(i) for i in self.ids)})"


@dataclass(frozen=True, slots=True)
class Usage:
    """`usageMetadata`; `response_tokens` is responseTokenCount (Gemini API) or candidatesTokenCount (Vertex).

    `raw` is the whole object with camelCase top-level keys.
    """

    prompt_tokens: int | None
    response_tokens: int | None
    total_tokens: int | None
    raw: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def __str__(self) -> str:
        return f"Usage(prompt={self.prompt_tokens}, response={self.response_tokens}, total={self.total_tokens})"


@dataclass(frozen=True, slots=True)
class GoAway:
    """`goAway`: the server will close this connection in about `time_left_s` seconds."""

    time_left_s: float | None

    def __str__(self) -> str:
        return f"GoAway(time_left_s={self.time_left_s})"


@dataclass(frozen=True, slots=True)
class ResumptionUpdate:
    """`sessionResumptionUpdate`; `new_handle` is empty when the session is not resumable right now."""

    new_handle: str
    resumable: bool
    last_consumed_index: int | None = None

    def __str__(self) -> str:
        handle = f"<{len(self.new_handle)} chars>" if self.new_handle else "''"
        return f"ResumptionUpdate(handle={handle}, resumable={self.resumable}, index={self.last_consumed_index})"


ServerEvent = (
    SetupComplete
    | AudioChunk
    | TextPart
    | InputTranscription
    | OutputTranscription
    | GenerationComplete
    | TurnComplete
    | Interrupted
    | ToolCall
    | ToolCallCancellation
    | Usage
    | GoAway
    | ResumptionUpdate
)
