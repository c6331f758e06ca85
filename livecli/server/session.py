"""One connection's server-side logic, sans I/O: frames in, timed actions out.

The pump calls `receive(frame, now)` for each client frame and `tick(now)` whenever `deadline()` passes;
`tick` returns the actions due (send a frame, close, drop the TCP connection). Everything time-dependent —
VAD, real-time reply pacing, goAway, scenario timers — runs on the `now` it is given, so tests drive it with a
fake clock.
"""

from __future__ import annotations

import heapq
import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from livecli.protocol import server_messages as sm
from livecli.protocol.models import ClientContentRule
from livecli.server.replies import OUTPUT_RATE, Reply, echo_reply, resample_pcm16, silence
from livecli.server.resumption import HandleStore, Snapshot
from livecli.server.scenarios import QUOTA_REASON, Scenario, TimedAction, TurnSpec
from livecli.server.session_turns import TurnsMixin
from livecli.server.vad import EnergyVad, VadParams
from livecli.server.validate import INVALID_ARGUMENT, Refusal, SetupInfo, check_setup, parse_client_frame

__all__ = ["Close", "Drop", "Send", "ServerSession", "SessionLimits"]

# A connection reaching --max-connection-s: the service's reason is not on record (protocol.md §5: code only).
LIFETIME_REASON = "Connection lifetime exceeded."
SESSION_REASON = "Session duration limit exceeded."


@dataclass(frozen=True)
class Send:
    """Send one binary frame; `kind` names it for logs and recordings."""

    frame: bytes
    kind: str


@dataclass(frozen=True)
class Close:
    """Close the WebSocket with a code and reason."""

    code: int
    reason: str


@dataclass(frozen=True)
class Drop:
    """Abort the TCP connection without a close frame."""


Action = Send | Close | Drop
Item = Action | Callable[[float], None]


@dataclass(frozen=True)
class SessionLimits:
    """Server-wide settings a session needs."""

    reply_speed: float = 1.0
    reply_chunk_ms: int = 40
    max_connection_s: float | None = None
    max_session_s: float | None = None


class ServerSession(TurnsMixin):
    """The state of one client connection, from upgrade to close."""

    def __init__(
        self,
        scenario: Scenario,
        store: HandleStore,
        now: float,
        limits: SessionLimits | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        self.scenario = scenario
        self.store = store
        self.limits = limits or SessionLimits()
        self.log = logger or logging.getLogger("livecli.server")
        self.opened_at = now
        self.setup: SetupInfo | None = None
        self.closed = False
        self.stalled = False
        self.turn = 0  # session turn number (continues across resumption)
        self.connection_turns = 0  # which scenario turn comes next
        self.history: list[dict[str, Any]] = []
        self.session_elapsed_before = 0.0
        self.message_index = -1  # index of the last client frame received; setup is 0
        self.consumed_index = 0
        self.vad: EnergyVad | None = None
        self.activity_open = False
        self.activity_audio: list[bytes] = []
        self.activity_rate = 16000
        self.busy_until = now
        self.pending_replies: set[int] = set()
        self.pending_tools: dict[str, tuple[int, Callable[[float, dict[str, Any]], None]]] = {}
        self._queue: list[tuple[float, int, int | None, Item]] = []
        self._seq = itertools.count()
        self._reply_ids = itertools.count(1)

    # -- scheduling -----------------------------------------------------------------------------------------

    def _at(self, when: float, item: Item, tag: int | None = None) -> None:
        heapq.heappush(self._queue, (when, next(self._seq), tag, item))

    def _send(self, when: float, frame: bytes, kind: str, tag: int | None = None) -> None:
        self._at(when, Send(frame, kind), tag)

    def _cancel(self, tags: set[int]) -> None:
        self._queue = [entry for entry in self._queue if entry[2] not in tags]
        heapq.heapify(self._queue)

    def deadline(self) -> float | None:
        """The next time `tick` has something to do, or None."""
        if self.closed or self.stalled:
            return None
        times = [self._queue[0][0]] if self._queue else []
        if self.vad is not None and (vad_due := self.vad.deadline()) is not None:
            times.append(vad_due)
        return min(times) if times else None

    def tick(self, now: float) -> list[Action]:
        """The actions due at `now`, in order."""
        out: list[Action] = []
        if self.vad is not None and not self.closed and not self.stalled:
            self._vad_events(self.vad.poll(now), now)
        while self._queue and self._queue[0][0] <= now + 1e-9 and not self.stalled:
            _, _, _, item = heapq.heappop(self._queue)
            if isinstance(item, Send | Close | Drop):
                out.append(item)
                if isinstance(item, Close | Drop):
                    self._finish()
                    break
            else:
                item(now)
        return out

    def _finish(self) -> None:
        self.closed = True
        self._queue.clear()

    def close_now(self, now: float, code: int, reason: str) -> None:
        """Schedule an immediate close (drops everything still queued)."""
        self._queue.clear()
        self._at(now, Close(code, reason))

    def stall(self) -> None:
        """Stop answering altogether (the socket stays open)."""
        self.stalled = True
        self._queue.clear()

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
                self.on_realtime_input(body, now)
            elif kind == "clientContent":
                self._on_client_content(body, now)
            elif kind == "toolResponse":
                self.on_tool_response(body, now)
        except Refusal as refusal:
            self.log.info("refused: %s %s", refusal.code, refusal.reason)
            self.close_now(now, refusal.code, refusal.reason)

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
            self.history = list(snapshot.history)
            self.session_elapsed_before = snapshot.session_elapsed_s
            self.log.info("resumed a session at turn %d", self.turn)
        self.setup = setup
        if setup.automatic_vad:
            self.vad = EnergyVad(VadParams.from_setup(setup.vad))
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
        if rule is ClientContentRule.NONE or (
            rule is ClientContentRule.SEED_ONLY and not self.setup.history_config
        ):
            raise Refusal(1007, INVALID_ARGUMENT)
        turns = body.get("turns", [])
        for content in turns:
            self.history.append({"role": content.get("role", "user"), "content": "clientContent"})
        self.barge_in(now, always=True)
        if body.get("turnComplete") is True:
            user = [c for c in turns if c.get("role", "user") == "user"] or turns
            parts = user[-1].get("parts", []) if user else []
            text = " ".join(str(p["text"]) for p in parts if "text" in p)
            self.user_turn(now, text=text)

    # -- replies --------------------------------------------------------------------------------------------

    def reply_active(self) -> bool:
        """Whether a reply (or a tool call awaiting its response) is still in flight."""
        return bool(self.pending_replies or self.pending_tools)

    def _issue_handle(self, now: float) -> None:
        assert self.setup is not None
        elapsed = self.session_elapsed_before + (now - self.opened_at)
        handle = self.store.issue(Snapshot(self.turn, tuple(self.history), elapsed), now)
        index = self.consumed_index if self.setup.transparent else None
        self._send(now, sm.resumption_update(handle, True, index), "sessionResumptionUpdate")

    def _not_resumable(self, when: float, tag: int | None) -> None:
        if self.setup is not None and self.setup.resumption:
            self._send(when, sm.resumption_update("", False), "sessionResumptionUpdate", tag)

    def schedule_reply(self, now: float, turn: int, spec: TurnSpec, reply: Reply) -> None:
        """Queue one model turn, streamed at real-time pace after whatever is already queued."""
        assert self.setup is not None
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
        self, now: float, *, audio: bytes | None = None, rate: int = 16000, text: str | None = None
    ) -> None:
        """A user turn ended: answer it as the scenario says."""
        assert self.setup is not None
        self.turn += 1
        self.connection_turns += 1
        self.consumed_index = self.message_index
        turn = self.turn
        described = text if text is not None else f"{len(audio or b'') / 2 / rate:.2f} s of audio"
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
            reply = echo_reply(turn, audio=audio, rate=rate, text=text, text_modality=text_modality)
            if extra and reply.output_transcript:
                reply.output_transcript += extra
            if extra and reply.texts:
                reply.texts[-1] += extra
            return reply

        if spec.tool_call is not None:
            self.call_tool(now, turn, spec, build, described)
        else:
            self.schedule_reply(now, turn, spec, build())

    def resample_in(self, pcm: bytes, rate: int) -> bytes:
        """Input audio at 16 kHz (for the VAD)."""
        return pcm if rate == 16000 else resample_pcm16(pcm, rate, 16000)
