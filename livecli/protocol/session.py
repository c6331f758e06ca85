"""The client side of one Live session, sans-I/O: what to send next, and when a turn is over.

The caller owns the socket and the clock. It sends the frames this class returns, feeds it every frame
received, and calls `tick(now)` at `deadline()`.

States (`ClientSession.state`):
    CONNECTING      created; `start()` returns the setup frame                     → AWAIT_SETUP
    AWAIT_SETUP     setup sent; sending media now is a bug (RuntimeError)           → READY on setupComplete
    READY           no input open, no reply pending
    STREAMING       `begin_input()` opened a user turn and `audio()` frames flow;   → AWAITING_REPLY on end_input()
                    under server VAD replies may already arrive
    AWAITING_REPLY  input closed (or a text/clientContent turn sent), reply pending → READY when the turn is over
    CLOSED          after `closed(code, reason)`; media raises that close's error   → AWAIT_SETUP on
                    (the driver may not have seen the close yet)                    `reconnect_setup()`

When a turn is over, and which turn reply content belongs to, is protocol.turn_tracker's `TurnTracker` (a turn
is over on turnComplete, or TURN_GRACE_S after generationComplete/interrupted when none follows: `tick(now)`).

Which input a turn answers is the session's to say: `label_input(number, name)` before an input's frames tags
every turn opened from then on (server VAD may answer one input with several turns); labelling the same input
again is its next attempt, sent again from its start after a reconnect. `reply_turns(number)` is the one answer
to "which turns are the reply to input N".

Every message built after `setup` is numbered (protocol.outbox). With transparent resumption (Vertex) the
unacknowledged ones are kept, and `reconnect_setup()` decides how the input in flight goes on
(docs/wire.md, "Resending input"): `resumed_transparently` — `take_resend()` gives the tail to send first, then
the input continues where it was (an open activity stays open); otherwise the caller sends it again, whole
(`label_input`) or, under server VAD, from `inputs.heard_through()` (`inputs.resume`).
"""

from __future__ import annotations

import dataclasses
import enum
import time
from collections.abc import Callable
from typing import Any

from livecli.errors import LivecliError, ServerClosed
from livecli.protocol import client_messages as cm
from livecli.protocol.events import ResumptionUpdate, ServerEvent, SetupComplete
from livecli.protocol.outbox import Outbox
from livecli.protocol.reply_audio import ReplyAudio
from livecli.protocol.server_parse import parse_server_message
from livecli.protocol.turn_tracker import TURN_GRACE_S, TurnTracker
from livecli.protocol.turns import Inputs, InputTag, Turn

__all__ = ["TURN_GRACE_S", "ClientSession", "InputTag", "State", "Turn"]


class State(enum.Enum):
    """Where the session is (see the module docstring)."""

    CONNECTING = "connecting"
    AWAIT_SETUP = "await-setup"
    READY = "ready"
    STREAMING = "streaming"
    AWAITING_REPLY = "awaiting-reply"
    CLOSED = "closed"


class ClientSession:
    """Sans-I/O state machine of one Live session (and its reconnections)."""

    def __init__(self, setup: cm.SetupConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self.setup = setup
        self._clock = clock
        self.turns: list[Turn] = []
        self.resume_handle: str | None = setup.resume_handle
        self.session_id: str | None = None
        self.setup_complete_at: float | None = None
        self._started = False
        self._media_ok = False  # setupComplete received on this connection and not closed
        self._closed: LivecliError | None = None  # the error of this connection's close
        self._input_open = False
        self.inputs = Inputs(self.turns)  # which input each turn answers
        self._tracker = TurnTracker(self.turns, self.inputs)  # which turn is open, and when it is over
        transparent = setup.transparent and (setup.session_resumption or setup.resume_handle is not None)
        self.outbox = Outbox(keep=transparent)
        self._input_chunks = 0  # audio messages of the current input built so far (counting any skipped)
        self._end_index: int | None = None  # the index of the message that ended the current input
        self._resend: list[str] | None = None  # the tail to send first on this connection (transparent)
        self.resumed_transparently = False  # this connection goes on where the last one stopped

    # --- state -----------------------------------------------------------------------------------------

    @property
    def state(self) -> State:
        """The current state (see the module docstring)."""
        if self._closed is not None:
            return State.CLOSED
        if not self._started:
            return State.CONNECTING
        if not self._media_ok:
            return State.AWAIT_SETUP
        if self._input_open:
            return State.STREAMING
        return State.AWAITING_REPLY if self._tracker.open is not None else State.READY

    @property
    def new_reply_audio(self) -> Callable[[], ReplyAudio]:
        """Where each turn keeps its reply audio: in memory unless the use case spills it."""
        return self._tracker.new_reply_audio

    @new_reply_audio.setter
    def new_reply_audio(self, factory: Callable[[], ReplyAudio]) -> None:
        self._tracker.new_reply_audio = factory

    @property
    def can_send_media(self) -> bool:
        """True once setupComplete arrived on this connection (and it is not closed)."""
        return self._media_ok

    @property
    def current_turn(self) -> Turn | None:
        """The latest turn, over or not."""
        return self._tracker.current

    def turn_over(self, now: float | None = None) -> bool:
        """Whether the latest turn is over (or its grace has run out by `now`: call `tick` to settle it)."""
        return self._tracker.turn_over(now)

    def deadline(self) -> float | None:
        """When the caller must call `tick()` next (end of the turnComplete grace), or None."""
        return self._tracker.grace_until

    def tick(self, now: float | None = None) -> list[ServerEvent]:
        """Settle a turn whose grace ran out: an inferred TurnComplete, or nothing."""
        return self._tracker.tick(self._clock() if now is None else now)

    # --- which turns answer which input (protocol.turns.Inputs keeps the labels) ----------------------------

    def label_input(self, number: int, name: str) -> InputTag:
        """Tag every turn opened from now on as answering input `number` (its next attempt): `Inputs.label`."""
        return self.inputs.label(number, name)

    def attempt_turns(self, tag: InputTag) -> list[Turn]:
        """The turns opened for one attempt at an input, in order."""
        return self.inputs.attempt_turns(tag)

    def answered(self, number: int) -> bool:
        """Whether the latest attempt at input `number` has its whole reply (`Inputs.answered`) and was sent whole:
        under server VAD a turn may be answered while the input still streams."""
        return self.inputs.answered(number) and not self._input_open

    def reply_turns(self, number: int) -> list[Turn]:
        """The reply to input `number`: `Inputs.reply_turns`."""
        return self.inputs.reply_turns(number)

    # --- sending ---------------------------------------------------------------------------------------

    def start(self) -> list[str]:
        """Frames to send first on a new connection: the setup message."""
        if self._started:
            raise RuntimeError("session already started; use reconnect_setup() for a new connection")
        self._started = True
        return [cm.setup_message(self.setup)]

    def reconnect_setup(self) -> list[str]:
        """Reset for a new connection, resuming with the latest resumable handle: frames to send first.

        Transparent when the handle's acknowledged index is known, the tail holds everything after it, and the
        server still has something to answer from it (docs/wire.md, "Resending input"): the open input stays
        open and `take_resend()` gives the tail. Otherwise the input in flight must be sent again.
        """
        now = self._clock()
        self.resumed_transparently = self._transparent_possible()
        self._resend = self.outbox.unacknowledged() if self.resumed_transparently else None
        self._tracker.new_connection(now, resumed_transparently=self.resumed_transparently)
        if not self.resumed_transparently:
            self._input_open = False
            if self.resume_handle is None:  # a new session: numbering starts again
                self.outbox.acknowledge(None)
                self.outbox.restart(0)
            else:
                acknowledged = self.outbox.acknowledged
                self.outbox.restart(acknowledged + 1 if acknowledged is not None else self.outbox.next_index)
        self._closed = None
        self._media_ok = False
        self._started = True
        self.setup_complete_at = None
        config = dataclasses.replace(self.setup, resume_handle=self.resume_handle)
        return [cm.setup_message(config)]

    def _transparent_possible(self) -> bool:
        if self.resume_handle is None or not self.outbox.complete:
            return False
        if self._end_index is None or self.outbox.pending(self._end_index):
            return True  # the input is open, or its end is in the tail: the resent tail gets it answered
        # The server holds the whole input, but the reply to it was cut: only sending it again gets one.
        return self.inputs.current is None or self.answered(self.inputs.current.number)

    def take_resend(self) -> list[str]:
        """The unacknowledged tail to send first on a transparently resumed connection (once)."""
        frames, self._resend = self._resend or [], None
        return frames

    def _check_media(self) -> None:
        """Media needs setupComplete; after a close it raises the close's error, which the driver may not have
        seen yet (the close arrived while it was sending)."""
        if self._closed is not None:
            raise self._closed
        if not self._media_ok:
            raise RuntimeError(f"cannot send media in state {self.state.value}: wait for setupComplete")

    def begin_input(self, first_chunk: int = 0) -> list[str]:
        """Open a user turn: activityStart when automatic activity detection is off, else nothing.
        `first_chunk`: the audio messages of the input skipped (a resend from `heard_through`)."""
        self._check_media()
        self._tracker.new_turn(self._clock())
        self._input_open = True
        self._input_chunks = first_chunk
        self._end_index = None
        return [] if self.setup.automatic_activity_detection else [self._number(cm.activity_start_message())]

    def _number(self, frame: str, audio_bytes: int = 0) -> str:
        """Every message built after setup goes through here: numbered, and kept until acknowledged."""
        return self.outbox.number(frame, audio_bytes)

    def audio(self, pcm: bytes) -> str:
        """One audio chunk (16 kHz s16le) of the open input."""
        if not self._media_ok:
            self._check_media()
        self._input_chunks += 1
        return self.outbox.number(cm.audio_message(pcm), len(pcm))

    def video(self, data: bytes, mime: str) -> str:
        """One image frame (`realtimeInput.video`, JPEG or PNG): after `begin_input()`'s activityStart, since a
        frame sent before it is dropped under TURN_INCLUDES_ONLY_ACTIVITY (docs/wire.md, "Video frames")."""
        self._check_media()
        return self._number(cm.video_message(data, mime))

    def input_text(self, text: str) -> str:
        """`realtimeInput.text` inside the open input (a video's `--prompt`, before its activityEnd): part of the
        turn `begin_input()` opened, unlike `text()`, which is a turn of its own."""
        self._check_media()
        return self._number(cm.text_message(text))

    def end_of_audio(self) -> None:
        """The user's audio is over; what is sent from now on is appended silence (`--turn-end silence`).

        The turn's timings start here, not after the silence: under server VAD the reply may come while the
        silence is still being sent (docs/wire.md, "Reply timing").
        """
        turn = self.current_turn
        if self._input_open and turn is not None and turn.input_ended_at is None:
            turn.input_ended_at = self._clock()

    def end_input(self, stream_end: bool = False) -> list[str]:
        """Close the user turn: activityEnd with activity detection off; audioStreamEnd if asked under VAD."""
        self._check_media()
        self._input_open = False
        turn = self.current_turn
        if turn is not None and turn.input_ended_at is None:
            turn.input_ended_at = self._clock()
        self._end_index = self.outbox.next_index - 1  # the last chunk, unless an end message follows
        if not self.setup.automatic_activity_detection:
            frames = [cm.activity_end_message()]
        else:
            frames = [cm.audio_stream_end_message()] if stream_end else []
        if frames:
            self._end_index = self.outbox.next_index
        return [self._number(frame) for frame in frames]

    def text(self, text: str) -> list[str]:
        """A whole user turn as `realtimeInput.text`."""
        self._check_media()
        turn = self._tracker.new_turn(self._clock())
        turn.input_ended_at = turn.started_at
        self._end_index = self.outbox.next_index
        return [self._number(cm.text_message(text))]

    def client_content(
        self, turns: list[dict[str, Any]] | str, turn_complete: bool = True, *, before_text: tuple[Any, ...] = ()
    ) -> list[str]:
        """A `clientContent` message; with turn_complete it is a user turn awaiting a reply. `before_text`: parts
        (images) that precede a string turn's text."""
        self._check_media()
        if turn_complete:
            turn = self._tracker.new_turn(self._clock())
            turn.input_ended_at = turn.started_at
            self._end_index = self.outbox.next_index
        return [self._number(cm.client_content_message(turns, turn_complete, before_text=before_text))]

    def tool_response(self, responses: list[dict[str, Any]]) -> list[str]:
        """A `toolResponse` answering earlier function calls."""
        self._check_media()
        return [self._number(cm.tool_response_message(responses))]

    # --- receiving -------------------------------------------------------------------------------------

    def receive(self, frame: str | bytes, now: float | None = None) -> list[ServerEvent]:
        """Parse one server frame, update the state; returns the events (a late turnComplete is absorbed).
        `now`: when the frame arrived (the driver may apply it a little later)."""
        now = self._clock() if now is None else now
        out: list[ServerEvent] = []
        for event in parse_server_message(frame):
            if self._apply(event, now, out):
                out.append(event)
        return out

    def _apply(self, event: ServerEvent, now: float, out: list[ServerEvent]) -> bool:
        """Update the state for one event; False when the event is absorbed (the turns are the tracker's)."""
        if isinstance(event, SetupComplete):
            if not self._media_ok and self._closed is None:
                self._media_ok = True
                self.setup_complete_at = now
                self.session_id = event.session_id
        elif isinstance(event, ResumptionUpdate):
            if event.resumable and event.new_handle:
                self.resume_handle = event.new_handle
                self.outbox.acknowledge(event.last_consumed_index)  # the index belongs to this handle
        else:
            return self._tracker.apply(
                event, now, out, input_open=self._input_open, input_chunks=self._input_chunks
            )
        return True

    def closed(self, code: int, reason: str, *, error: LivecliError | None = None) -> LivecliError:
        """The error for a close frame (1006 when none came); its exit status depends on the phase. `error`: the
        driver's own, when the client ended the connection itself (it refused a frame)."""
        error = error or ServerClosed(code, reason, after_setup=self.setup_complete_at is not None)
        self._closed = error
        self._media_ok = False  # (an open input stays open: a transparent resumption goes on with it)
        return error
