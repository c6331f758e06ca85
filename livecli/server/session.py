"""One connection's server-side logic, sans I/O: frames in, timed actions out.

The pump calls `receive(frame, now)` for each client frame and `tick(now)` whenever `deadline()` passes;
`tick` returns the actions due (send a frame, close, drop the TCP connection). Everything time-dependent —
VAD, real-time reply pacing, goAway, scenario timers — runs on the `now` it is given, so tests drive it with a
fake clock. An internal error closes with 1011 "Internal error encountered." (logged with its traceback).

Choices where the service's behaviour is not on record (protocol.md has no source for them):
- no setup within `setup_timeout_s` (30 s) → close 1011 with a DEADLINE_EXCEEDED reason;
- more than MAX_PENDING replies/tool calls queued (a flood under NO_INTERRUPTION) → close 1011 overload;
- a user turn keeps MAX_TURN_AUDIO_S (120 s) of audio for the echo; longer speech is counted, not stored.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from livecli.protocol import server_messages as sm
from livecli.protocol.models import ClientContentRule
from livecli.server.replies import (
    INPUT_RATE,
    MAX_TURN_AUDIO_S,
    OUTPUT_RATE,
    InboundAudio,
    Reply,
    clip_text,
    echo_reply,
    silence,
)
from livecli.server.resumption import HandleStore, Snapshot, new_session_id
from livecli.server.scenarios import QUOTA_REASON, Scenario, TimedAction, TurnSpec
from livecli.server.session_queue import Action, ActionQueue, Close, Drop, Send
from livecli.server.session_turns import TurnsMixin
from livecli.server.vad import EnergyVad, VadParams
from livecli.server.validate import INVALID_ARGUMENT, Refusal, SetupInfo, check_setup, parse_client_frame

__all__ = ["Close", "Drop", "Send", "ServerSession", "SessionLimits"]

# A connection reaching --max-connection-s: the service's reason is not on record (protocol.md §5: code only).
LIFETIME_REASON = "Connection lifetime exceeded."
SESSION_REASON = "Session duration limit exceeded."
SETUP_TIMEOUT_REASON = "RPC::DEADLINE_EXCEEDED: no setup message received in time"
MAX_PENDING = 16
OVERLOAD_REASON = "The service is currently unavailable."


@dataclass(frozen=True)
class SessionLimits:
    """Server-wide settings a session needs."""

    reply_speed: float = 1.0
    reply_chunk_ms: int = 40
    max_connection_s: float | None = None
    max_session_s: float | None = None
    setup_timeout_s: float | None = 30.0


class ServerSession(ActionQueue, TurnsMixin):
    """The state of one client connection, from upgrade to close."""

    def __init__(
        self,
        scenario: Scenario,
        store: HandleStore,
        now: float,
        limits: SessionLimits | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        super().__init__()
        self.scenario = scenario
        self.store = store
        self.limits = limits or SessionLimits()
        self.log = logger or logging.getLogger("livecli.server")
        self.opened_at = now
        self.setup: SetupInfo | None = None
        self.session_id = new_session_id()
        self.turn = 0  # session turn number (continues across resumption)
        self.connection_turns = 0  # which scenario turn comes next
        self.history: list[dict[str, Any]] = []  # append-only: resumption snapshots share it
        self.session_elapsed_before = 0.0
        self.message_index = -1  # index of the last client frame received; setup is 0
        self.consumed_index = 0
        self.heard_realtime_input = False
        self.vad: EnergyVad | None = None
        self.inbound = InboundAudio()
        self.activity_open = False
        self.activity_audio: list[bytes] = []
        self.activity_bytes = 0
        self.busy_until = now
        self.pending_replies: set[int] = set()
        self.pending_tools: dict[str, tuple[int, Callable[[float, dict[str, Any]], None]]] = {}
        self._reply_ids = itertools.count(1)
        if self.limits.setup_timeout_s is not None:
            self._at(now + self.limits.setup_timeout_s, self._setup_deadline)

    def deadline(self) -> float | None:
        """The next time `tick` has something to do, or None."""
        due = self._queue_deadline()
        if self.vad is not None and not (self.closed or self.stalled):
            vad_due = self.vad.deadline()
            if vad_due is not None:
                due = vad_due if due is None else min(due, vad_due)
        return due

    def tick(self, now: float) -> list[Action]:
        """The actions due at `now`, in order."""
        if self.vad is not None and not self.closed and not self.stalled:
            try:
                self._vad_events(self.vad.poll(now), now)
            except Exception:
                self.fail(now)
        return self._run_due(now)

    def connection_closed(self, now: float) -> None:
        """The socket is gone: nothing more is sent; the session's handles now expire `ttl` after `now`."""
        self._finish()
        if self.setup is not None and self.setup.resumption:
            self.store.closed(self.session_id, now)

    def _setup_deadline(self, now: float) -> None:
        if self.setup is None:
            self.close_now(now, 1011, SETUP_TIMEOUT_REASON)

    # -- input ----------------------------------------------------------------------------------------------

    def receive(self, frame: str | bytes, now: float) -> None:
        """Handle one client frame that arrived at `now`."""
        if self.closed or self.stalled:
            return
        self.message_index += 1
        try:
            kind, body = parse_client_frame(frame)
            if self.setup is None:
                if kind != "setup":
                    raise Refusal(1007, INVALID_ARGUMENT)
                self._on_setup(body, now)
            elif kind == "setup":
                raise Refusal(1007, INVALID_ARGUMENT)
            elif kind == "realtimeInput":
                self.heard_realtime_input = True
                self.on_realtime_input(body, now)
            elif kind == "clientContent":
                self._on_client_content(body, now)
            elif kind == "toolResponse":
                self.on_tool_response(body, now)
            elif kind == "contextUpdate":
                self._on_context_update(body)
        except Refusal as refusal:
            self.log.info("refused: %s %s", refusal.code, refusal.reason)
            self.close_now(now, refusal.code, refusal.reason)
        except Exception:
            self.fail(now)

    def _on_setup(self, body: dict[str, Any], now: float) -> None:
        setup = check_setup(body)
        for warning in setup.warnings:
            self.log.warning(warning)
        if self.scenario.setup_close is not None:
            raise Refusal(self.scenario.setup_close.code, self.scenario.setup_close.reason)
        if setup.resume_handle is not None:
            snapshot = self.store.resolve(setup.resume_handle, now)
            if snapshot is None:
                raise Refusal(1007, INVALID_ARGUMENT)
            self.turn = snapshot.turns
            self.history = snapshot.conversation()
            self.session_elapsed_before = snapshot.session_elapsed_s
            self.session_id = snapshot.session_id
            self.log.info("resumed a session at turn %d", self.turn)
        self.setup = setup
        if setup.resumption:
            self.store.opened(self.session_id)
        if setup.automatic_vad:
            self.vad = EnergyVad(VadParams.from_setup(setup.vad), max_turn_s=MAX_TURN_AUDIO_S)
        self._send(now, sm.setup_complete(), "setupComplete")
        self.consumed_index = self.message_index
        if setup.resumption:
            self._at(now, self._issue_handle)
        self._schedule_limits(now, setup)
        for timed in self.scenario.at:
            self._at(now + timed.t, lambda t, a=timed: self._timed_action(a, t))  # type: ignore[misc]

    def _schedule_limits(self, now: float, setup: SetupInfo) -> None:
        ends: list[tuple[float, str]] = []
        if self.limits.max_connection_s is not None:
            ends.append((self.opened_at + self.limits.max_connection_s, LIFETIME_REASON))
        if self.limits.max_session_s is not None and not setup.compression:
            left = max(0.0, self.limits.max_session_s - self.session_elapsed_before)
            ends.append((now + left, SESSION_REASON))
        if not ends:
            return
        end, reason = min(ends)
        lead = min(50.0, (end - now) / 2)
        self._send(max(now, end - lead), sm.go_away(lead), "goAway")
        self._at(max(now, end), Close(1008, reason))

    def _timed_action(self, timed: TimedAction, now: float) -> None:
        if timed.action == "goaway":
            self._send(now, sm.go_away(timed.time_left_s), "goAway")
            self._at(now + timed.time_left_s, Close(1008, LIFETIME_REASON))
        else:
            self.misbehave(now, timed.action, timed.code, timed.reason)

    def misbehave(self, now: float, action: str, code: int = 1011, reason: str = "") -> None:
        """Close / drop / stall / malformed frame / quota close, now."""
        if action == "close":
            self.close_now(now, code, reason)
        elif action == "quota":
            self.close_now(now, 1011, QUOTA_REASON)
        elif action == "drop":
            self._queue.clear()
            self._at(now, Drop())
        elif action == "stall":
            self.stall()
        elif action == "malformed":
            self._send(now, b'{"serverContent":{"modelTurn":{"parts":[{"inlineData":', "malformed")

    def _on_client_content(self, body: dict[str, Any], now: float) -> None:
        assert self.setup is not None
        rule = self.setup.info.client_content if self.setup.info else ClientContentRule.ANY
        seeding = self.setup.history_config and not self.heard_realtime_input and self.turn == 0
        if rule is ClientContentRule.NONE or (rule is ClientContentRule.SEED_ONLY and not seeding):
            raise Refusal(1007, INVALID_ARGUMENT)  # 3.1: only to seed history, and only with historyConfig
        turns = body.get("turns", [])
        if turns:
            self.history.append({"role": "clientContent", "content": f"{len(turns)} turn(s)"})
        self.barge_in(now, always=True)
        if body.get("turnComplete") is True:
            user = [c for c in turns if c.get("role", "user") == "user"] or turns
            parts = user[-1].get("parts", []) if user else []
            text = " ".join(p["text"] for p in parts if "text" in p)
            self.user_turn(now, text=text)

    def _on_context_update(self, body: dict[str, Any]) -> None:
        """contextUpdate replaces the tools (and system instruction) mid-session; tool calls use the new names."""
        assert self.setup is not None
        if "tools" in body:
            self.setup.function_names = tuple(
                decl["name"]
                for tool in body["tools"].get("tools", [])
                for decl in tool.get("functionDeclarations", [])
                if decl.get("name")
            )

    # -- replies --------------------------------------------------------------------------------------------

    def reply_active(self) -> bool:
        """Whether a reply (or a tool call awaiting its response) is still in flight."""
        return bool(self.pending_replies or self.pending_tools)

    def _issue_handle(self, now: float) -> None:
        assert self.setup is not None
        elapsed = self.session_elapsed_before + (now - self.opened_at)
        snapshot = Snapshot(self.turn, self.history, len(self.history), elapsed, self.session_id)
        handle = self.store.issue(snapshot, now)
        index = self.consumed_index if self.setup.transparent else None
        self._send(now, sm.resumption_update(handle, True, index), "sessionResumptionUpdate")

    def _not_resumable(self, when: float, tag: int | None) -> None:
        if self.setup is not None and self.setup.resumption:
            self._send(when, sm.resumption_update("", False), "sessionResumptionUpdate", tag)

    def schedule_reply(self, now: float, turn: int, spec: TurnSpec, reply: Reply) -> None:
        """Queue one model turn, streamed at real-time pace after whatever is already queued."""
        assert self.setup is not None
        if len(self.pending_replies) + len(self.pending_tools) >= MAX_PENDING:
            self.log.warning("more than %d replies queued: closing with 1011", MAX_PENDING)
            self.close_now(now, 1011, OVERLOAD_REASON)
            return
        reply = self._apply_spec(spec, reply)
        tag = next(self._reply_ids)
        self.pending_replies.add(tag)
        start = max(now, self.busy_until) + spec.delay_ms / 1000
        self._not_resumable(start, tag)
        if reply.input_transcript is not None:
            self._send(start, sm.input_transcription(reply.input_transcript), "inputTranscription", tag)
        speed = self.limits.reply_speed
        chunk_bytes = OUTPUT_RATE * 2 * self.limits.reply_chunk_ms // 1000
        chunk_s = self.limits.reply_chunk_ms / 1000 / speed if speed > 0 else 0.0
        audio = reply.audio
        cut = len(audio)
        if spec.interrupt_after_ms is not None:
            cut = min(cut, OUTPUT_RATE * 2 * spec.interrupt_after_ms // 1000)
        when = start
        for index, offset in enumerate(range(0, cut, chunk_bytes)):
            when = start + index * chunk_s
            piece = audio[offset : min(offset + chunk_bytes, cut)]
            self._send(when, sm.audio_content(piece), "audio", tag)
            if index == 0 and reply.output_transcript is not None:
                self._send(when, sm.output_transcription(reply.output_transcript), "outputTranscription", tag)
        if not audio and reply.output_transcript is not None:
            self._send(when, sm.output_transcription(reply.output_transcript), "outputTranscription", tag)
        for text in reply.texts:
            self._send(when, sm.text_content(text), "text", tag)
        end = when + (chunk_s if cut else 0.0)
        if spec.interrupt_after_ms is not None:
            self._send(end, sm.interrupted(), "interrupted", tag)
            self._send(end, sm.turn_complete(), "turnComplete", tag)
        else:
            self._send(end, sm.generation_complete(), "generationComplete", tag)
            if not spec.generation_complete_only:
                self._send(end, sm.turn_complete(reply.usage), "turnComplete", tag)
        self._at(end, lambda t, n=turn, r=reply, g=tag: self._reply_done(t, n, r, g), tag)  # type: ignore[misc]
        self.busy_until = end

    def _apply_spec(self, spec: TurnSpec, reply: Reply) -> Reply:
        if spec.silent:
            reply.audio = silence(1.0)
        if spec.audio is not None:
            reply.audio = spec.audio
        if spec.input_transcript is not None:
            reply.input_transcript = spec.input_transcript
        if spec.output_transcript is not None:
            reply.output_transcript = spec.output_transcript
        if spec.text:
            reply.texts = list(spec.text)
        return reply

    def _reply_done(self, now: float, turn: int, reply: Reply, tag: int) -> None:
        self.pending_replies.discard(tag)
        self.history.append(
            {"role": "model", "turn": turn, "content": reply.output_transcript or " ".join(reply.texts)}
        )
        if self.setup is not None and self.setup.resumption and not self.reply_active():
            self._issue_handle(now)

    def barge_in(self, now: float, *, always: bool = False) -> None:
        """New user activity during a reply: interrupted, the rest dropped, pending tool calls cancelled."""
        assert self.setup is not None
        if not self.reply_active() or not (always or self.setup.interrupts):
            return
        self._cancel(set(self.pending_replies))
        self.pending_replies.clear()
        self.busy_until = now
        self._send(now, sm.interrupted(), "interrupted")
        if self.pending_tools:
            self._send(now, sm.tool_call_cancellation(list(self.pending_tools)), "toolCallCancellation")
            self.pending_tools.clear()
        self._send(now, sm.turn_complete(), "turnComplete")
        if self.setup.resumption:
            self._at(now, self._issue_handle)

    def user_turn(
        self, now: float, *, audio: bytes | None = None, heard_s: float | None = None, text: str | None = None
    ) -> None:
        """A user turn ended (16 kHz `audio` lasting `heard_s`, or `text`): answer it as the scenario says."""
        assert self.setup is not None
        self.turn += 1
        self.connection_turns += 1
        self.consumed_index = self.message_index
        turn = self.turn
        if text is None and heard_s is None:
            heard_s = len(audio or b"") / 2 / INPUT_RATE
        described = clip_text(text) if text is not None else f"{heard_s:.2f} s of audio"
        self.history.append({"role": "user", "turn": turn, "content": described})
        spec = self.scenario.turn(self.connection_turns)
        self.log.info("turn %d: %s", turn, described)
        for action in ("drop", "stall", "malformed", "quota"):
            if getattr(spec, action):
                self.misbehave(now + spec.delay_ms / 1000, action)
                return
        if spec.close is not None:
            self.close_now(now + spec.delay_ms / 1000, spec.close.code, spec.close.reason)
            return
        text_modality = "TEXT" in self.setup.modalities

        def build(extra: str = "") -> Reply:
            reply = echo_reply(turn, audio=audio, text=text, text_modality=text_modality, heard_s=heard_s)
            if extra and reply.output_transcript:
                reply.output_transcript += extra
            if extra and reply.texts:
                reply.texts[-1] += extra
            return reply

        if spec.tool_call is not None:
            self.call_tool(now, turn, spec, build, described)
        else:
            self.schedule_reply(now, turn, spec, build())
