"""A turn: one user input's exchange with the model, and the label saying which input of the run it answers.

The session (protocol.session) creates and ends turns; the client, the use cases and the renderers read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from livecli.protocol.events import FunctionCall, TurnComplete, Usage

__all__ = ["InputTag", "Turn"]


@dataclass(frozen=True, slots=True)
class InputTag:
    """The input a turn answers: its 1-based place in the run, its display name, and which sending of it
    (attempt 2 and later: sent again from its start on a new connection)."""

    number: int
    name: str
    attempt: int = 1


@dataclass(slots=True, eq=False)
class Turn:
    """One user turn and the reply to it; times are from the session's clock."""

    index: int
    started_at: float
    input: InputTag | None = None  # the input being sent when the turn opened (None: before any)
    input_ended_at: float | None = None
    first_reply_at: float | None = None
    ended_at: float | None = None
    end: str | None = None  # turnComplete | generationComplete | interrupted | superseded | disconnected
    interrupted: bool = False
    audio: bytearray = field(default_factory=bytearray, repr=False)
    audio_rate: int | None = None
    usage: Usage | None = None
    complete: TurnComplete | None = None
    tool_calls: list[FunctionCall] = field(default_factory=list)
    text_parts: list[str] = field(default_factory=list)
    thought_parts: list[str] = field(default_factory=list)
    input_pieces: list[str] = field(default_factory=list)
    output_pieces: list[str] = field(default_factory=list)

    @property
    def over(self) -> bool:
        """Whether the turn has ended."""
        return self.ended_at is not None

    @property
    def text(self) -> str:
        """The reply's text parts (not thoughts), concatenated."""
        return "".join(self.text_parts)

    @property
    def input_transcript(self) -> str:
        """What the user said, as transcribed by the server."""
        return "".join(self.input_pieces)

    @property
    def output_transcript(self) -> str:
        """What the model said, as transcribed by the server."""
        return "".join(self.output_pieces)

    @property
    def audio_duration_s(self) -> float:
        """Duration of the reply audio."""
        return len(self.audio) / (2 * self.audio_rate) if self.audio_rate else 0.0

    @property
    def reply_latency_s(self) -> float | None:
        """End of input → first reply byte (None until both happened)."""
        if self.input_ended_at is None or self.first_reply_at is None:
            return None
        return self.first_reply_at - self.input_ended_at

    @property
    def has_reply(self) -> bool:
        """Whether any audio or text came back."""
        return bool(self.audio) or bool(self.text_parts)

    @property
    def cut_empty(self) -> bool:
        """Whether a reconnect ended the turn before any reply came (it belongs in no reply)."""
        return self.end == "disconnected" and not self.has_reply
