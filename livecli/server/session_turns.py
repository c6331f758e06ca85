"""Where user turns come from: activity brackets, the VAD, realtimeInput text, and tool round trips.

A mixin of ServerSession (split out to keep modules small); the attributes it uses are declared below.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from typing import Any

from livecli.protocol import server_messages as sm
from livecli.server.replies import INPUT_RATE, MAX_TURN_AUDIO_S, InboundAudio, Reply
from livecli.server.scenarios import TurnSpec
from livecli.server.vad import EnergyVad
from livecli.server.validate import INVALID_ARGUMENT, Refusal, SetupInfo, decode_audio_blob

__all__ = ["TurnsMixin"]

_call_ids = itertools.count(1)


class TurnsMixin:
    """Input handling for ServerSession."""

    setup: SetupInfo | None
    vad: EnergyVad | None
    activity_open: bool
    activity_audio: list[bytes]
    activity_bytes: int
    inbound: InboundAudio
    pending_tools: dict[str, tuple[int, Callable[[float, dict[str, Any]], None]]]
    log: logging.Logger
    scenario: Any

    def barge_in(self, now: float, *, always: bool = False) -> None: ...
    def user_turn(
        self, now: float, *, audio: bytes | None = None, heard_s: float | None = None, text: str | None = None
    ) -> None: ...
    def schedule_reply(self, now: float, turn: int, spec: TurnSpec, reply: Reply) -> None: ...
    def close_now(self, now: float, code: int, reason: str) -> None: ...
    def _send(self, when: float, frame: bytes, kind: str, tag: int | None = None) -> None: ...
    def _not_resumable(self, when: float, tag: int | None) -> None: ...

    def on_realtime_input(self, body: dict[str, Any], now: float) -> None:
        """audio / mediaChunks / text / activityStart / activityEnd / audioStreamEnd (video is accepted)."""
        assert self.setup is not None
        if "audio" in body:
            self._on_audio(*decode_audio_blob(body["audio"], "realtime_input.audio"), now)
        for index, blob in enumerate(body.get("mediaChunks", [])):
            if str(blob.get("mimeType", "audio/pcm")).startswith("audio/"):
                self._on_audio(*decode_audio_blob(blob, f"realtime_input.media_chunks[{index}]"), now)
        if "activityStart" in body:
            if self.setup.automatic_vad:
                raise Refusal(1007, INVALID_ARGUMENT)
            self.barge_in(now)
            self.activity_open = True
            self.activity_audio, self.activity_bytes = [], 0
        if "activityEnd" in body:
            if self.setup.automatic_vad:
                raise Refusal(1007, INVALID_ARGUMENT)
            if self.activity_open:
                self._keep(self.inbound.flush())
                self.activity_open = False
                audio = b"".join(self.activity_audio)
                heard_s = self.activity_bytes / 2 / INPUT_RATE
                self.activity_audio, self.activity_bytes = [], 0
                self.user_turn(now, audio=audio, heard_s=heard_s)
        if "text" in body:
            self.barge_in(now)
            self.user_turn(now, text=body["text"])
        if body.get("audioStreamEnd") is True and self.vad is not None and not self.scenario.stream_end_ignored:
            self._vad_events(self.vad.feed(self.inbound.flush(), now) + self.vad.end(), now)

    def _on_audio(self, pcm: bytes, rate: int, now: float) -> None:
        """Audio arrives at any declared rate and is heard at 16 kHz (resampled as it streams in)."""
        if self.vad is not None:
            self._vad_events(self.vad.feed(self.inbound.convert(pcm, rate), now), now)
        elif self.activity_open:
            self._keep(self.inbound.convert(pcm, rate))

    def _keep(self, pcm: bytes) -> None:
        """Add to the open activity's audio: at most MAX_TURN_AUDIO_S is stored, all of it is counted."""
        cap = int(MAX_TURN_AUDIO_S * INPUT_RATE) * 2
        room = cap - min(self.activity_bytes, cap)
        if room > 0 and pcm:
            self.activity_audio.append(pcm[:room])
        self.activity_bytes += len(pcm)

    def _vad_events(self, events: list[str], now: float) -> None:
        assert self.vad is not None
        for event in events:
            if event == "start":
                self.barge_in(now)
            else:
                self.user_turn(now, audio=self.vad.take_turn(), heard_s=self.vad.turn_s)

    def call_tool(self, now: float, turn: int, spec: TurnSpec, build: Callable[[str], Reply], heard: str) -> None:
        """Send a toolCall; the reply follows the matching toolResponse."""
        assert self.setup is not None and spec.tool_call is not None
        tool = spec.tool_call
        name = tool.name or (self.setup.function_names[0] if self.setup.function_names else "lookup")
        call_id = f"call-{next(_call_ids)}"
        args = tool.args if tool.args is not None else {"query": heard}
        self._not_resumable(now + spec.delay_ms / 1000, None)
        self._send(
            now + spec.delay_ms / 1000, sm.tool_call([{"id": call_id, "name": name, "args": args}]), "toolCall"
        )

        def answered(when: float, response: dict[str, Any]) -> None:
            if tool.expect is not None and not _contains(response.get("response"), tool.expect):
                self.close_now(when, 1007, f"toolResponse for {name} does not match the scenario")
                return
            result = response.get("response")
            reply_spec = TurnSpec(**{**spec.__dict__, "tool_call": None, "delay_ms": 0})
            self.schedule_reply(when, turn, reply_spec, build(f"; {name} returned {_short(result)}"))

        self.pending_tools[call_id] = (turn, answered)

    def on_tool_response(self, body: dict[str, Any], now: float) -> None:
        """Match each functionResponse to its pending call by id; unknown ids are logged and ignored."""
        for response in body.get("functionResponses", []):
            entry = self.pending_tools.pop(str(response.get("id")), None)
            if entry is None:
                self.log.warning("toolResponse for unknown call id %r", response.get("id"))
                continue
            entry[1](now, response)


def _contains(actual: Any, expected: Any) -> bool:
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            k in actual and _contains(actual[k], v) for k, v in expected.items()
        )
    return bool(actual == expected)


def _short(value: Any) -> str:
    import json

    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:77] + "..."
