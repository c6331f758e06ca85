"""The reply side of a session's turns, sans-I/O: which turn reply content belongs to, and when a turn is over.

A turn is over on turnComplete; or on generationComplete or interrupted when no turnComplete follows within
TURN_GRACE_S (some servers never send one: docs/wire.md, "Turn end"); `tick(now)` then emits an inferred
TurnComplete, and a turnComplete arriving after that is absorbed (its usage kept), so there is no phantom turn.
Reply content arriving with no open turn (server VAD) opens a new turn; a late transcription does not.

Split from protocol.session, which owns the connection's state (setup, sending, numbering, resumption) and
hands every reply event here; the turns themselves are protocol.turns'.
"""

from __future__ import annotations

from collections.abc import Callable

from livecli.protocol.events import (
    AudioChunk,
    GenerationComplete,
    InputTranscription,
    Interrupted,
    OutputTranscription,
    ServerEvent,
    TextPart,
    ToolCall,
    TurnComplete,
    Usage,
)
from livecli.protocol.reply_audio import ReplyAudio
from livecli.protocol.turns import Inputs, Turn

__all__ = ["TURN_GRACE_S", "TurnTracker"]

# How long to wait after generationComplete/interrupted for the turnComplete that carries usage.
TURN_GRACE_S = 2.0


class TurnTracker:
    """The turns of one session (and its reconnections): the one open turn, its grace, a turnComplete to absorb."""

    def __init__(self, turns: list[Turn], inputs: Inputs) -> None:
        self.turns = turns
        self.inputs = inputs  # the label of the input being sent, for each new turn
        self.open: Turn | None = None  # the turn collecting reply content
        self.grace_until: float | None = None  # generationComplete/interrupted came: over by then at the latest
        self.absorb_turn_complete = False  # the open turn's end was inferred: its late turnComplete is no new turn
        # Where each turn keeps its reply audio: in memory, unless the use case spills it (commands/reply_spill).
        self.new_reply_audio: Callable[[], ReplyAudio] = ReplyAudio

    @property
    def current(self) -> Turn | None:
        """The latest turn, over or not."""
        return self.turns[-1] if self.turns else None

    def turn_over(self, now: float | None = None) -> bool:
        """Whether the latest turn is over (or its grace has run out by `now`: `tick` settles it)."""
        turn = self.current
        if turn is None:
            return False
        if turn.over:
            return True
        return self.grace_until is not None and now is not None and now >= self.grace_until

    def tick(self, now: float) -> list[ServerEvent]:
        """Settle a turn whose grace ran out: an inferred TurnComplete, or nothing."""
        if self.grace_until is None or now < self.grace_until:
            return []
        return self._infer_end(now)

    def apply(
        self, event: ServerEvent, now: float, out: list[ServerEvent], *, input_open: bool, input_chunks: int
    ) -> bool:
        """Update the turns for one event; False when it is absorbed (a turnComplete after an inferred end).
        `input_open`: an input is streaming; `input_chunks`: its audio messages built so far."""
        if isinstance(event, AudioChunk | TextPart | ToolCall):
            turn = self._reply_turn(now, out)
            if isinstance(event, AudioChunk):
                turn.audio += event.data
                turn.audio_rate = event.rate
            elif isinstance(event, ToolCall):
                turn.tool_calls.extend(event.calls)
            elif event.thought:
                turn.thought_parts.append(event.text)
            else:
                turn.text_parts.append(event.text)
            if turn.first_reply_at is None and (isinstance(event, AudioChunk) or turn.text_parts):
                turn.first_reply_at = now
                if turn.input is not None and turn.input == self.inputs.current:
                    turn.heard_chunks = input_chunks
        elif isinstance(event, InputTranscription | OutputTranscription):
            turn = self._transcript_turn(isinstance(event, InputTranscription), input_open, now)
            pieces = turn.input_pieces if isinstance(event, InputTranscription) else turn.output_pieces
            pieces.append(event.text)
        elif isinstance(event, GenerationComplete | Interrupted):
            if self.open is not None:
                self.open.interrupted |= isinstance(event, Interrupted)
                if self.grace_until is None:
                    self.grace_until = now + TURN_GRACE_S
        elif isinstance(event, TurnComplete):
            if self.open is not None:
                self.finish(self.open, now, "interrupted" if self.open.interrupted else "turnComplete", event)
            elif self.absorb_turn_complete:
                self.absorb_turn_complete = False
                return False
        elif isinstance(event, Usage):
            latest = self.open or self.current
            if latest is not None:
                latest.usage = event
        return True

    def new_turn(self, now: float) -> Turn:
        """Open the next turn (an input began, or reply content came with none open), superseding the open one."""
        if self.open is not None:
            self.finish(self.open, now, "superseded", None)
        turn = Turn(
            index=len(self.turns) + 1, started_at=now, input=self.inputs.current, audio=self.new_reply_audio()
        )
        self.turns.append(turn)
        self.open = turn
        self.absorb_turn_complete = False
        return turn

    def finish(self, turn: Turn, now: float, end: str, event: TurnComplete | None) -> None:
        """End `turn` (`end`: turnComplete | generationComplete | interrupted | superseded | disconnected)."""
        turn.ended_at, turn.end, turn.complete = now, end, event
        if turn is self.open:
            self.open = None
            self.grace_until = None

    def new_connection(self, now: float, *, resumed_transparently: bool) -> None:
        """A reconnect: the open turn's reply is lost with the old connection, unless the connection goes on
        transparently and nothing of it had come yet; a lost one is asked for again by a resent tail."""
        turn = self.open
        if turn is not None and not (resumed_transparently and not turn.has_reply):
            self.finish(turn, now, "disconnected", None)
            turn.replaced = resumed_transparently
        self.absorb_turn_complete = False
        self.grace_until = None

    def _infer_end(self, now: float) -> list[ServerEvent]:
        """End the open turn in its grace without a turnComplete; one that arrives later is absorbed."""
        turn = self.open
        if turn is None:
            return []
        event = TurnComplete(inferred=True)
        self.finish(turn, now, "interrupted" if turn.interrupted else "generationComplete", event)
        self.absorb_turn_complete = True
        return [event]

    def _transcript_turn(self, is_input: bool, input_open: bool, now: float) -> Turn:
        """The turn a transcription belongs to: it never opens a turn that would then wait for a reply.

        Transcriptions are unordered w.r.t. modelTurn (docs/wire.md, "Server messages"): one arriving after its
        turn ended (even after turnComplete, e.g. an empty `finished` piece) belongs to that turn. Only user
        speech heard while input is still streaming (server VAD) starts the next turn, and so does any
        transcription after a reconnect cut a reply the resent input gets anew (`replaced`): it is the new reply's.
        """
        if self.open is not None:
            return self.open
        latest = self.current
        if latest is None or (is_input and input_open) or latest.replaced:
            return self.new_turn(now)
        return latest

    def _reply_turn(self, now: float, out: list[ServerEvent]) -> Turn:
        """The turn new reply content belongs to; content after generationComplete/interrupted starts the next."""
        if self.grace_until is not None:
            out.extend(self._infer_end(now))
        return self.open or self.new_turn(now)
