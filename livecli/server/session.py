"""One connection's server-side logic, sans I/O: frames in, timed actions out.

The pump calls `receive(frame, now)` for each client frame and `tick(now)` whenever `deadline()` passes;
`tick` returns the actions due (send a frame, close, drop the TCP connection). Everything time-dependent —
VAD, real-time reply pacing, goAway, scenario timers — runs on the `now` it is given, so tests drive it with a
fake clock. An internal error closes with 1011 "Internal error encountered." (logged with its traceback).

A session is built from parts it owns: an ActionQueue (what goes out when), InputTurns (where user turns come
from, once the setup is known) and ToolCalls (calls awaiting their response); it decides how each turn is answered.

Choices where the service's behaviour is not on record (docs/wire.md, "Not on record"):
- no setup within `setup_timeout_s` (30 s) → close 1011 with a DEADLINE_EXCEEDED reason;
- more than MAX_PENDING replies/tool calls queued (a flood under NO_INTERRUPTION) → close 1011 overload;
- a user turn keeps MAX_TURN_AUDIO_S (120 s) of audio for the echo; longer speech is counted, not stored.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from typing import Any

from livecli.protocol import close_reasons as cr
from livecli.protocol import server_messages as sm
from livecli.protocol.models import ClientContentRule
from livecli.server.faults import misbehave, schedule_timed_actions
from livecli.server.frames import content_frames
from livecli.server.idle import IdleWatch
from livecli.server.replies import Reply, clip_text, echo_reply
from livecli.server.reply_frames import lazy_reply_frames, shaped
from livecli.server.resumption import HandleStore, ScenarioProgress, Snapshot, new_session_id
from livecli.server.scenarios import Scenario, TurnSpec
from livecli.server.session_queue import Action, ActionQueue, Close, Drop, Send
from livecli.server.session_tools import ModelCalls, ToolCalls
from livecli.server.session_turns import Heard, InputTurns
from livecli.server.tokens import Grant
from livecli.server.tool_model import declarations
from livecli.server.transparent import GO_AWAY_LEAD_S, ConnectionAudio, ConsumedState, ReceivedAudio, audio_blobs
from livecli.server.validate import Refusal, SetupInfo, check_setup, parse_client_frame

__all__ = ["Close", "Drop", "Send", "ServerSession", "SessionLimits"]

MAX_PENDING = 16


@dataclass(frozen=True)
class SessionLimits:
    """Server-wide settings a session needs."""

    reply_speed: float = 1.0
    reply_chunk_ms: int = 40
    max_connection_s: float | None = None
    max_session_s: float | None = None
    setup_timeout_s: float | None = 30.0
    max_connection_audio_s: float | None = None  # goAway, then close 1008, after this much received audio
    idle_timeout_s: float | None = None  # close once nothing was heard this long past the setup (server.idle)


class ServerSession:
    """The state of one client connection, from upgrade to close."""

    def __init__(
        self,
        scenario: Scenario,
        store: HandleStore,
        now: float,
        limits: SessionLimits | None = None,
        logger: logging.Logger | None = None,
        grant: Grant | None = None,
        *,
        vertex: bool = False,
        received: ReceivedAudio | None = None,
    ) -> None:
        self.scenario = scenario
        self.grant = grant  # the minted ephemeral token this connection came with (its lock, its uses)
        self.store = store
        self.limits = limits or SessionLimits()
        self.log = logger or logging.getLogger("livecli.server")
        self.queue = ActionQueue(self.log)
        self.tools = ToolCalls(self.log)
        self.calls = ModelCalls(self)  # which declared functions the model calls, and the replies around them
        self.input: InputTurns | None = None  # once the setup is known
        self.opened_at = now
        self.setup: SetupInfo | None = None
        self.session_id = new_session_id()
        self.turn = 0  # session turn number (continues across resumption)
        self.progress = ScenarioProgress()  # scenario turns and clock: per session, shared across resumption
        self.history: list[dict[str, Any]] = []  # append-only: resumption snapshots share it
        self.session_elapsed_before = 0.0
        self.vertex = vertex  # the upgrade came on a Vertex path: transparent resumption is taken
        # The last client message after the setup consumed, per session (docs/wire.md, "goAway and resumption").
        self.message_index = -1
        self.connection_audio = ConnectionAudio(self.limits.max_connection_audio_s)
        self.received_log = received  # the server keeps what sessions received (tests read it)
        self.received: list[bytes] | None = None
        self.heard_realtime_input = False
        self.busy_until = now
        self.pending_replies: set[int] = set()
        self._reply_ids = itertools.count(1)
        self.idle = IdleWatch(self.queue, self.limits.idle_timeout_s, self.reply_active)
        if self.limits.setup_timeout_s is not None:
            self.queue.at(now + self.limits.setup_timeout_s, self._setup_deadline)

    @property
    def closed(self) -> bool:
        """Whether the session has closed (or dropped) its connection, or been told the connection is gone."""
        return self.queue.closed

    def deadline(self) -> float | None:
        """The next time `tick` has something to do, or None."""
        due = self.queue.deadline()
        if self.input is not None and not self.queue.idle:
            vad_due = self.input.deadline()
            if vad_due is not None:
                due = vad_due if due is None else min(due, vad_due)
        return due

    def tick(self, now: float) -> list[Action]:
        """The actions due at `now`, in order."""
        if self.input is not None and not self.queue.idle:
            try:
                self.input.poll(now)
            except Exception:
                self.queue.fail(now)
        return self.queue.run_due(now)

    def stop(self) -> None:
        """Send nothing more (the pump failed and closes the socket itself)."""
        self.queue.finish()

    def connection_closed(self, now: float) -> None:
        """The socket is gone: nothing more is sent; the session's handles now expire `ttl` after `now`."""
        self.queue.finish()
        if self.setup is not None and self.setup.resumption:
            self.store.closed(self.session_id, now)

    def _setup_deadline(self, now: float) -> None:
        if self.setup is None:
            self.queue.close_with(now, cr.SETUP_TIMEOUT)

    # -- input ----------------------------------------------------------------------------------------------

    def receive(self, frame: str | bytes, now: float) -> None:
        """Handle one client frame that arrived at `now`."""
        if self.queue.idle:
            return
        if self.setup is not None:
            self.message_index += 1
        try:
            kind, body = parse_client_frame(frame)
            if self.setup is None or self.input is None:
                if kind != "setup":
                    raise Refusal.of(cr.INVALID_ARGUMENT)
                self._on_setup(body, now)
            elif kind == "setup":
                raise Refusal.of(cr.INVALID_ARGUMENT)
            elif kind == "realtimeInput":
                self.heard_realtime_input = True
                self.input.realtime_input(body, now)
                self._consumed_audio(body, now)
            elif kind == "clientContent":
                self._on_client_content(body, now)
            elif kind == "toolResponse":
                self.tools.respond(body, now)
            elif kind == "contextUpdate":
                self._on_context_update(body)
        except Refusal as refusal:
            self.log.info("refused: %s %s", refusal.code, refusal.reason)
            self.queue.close_now(now, refusal.code, refusal.reason)
        except Exception:
            self.queue.fail(now)
        else:
            self.idle.heard(now)

    def _on_setup(self, body: dict[str, Any], now: float) -> None:
        if self.grant is not None:
            body = self.grant.effective_setup(body)
        setup = check_setup(body)
        if setup.transparent and not self.vertex:
            raise Refusal.of(cr.INVALID_ARGUMENT)  # Vertex only (docs/wire.md, "goAway and resumption")
        for warning in setup.warnings:
            self.log.warning(warning)
        if self.scenario.setup_close is not None:
            raise Refusal(self.scenario.setup_close.code, self.scenario.setup_close.reason)
        if self.grant is not None and setup.resume_handle is None:
            self.grant.start_session()  # resuming is not a use (docs/wire.md, "Ephemeral tokens")
        consumed: ConsumedState | None = None
        if setup.resume_handle is not None:
            snapshot = self.store.resolve(setup.resume_handle, now)
            if snapshot is None:
                raise Refusal.of(cr.INVALID_ARGUMENT)
            self.turn = snapshot.turns
            self.history = snapshot.conversation()
            self.session_elapsed_before = snapshot.session_elapsed_s
            self.session_id = snapshot.session_id
            self.progress = snapshot.progress
            consumed = snapshot.consumed if setup.transparent else None
            self.log.info("resumed a session at turn %d", self.turn)
        self.setup = setup
        self.input = InputTurns(
            setup,
            on_speech=self.barge_in,
            on_turn=self.user_turn,
            stream_end_ignored=self.scenario.stream_end_ignored,
        )
        if consumed is not None:  # the state the handle's index names: the messages after it come again
            self.input = consumed.restore(self.input)
            self.message_index = consumed.index
        if self.received_log is not None:
            keep = consumed.received_chunks if consumed is not None else None
            self.received = self.received_log.open(self.session_id, keep)
        if setup.resumption:
            self.store.opened(self.session_id)
        self.queue.send(now, sm.setup_complete(), "setupComplete")
        if setup.resumption:
            self.queue.at(now, self._issue_handle)
        self._schedule_limits(now, setup)
        schedule_timed_actions(self.queue, self.scenario, self.progress, now)

    def _schedule_limits(self, now: float, setup: SetupInfo) -> None:
        ends: list[tuple[float, cr.CloseReason]] = []
        if self.limits.max_connection_s is not None:
            ends.append((self.opened_at + self.limits.max_connection_s, cr.LIFETIME_EXCEEDED))
        if self.limits.max_session_s is not None and not setup.compression:
            left = max(0.0, self.limits.max_session_s - self.session_elapsed_before)
            ends.append((now + left, cr.SESSION_LIMIT))
        if not ends:
            return
        end, reason = min(ends, key=lambda item: item[0])
        lead = min(GO_AWAY_LEAD_S, (end - now) / 2)
        self.queue.send(max(now, end - lead), sm.go_away(lead), "goAway")
        self.queue.at(max(now, end), Close(reason.code, reason.text))

    def _on_client_content(self, body: dict[str, Any], now: float) -> None:
        assert self.setup is not None
        rule = self.setup.info.client_content if self.setup.info else ClientContentRule.ANY
        seeding = self.setup.history_config and not self.heard_realtime_input and self.turn == 0
        if rule is ClientContentRule.NONE or (rule is ClientContentRule.SEED_ONLY and not seeding):
            raise Refusal.of(cr.INVALID_ARGUMENT)  # 3.1: only to seed history, and only with historyConfig
        turns = body.get("turns", [])
        assert self.input is not None
        self.input.frames.add(content_frames(turns))  # a turn's own images (docs/wire.md, "Video frames")
        if turns:
            self.history.append({"role": "clientContent", "content": f"{len(turns)} turn(s)"})
        self.barge_in(now, always=True)
        if body.get("turnComplete") is True:
            user = [c for c in turns if c.get("role", "user") == "user"] or turns
            parts = user[-1].get("parts", []) if user else []
            text = " ".join(p["text"] for p in parts if "text" in p)
            self.user_turn(now, Heard(text=text, frames=self.input.frames.take()))

    def _on_context_update(self, body: dict[str, Any]) -> None:
        """contextUpdate replaces the tools (and system instruction) mid-session; tool calls use the new names."""
        assert self.setup is not None
        if "tools" in body:
            self.setup.tools = list(body["tools"].get("tools", []))
            self.setup.function_names = tuple(declarations(self.setup.tools))

    # -- replies --------------------------------------------------------------------------------------------

    def reply_active(self) -> bool:
        """Whether a reply (or a tool call awaiting its response) is still in flight."""
        return bool(self.pending_replies or self.tools)

    def _issue_handle(self, now: float) -> None:
        assert self.setup is not None
        elapsed = self.session_elapsed_before + (now - self.opened_at)
        consumed = None
        if self.setup.transparent and self.input is not None:
            received = len(self.received) if self.received is not None else 0
            consumed = ConsumedState.capture(self.message_index, self.input, received)
        snapshot = Snapshot(
            self.turn, self.history, len(self.history), elapsed, self.session_id, self.progress, consumed
        )
        handle = self.store.issue(snapshot, now)
        index = self.message_index if consumed is not None and self.message_index >= 0 else None
        self.queue.send(now, sm.resumption_update(handle, True, index), "sessionResumptionUpdate")
        self.connection_audio.updated()

    def _not_resumable(self, when: float, tag: int | None) -> None:
        if self.setup is not None and self.setup.resumption:
            self.queue.send(when, sm.resumption_update("", False), "sessionResumptionUpdate", tag)
            self.connection_audio.updated()

    def _consumed_audio(self, body: dict[str, Any], now: float) -> None:
        """Audio was consumed: recorded (when the server keeps it), an update at least once per second of it under
        transparent resumption, and the connection's end once it received `max_connection_audio_s` of it."""
        assert self.setup is not None
        chunks, seconds = audio_blobs(body)
        if not chunks:
            return
        if self.received_log is not None and self.received is not None:
            self.received_log.add(self.received, chunks)
        self.connection_audio.add(seconds)
        if self.setup.transparent and self.connection_audio.update_due():
            if self.reply_active():
                self._not_resumable(now, None)
            else:
                self._issue_handle(now)
        if self.connection_audio.go_away_due():
            self.queue.send(now, sm.go_away(self.connection_audio.lead_s), "goAway")
        if self.connection_audio.spent():
            self.queue.at(now, Close(cr.LIFETIME_EXCEEDED.code, cr.LIFETIME_EXCEEDED.text))

    def schedule_reply(self, now: float, turn: int, spec: TurnSpec, reply: Reply) -> None:
        """Queue one model turn, streamed at real-time pace after whatever is already queued."""
        assert self.setup is not None
        if len(self.pending_replies) + len(self.tools) >= MAX_PENDING:
            self.log.warning("more than %d replies queued: closing with 1011", MAX_PENDING)
            self.queue.close_with(now, cr.OVERLOADED)
            return
        reply = shaped(reply, spec)
        tag = next(self._reply_ids)
        self.pending_replies.add(tag)
        start = max(now, self.busy_until) + spec.delay_ms / 1000
        self._not_resumable(start, tag)
        frames, end = lazy_reply_frames(
            reply, spec, start, chunk_ms=self.limits.reply_chunk_ms, speed=self.limits.reply_speed
        )
        self.queue.stream(frames, lambda t: self._reply_done(t, turn, reply, tag), tag)  # made as it is sent
        self.busy_until = end

    def _reply_done(self, now: float, turn: int, reply: Reply, tag: int) -> None:
        self.pending_replies.discard(tag)
        self.history.append(
            {"role": "model", "turn": turn, "content": reply.output_transcript or " ".join(reply.texts)}
        )
        self.settle(now)

    def barge_in(self, now: float, *, always: bool = False) -> None:
        """New user activity during a reply: interrupted, the rest dropped, pending tool calls cancelled."""
        assert self.setup is not None
        if not self.reply_active() or not (always or self.setup.interrupts):
            return
        self.cut_reply(now, cancel_calls=True)
        if self.setup.resumption:
            self.queue.at(now, self._issue_handle)

    def cut_reply(self, now: float, *, cancel_calls: bool) -> None:
        """Drop the rest of the reply in flight (`interrupted`, `turnComplete`); with `cancel_calls` the pending
        tool calls too (`toolCallCancellation`)."""
        self.queue.cancel(set(self.pending_replies))
        self.pending_replies.clear()
        self.busy_until = now
        self.queue.send(now, sm.interrupted(), "interrupted")
        if cancel_calls and self.tools:
            self.queue.send(now, sm.tool_call_cancellation(self.tools.cancel()), "toolCallCancellation")
        self.queue.send(now, sm.turn_complete(), "turnComplete")

    def send_tool_call(self, when: float, frame: bytes) -> None:
        """A toolCall: no resumption until it is answered (docs/wire.md, "goAway and resumption")."""
        self._not_resumable(when, None)
        self.queue.send(when, frame, "toolCall")

    def settle(self, now: float) -> None:
        """Nothing in flight any more: a resumption handle, when the setup asked for them."""
        if self.setup is not None and self.setup.resumption and not self.reply_active():
            self._issue_handle(now)

    def user_turn(self, now: float, heard: Heard) -> None:
        """A user turn ended: answer it as the scenario says."""
        assert self.setup is not None
        self.turn += 1
        self.progress.turns += 1
        turn = self.turn
        text = heard.text
        # An activity may hold audio and text (docs/wire.md, "Voice activity").
        spoke = text is None or heard.seconds > 0
        said = [f"{heard.seconds:.2f} s of audio"] if spoke else []
        described = " and ".join(said + ([clip_text(text)] if text is not None else []))
        self.history.append({"role": "user", "turn": turn, "content": described})
        spec = self.scenario.turn(self.progress.turns)
        self.log.info("turn %d: %s", turn, described)
        for action in ("drop", "stall", "malformed", "quota"):
            if getattr(spec, action):
                misbehave(self.queue, now + spec.delay_ms / 1000, action)
                return
        if spec.close is not None:
            self.queue.close_now(now + spec.delay_ms / 1000, spec.close.code, spec.close.reason)
            return
        setup = self.setup

        def build(extra: str = "") -> Reply:
            audio, heard_s = (heard.audio, heard.seconds) if spoke else (None, None)
            text_modality, saw = "TEXT" in setup.modalities, heard.frames.describe()
            return echo_reply(
                turn,
                audio=audio,
                text=text,
                text_modality=text_modality,
                heard_s=heard_s,
                saw=saw,
                extra=extra,
                tools=setup.tools,
            )

        if not self.calls.start(now, turn, spec, build, text or "", described):
            self.schedule_reply(now, turn, spec, build())
