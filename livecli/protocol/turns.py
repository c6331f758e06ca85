"""A turn: one user input's exchange with the model, and the label saying which input of the run it answers.

The session (protocol.session) creates and ends turns; the client, the use cases and the renderers read them.
`Inputs` keeps the labels: which attempt at which input each turn answers, and so which turns are a reply.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from livecli.protocol.events import FunctionCall, TurnComplete, Usage
from livecli.protocol.reply_audio import ReplyAudio

__all__ = ["InputTag", "Inputs", "Turn"]


@dataclass(frozen=True, slots=True)
class InputTag:
    """The input a turn answers: its 1-based place in the run, its display name, and which sending of it
    (attempt 2 and later: sent again from its start on a new connection; an input that goes on where it was
    after a reconnect keeps its attempt)."""

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
    audio: ReplyAudio = field(default_factory=ReplyAudio, repr=False)  # in memory unless the session is told
    audio_rate: int | None = None
    usage: Usage | None = None
    complete: TurnComplete | None = None
    tool_calls: list[FunctionCall] = field(default_factory=list)
    text_parts: list[str] = field(default_factory=list)
    thought_parts: list[str] = field(default_factory=list)
    input_pieces: list[str] = field(default_factory=list)
    output_pieces: list[str] = field(default_factory=list)
    # How many audio messages of its input had been sent when the reply began: under server VAD the user's part
    # of the turn was over by then, so a resend after a reconnect starts there (docs/wire.md, "Resending input").
    heard_chunks: int | None = None
    # A reconnect cut the reply and the input that caused it goes to the server again (the unacknowledged tail,
    # or the audio after the last completed turn): the server answers it anew, so this reply is no one's.
    replaced: bool = False

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

    @property
    def in_reply(self) -> bool:
        """Whether the turn belongs in its input's reply: not cut before any reply, not answered anew."""
        return not self.cut_empty and not self.replaced


class Inputs:
    """Which input of the run each turn answers (the session's list of turns, read here; labels kept here)."""

    def __init__(self, turns: list[Turn]) -> None:
        self.turns = turns
        self.current: InputTag | None = None  # what turns opened now answer
        self._latest: dict[int, InputTag] = {}  # each input's latest attempt

    def label(self, number: int, name: str) -> InputTag:
        """Tag every turn opened from now on as answering input `number`; call it before the input's frames.

        Labelling an input again starts its next attempt: after a reconnect it is sent again from its start,
        because the newest resumable handle predates it (docs/wire.md, "goAway and resumption").
        """
        previous = self._latest.get(number)
        tag = InputTag(number, name, previous.attempt + 1 if previous is not None else 1)
        self._latest[number] = self.current = tag
        return tag

    def attempt_turns(self, tag: InputTag) -> list[Turn]:
        """The turns opened for one attempt at an input, in order."""
        return [turn for turn in self.turns if turn.input == tag]

    def answered(self, number: int) -> bool:
        """Whether the latest attempt at input `number` has its whole reply: turns ended with audio or text
        (not by a reconnect), and none still open."""
        tag = self._latest.get(number)
        turns = self.attempt_turns(tag) if tag is not None else []
        ended = [turn for turn in turns if turn.over and turn.end != "disconnected"]
        return bool(ended) and all(turn.over for turn in turns) and any(turn.has_reply for turn in ended)

    def heard_through(self, tag: InputTag) -> int:
        """How many audio messages of an attempt the server has answered: where the reply of its last completed
        turn began (server VAD; 0 when none completed). A resend after a reconnect starts there
        (docs/wire.md, "Resending input")."""
        heard = [
            turn.heard_chunks
            for turn in self.attempt_turns(tag)
            if turn.over and turn.end != "disconnected" and turn.heard_chunks is not None
        ]
        return max(heard, default=0)

    def resume(self, tag: InputTag) -> None:
        """Go on with an attempt on a new connection instead of starting another: turns a reconnect cut with a
        reply are replaced (their input goes to the server again and is answered anew)."""
        for turn in self.attempt_turns(tag):
            if turn.end == "disconnected" and turn.has_reply:
                turn.replaced = True
        self.current = tag

    def reply_turns(self, number: int) -> list[Turn]:
        """The reply to input `number`: its latest attempt that got audio or text, else its latest attempt.

        Only one attempt is ever kept: a resent input is answered from its start again, so joining attempts
        would repeat the reply's beginning. Turns a reconnect cut before any reply, and replies answered anew
        (`Turn.replaced`), are left out; but when no reply came whole (the one asked for again never came: the
        run failed), the latest cut one is the reply, written as partial (docs/wire.md, "Resending input").
        """
        latest = self._latest.get(number)
        if latest is None:
            return []
        attempts = [
            [turn for turn in self.attempt_turns(dataclasses.replace(latest, attempt=n)) if turn.in_reply]
            for n in range(1, latest.attempt + 1)
        ]
        answer = next((turns for turns in reversed(attempts) if any(t.has_reply for t in turns)), None)
        if answer is not None:
            return answer
        cut = [
            t
            for t in self.turns
            if t.replaced and t.has_reply and t.input is not None and t.input.number == number
        ]
        return cut[-1:] or attempts[-1]
