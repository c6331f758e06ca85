"""ServerSession sans I/O on a fake clock: pacing, barge-in both ways, tool calls, resumption, goAway."""

from __future__ import annotations

import base64
import json
from typing import Any

from livecli.server.probe import speechlike
from livecli.server.resumption import HandleStore
from livecli.server.scenarios import BUILTIN
from livecli.server.session import Close, Send, ServerSession, SessionLimits
from livecli.server.validate import INVALID_ARGUMENT

MODEL = "models/gemini-3.8-live"
NO_VAD = {"realtimeInputConfig": {"automaticActivityDetection": {"disabled": True}}}


class Harness:
    """A session, its fake clock, and everything it sent as (time, kind, message)."""

    def __init__(self, scenario: str = "echo", store: HandleStore | None = None, **limits: Any) -> None:
        self.now = 0.0
        self.store = store if store is not None else HandleStore(7200)
        self.session = ServerSession(BUILTIN[scenario], self.store, self.now, SessionLimits(**limits))
        self.sent: list[tuple[float, str, Any]] = []

    def send(self, message: dict[str, Any] | str) -> None:
        self.session.receive(message if isinstance(message, str) else json.dumps(message), self.now)
        self.run_until(self.now)

    def run_until(self, until: float) -> None:
        while True:
            for action in self.session.tick(self.now):
                if isinstance(action, Send):
                    self.sent.append((self.now, action.kind, json.loads(action.frame)))
                else:
                    self.sent.append((self.now, type(action).__name__, action))
            due = self.session.deadline()
            if due is None or due > until:
                self.now = max(self.now, until)
                return
            self.now = max(self.now, due)

    def kinds(self) -> list[str]:
        return [kind for _, kind, _ in self.sent]

    def take(self) -> list[tuple[float, str, Any]]:
        out, self.sent = self.sent, []
        return out

    def audio(self, pcm: bytes) -> None:
        self.send({"realtimeInput": {"audio": {"data": base64.b64encode(pcm).decode(), "mimeType": "audio/pcm"}}})

    def stream(self, pcm: bytes, chunk_s: float = 0.04) -> None:
        step = int(32000 * chunk_s)
        for offset in range(0, len(pcm), step):
            self.audio(pcm[offset : offset + step])
            self.run_until(self.now + chunk_s)

    def activity_turn(self, pcm: bytes) -> None:
        self.send({"realtimeInput": {"activityStart": {}}})
        self.audio(pcm)
        self.send({"realtimeInput": {"activityEnd": {}}})


def test_reply_is_paced_in_real_time() -> None:
    h = Harness(reply_speed=1.0, reply_chunk_ms=40)
    h.send({"setup": {"model": MODEL, **NO_VAD}})
    h.take()
    h.activity_turn(speechlike(1.0))
    h.run_until(10)
    audio_times = [t for t, kind, _ in h.sent if kind == "audio"]
    assert len(audio_times) == 30  # 0.2 s chime + 1.0 s echo = 1.2 s in 40 ms chunks
    assert audio_times[-1] - audio_times[0] == 29 * 0.04
    assert h.kinds()[-2:] == ["generationComplete", "turnComplete"]


def test_barge_in_interrupts_and_cancels_the_rest() -> None:
    h = Harness(reply_speed=1.0)
    h.send({"setup": {"model": MODEL, **NO_VAD}})
    h.activity_turn(speechlike(2.0))
    h.run_until(h.now + 0.5)
    h.take()
    h.send({"realtimeInput": {"activityStart": {}}})
    assert h.kinds() == ["interrupted", "turnComplete"]
    h.take()
    h.run_until(h.now + 5)
    assert "audio" not in h.kinds()  # the rest of the reply was dropped


def test_no_interruption_lets_the_reply_finish_then_answers() -> None:
    h = Harness(reply_speed=1.0)
    setup = {
        "realtimeInputConfig": {
            "automaticActivityDetection": {"disabled": True},
            "activityHandling": "NO_INTERRUPTION",
        }
    }
    h.send({"setup": {"model": MODEL, **setup}})
    h.activity_turn(speechlike(1.0))
    h.run_until(h.now + 0.3)
    h.activity_turn(speechlike(0.5, seed=4))
    h.run_until(h.now + 10)
    kinds = h.kinds()
    assert "interrupted" not in kinds
    assert kinds.count("turnComplete") == 2
    transcripts = [
        m["serverContent"]["outputTranscription"]["text"] for _, k, m in h.sent if k == "outputTranscription"
    ]
    assert transcripts == ["turn 1: heard 1.00 s of audio", "turn 2: heard 0.50 s of audio"]


def test_vad_barge_in_cancels_a_pending_tool_call() -> None:
    h = Harness("tool-call", reply_speed=1.0)
    h.send(
        {
            "setup": {
                "model": MODEL,
                "realtimeInputConfig": {"automaticActivityDetection": {"silenceDurationMs": 200}},
            }
        }
    )
    h.stream(speechlike(0.5) + bytes(16000))
    calls = [m for _, k, m in h.sent if k == "toolCall"]
    assert calls and calls[0]["toolCall"]["functionCalls"][0]["name"] == "lookup"
    call_id = calls[0]["toolCall"]["functionCalls"][0]["id"]
    h.take()
    h.stream(speechlike(0.3, seed=9))
    assert h.kinds()[:3] == ["interrupted", "toolCallCancellation", "turnComplete"]
    assert h.sent[1][2] == {"toolCallCancellation": {"ids": [call_id]}}


def test_tool_response_completes_the_turn() -> None:
    h = Harness("tool-call", reply_speed=0)
    tools = [{"functionDeclarations": [{"name": "get_weather", "description": "d"}]}]
    h.send({"setup": {"model": MODEL, "tools": tools, **NO_VAD}})
    h.send({"realtimeInput": {"text": "weather in Paris"}})
    ((_, _, call),) = [s for s in h.take() if s[1] == "toolCall"]
    fc = call["toolCall"]["functionCalls"][0]
    assert fc["name"] == "get_weather" and fc["args"] == {"query": "weather in Paris"}
    h.send(
        {
            "tool_response": {
                "function_responses": [{"id": fc["id"], "name": "get_weather", "response": {"result": "sunny"}}]
            }
        }
    )
    texts = [m["serverContent"]["outputTranscription"]["text"] for _, k, m in h.sent if k == "outputTranscription"]
    assert texts == ['turn 1: heard "weather in Paris"; get_weather returned {"result":"sunny"}']
    assert h.kinds()[-1] == "turnComplete"


def test_resumption_continues_history_and_turn_count() -> None:
    store = HandleStore(7200)
    first = Harness(store=store, reply_speed=0)
    first.send({"setup": {"model": MODEL, "sessionResumption": {}, **NO_VAD}})
    first.send({"realtimeInput": {"text": "one"}})
    first.send({"realtimeInput": {"text": "two"}})
    updates = [m["sessionResumptionUpdate"] for _, k, m in first.sent if k == "sessionResumptionUpdate"]
    assert {"newHandle": "", "resumable": False} in updates
    handle = [u["newHandle"] for u in updates if u["resumable"]][-1]
    second = Harness(store=store, reply_speed=0)
    second.send({"setup": {"model": MODEL, "sessionResumption": {"handle": handle}, **NO_VAD}})
    second.send({"realtimeInput": {"text": "three"}})
    texts = [
        m["serverContent"]["outputTranscription"]["text"] for _, k, m in second.sent if k == "outputTranscription"
    ]
    assert texts == ['turn 3: heard "three"']
    assert [h["content"] for h in second.session.history][:4] == [
        "one",
        'turn 1: heard "one"',
        "two",
        'turn 2: heard "two"',
    ]


def test_unknown_or_expired_handle_is_refused() -> None:
    store = HandleStore(ttl_s=10)
    h = Harness(store=store)
    h.send({"setup": {"model": MODEL, "sessionResumption": {"handle": "nope"}}})
    assert h.sent[-1][2] == Close(1007, INVALID_ARGUMENT)
    handle = store.issue(__import__("livecli.server.resumption", fromlist=["Snapshot"]).Snapshot(1), now=0.0)
    late = Harness(store=store)
    late.now = 11.0
    late.send({"setup": {"model": MODEL, "sessionResumption": {"handle": handle}}})
    assert late.sent[-1][2] == Close(1007, INVALID_ARGUMENT)


def test_transparent_resumption_reports_consumed_indices() -> None:
    h = Harness(reply_speed=0)
    h.send({"setup": {"model": MODEL, "sessionResumption": {"transparent": True}, **NO_VAD}})  # index 0
    h.send({"realtimeInput": {"activityStart": {}}})  # 1
    h.audio(speechlike(0.2))  # 2
    h.send({"realtimeInput": {"activityEnd": {}}})  # 3
    h.send({"realtimeInput": {"text": "hi"}})  # 4
    indices = [
        m["sessionResumptionUpdate"].get("lastConsumedClientMessageIndex")
        for _, k, m in h.sent
        if k == "sessionResumptionUpdate" and m["sessionResumptionUpdate"]["resumable"]
    ]
    assert indices == ["0", "3", "4"]


def test_max_connection_sends_go_away_then_closes_1008() -> None:
    h = Harness(max_connection_s=4.0)
    h.send({"setup": {"model": MODEL}})
    h.run_until(100)
    (t_go, _, go), (t_close, _, close) = [s for s in h.sent if s[1] in ("goAway", "Close")]
    assert go == {"goAway": {"timeLeft": "2s"}} and t_go == 2.0
    assert t_close == 4.0 and isinstance(close, Close) and close.code == 1008


def test_max_session_spans_resumptions_unless_compressed() -> None:
    store = HandleStore(7200)
    first = Harness(store=store, max_session_s=10.0, reply_speed=0)
    first.send({"setup": {"model": MODEL, "sessionResumption": {}}})
    first.run_until(6.0)
    first.send({"realtimeInput": {"text": "x"}})
    handle = [
        m["sessionResumptionUpdate"]["newHandle"]
        for _, k, m in first.sent
        if k == "sessionResumptionUpdate" and m["sessionResumptionUpdate"]["resumable"]
    ][-1]
    second = Harness(store=store, max_session_s=10.0)
    second.send({"setup": {"model": MODEL, "sessionResumption": {"handle": handle}}})
    second.run_until(100)
    closes = [t for t, k, _ in second.sent if k == "Close"]
    assert closes == [4.0]  # 10 s cap minus the 6 s already used
    compressed = Harness(max_session_s=1.0)
    compressed.send({"setup": {"model": MODEL, "contextWindowCompression": {"slidingWindow": {}}}})
    compressed.run_until(100)
    assert "Close" not in compressed.kinds()


def test_client_content_turn_and_seed_only_rule() -> None:
    h = Harness(reply_speed=0)
    h.send({"setup": {"model": MODEL}})
    h.send(
        {"client_content": {"turns": [{"role": "user", "parts": [{"text": "hi there"}]}], "turnComplete": True}}
    )
    assert 'turn 1: heard "hi there"' in [
        m["serverContent"]["outputTranscription"]["text"] for _, k, m in h.sent if k == "outputTranscription"
    ]
    seed = Harness()
    seed.send({"setup": {"model": "models/gemini-3.1-flash-live-preview"}})
    seed.send({"clientContent": {"turns": [{"role": "user", "parts": [{"text": "x"}]}], "turnComplete": True}})
    assert seed.sent[-1][2] == Close(1007, INVALID_ARGUMENT)
