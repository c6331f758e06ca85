"""ServerSession sans I/O on a fake clock: pacing, barge-in both ways, tool calls, resumption, goAway."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from session_harness import MODEL, NO_VAD, Harness

from livecli.protocol import close_reasons as cr
from livecli.server.probe import speechlike
from livecli.server.replies import MAX_ECHO_CHARS, MAX_TONE_WORDS, MAX_TURN_AUDIO_S
from livecli.server.resumption import HandleStore
from livecli.server.scenarios import Scenario, ToolCallSpec, TurnSpec
from livecli.server.session import MAX_PENDING, Close


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
    assert calls
    assert calls[0]["toolCall"]["functionCalls"][0]["name"] == "lookup"
    call_id = calls[0]["toolCall"]["functionCalls"][0]["id"]
    h.take()
    h.stream(speechlike(0.3, seed=9))
    assert h.kinds()[:3] == ["interrupted", "toolCallCancellation", "turnComplete"]
    assert h.sent[1][2] == {"toolCallCancellation": {"ids": [call_id]}}


def test_tool_response_completes_the_turn() -> None:
    h = Harness("tool-call", reply_speed=0)
    query = {"type": "OBJECT", "properties": {"query": {"type": "STRING"}}, "required": ["query"]}
    tools = [{"functionDeclarations": [{"name": "get_weather", "description": "d", "parameters": query}]}]
    h.send({"setup": {"model": MODEL, "tools": tools, **NO_VAD}})
    h.send({"realtimeInput": {"text": "weather in Paris"}})
    ((_, _, call),) = [s for s in h.take() if s[1] == "toolCall"]
    fc = call["toolCall"]["functionCalls"][0]
    assert fc["name"] == "get_weather"
    assert fc["args"] == {"query": "weather in Paris"}
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
    assert h.sent[-1][2] == Close(1007, cr.INVALID_ARGUMENT.text)
    handle = store.issue(__import__("livecli.server.resumption", fromlist=["Snapshot"]).Snapshot(1), now=0.0)
    late = Harness(store=store)
    late.now = 11.0
    late.send({"setup": {"model": MODEL, "sessionResumption": {"handle": handle}}})
    assert late.sent[-1][2] == Close(1007, cr.INVALID_ARGUMENT.text)


def test_max_connection_sends_go_away_then_closes_1008() -> None:
    h = Harness(max_connection_s=4.0)
    h.send({"setup": {"model": MODEL}})
    h.run_until(100)
    (t_go, _, go), (t_close, _, close) = [s for s in h.sent if s[1] in ("goAway", "Close")]
    assert go == {"goAway": {"timeLeft": "2s"}}
    assert t_go == 2.0
    assert t_close == 4.0
    assert isinstance(close, Close)
    assert close.code == 1008


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
    assert seed.sent[-1][2] == Close(1007, cr.INVALID_ARGUMENT.text)


def test_each_chunk_is_heard_at_its_declared_rate() -> None:
    """1 s at 16 kHz then 1 s at 8 kHz in one activity: two seconds heard (was 3.00: the last rate won)."""
    h = Harness(reply_speed=0)
    h.send({"setup": {"model": MODEL, **NO_VAD}})
    h.send({"realtimeInput": {"activityStart": {}}})
    h.audio(speechlike(1.0), "audio/pcm;rate=16000")
    h.audio(speechlike(1.0, rate=8000), "audio/pcm;rate=8000")
    h.send({"realtimeInput": {"activityEnd": {}}})
    assert h.transcripts() == ["turn 1: heard 2.00 s of audio"]
    audio = b"".join(
        base64.b64decode(m["serverContent"]["modelTurn"]["parts"][0]["inlineData"]["data"])
        for m in h.messages("audio")
    )
    assert len(audio) == 2 * int(24000 * 2.2)  # chime 0.2 s + 2 s echoed at 24 kHz


def test_no_setup_in_time_closes_1011() -> None:
    h = Harness(setup_timeout_s=30.0)
    h.run_until(100)
    assert h.sent == [(30.0, "Close", Close(1011, cr.SETUP_TIMEOUT.text))]
    ok = Harness(setup_timeout_s=30.0)
    ok.send({"setup": {"model": MODEL}})
    ok.run_until(100)
    assert ok.kinds() == ["setupComplete"]


def test_internal_errors_close_1011_never_silently(monkeypatch: pytest.MonkeyPatch) -> None:
    import livecli.server.session as session_module

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("bug")

    h = Harness(reply_speed=0)
    h.send({"setup": {"model": MODEL, **NO_VAD}})
    monkeypatch.setattr(session_module, "echo_reply", broken)
    h.send({"realtimeInput": {"text": "hi"}})
    assert h.sent[-1][2] == Close(1011, cr.INTERNAL_ERROR.text)
    timed = Harness()
    timed.send({"setup": {"model": MODEL}})
    timed.session.queue.at(5.0, broken)
    timed.run_until(10)
    assert timed.sent[-1] == (5.0, "Close", Close(1011, cr.INTERNAL_ERROR.text))


def test_close_reasons_are_cut_to_123_bytes() -> None:
    long_name = "é" * 100
    scenario = Scenario("t", turns=(TurnSpec(tool_call=ToolCallSpec(expect={"ok": True})),))
    h = Harness(scenario, reply_speed=0)
    h.send({"setup": {"model": MODEL, "tools": [{"functionDeclarations": [{"name": long_name}]}], **NO_VAD}})
    h.send({"realtimeInput": {"text": "x"}})
    call_id = h.messages("toolCall")[0]["toolCall"]["functionCalls"][0]["id"]
    h.send({"toolResponse": {"functionResponses": [{"id": call_id, "response": {"ok": False}}]}})
    close = h.sent[-1][2]
    assert close.code == 1007
    assert len(close.reason.encode()) <= 123
    assert close.reason.startswith("toolResponse")


def test_turn_audio_and_text_replies_are_bounded() -> None:
    h = Harness(reply_speed=0)
    h.send({"setup": {"model": MODEL, **NO_VAD}})
    h.send({"realtimeInput": {"activityStart": {}}})
    h.audio(bytes(2 * 16000 * (MAX_TURN_AUDIO_S + 10)))
    h.send({"realtimeInput": {"activityEnd": {}}})
    assert h.messages("inputTranscription")[-1]["serverContent"]["inputTranscription"]["text"] == (
        f"[{MAX_TURN_AUDIO_S + 10:.2f} s of audio]"
    )
    assert len(h.messages("audio")) == (MAX_TURN_AUDIO_S + 0.2) / 0.04  # chime + at most MAX_TURN_AUDIO_S
    h.take()
    h.send({"realtimeInput": {"text": "word " * 20000}})
    assert len(h.messages("audio")) < 0.5 * MAX_TONE_WORDS / 0.04  # one tone per word, first words only
    assert len(h.transcripts()[0]) < MAX_ECHO_CHARS + 30


def test_a_flood_of_queued_replies_closes_1011() -> None:
    h = Harness(reply_speed=1.0)
    setup = {"automaticActivityDetection": {"disabled": True}, "activityHandling": "NO_INTERRUPTION"}
    h.send({"setup": {"model": MODEL, "realtimeInputConfig": setup}})
    for index in range(MAX_PENDING):
        h.send({"realtimeInput": {"text": f"t{index}"}})
    assert "Close" not in h.kinds()
    h.send({"realtimeInput": {"text": "one too many"}})
    assert h.sent[-1][2] == Close(1011, cr.OVERLOADED.text)


def test_seed_only_models_take_client_content_before_the_conversation_only() -> None:
    seed = Harness(reply_speed=0)
    seed.send(
        {
            "setup": {
                "model": "models/gemini-3.1-flash-live-preview",
                "historyConfig": {"initialHistoryInClientContent": True},
            }
        }
    )
    seed.send({"clientContent": {"turns": [{"role": "user", "parts": [{"text": "x"}]}], "turnComplete": False}})
    assert "Close" not in seed.kinds()
    seed.send({"realtimeInput": {"text": "hello"}})
    seed.send({"clientContent": {"turns": [{"role": "user", "parts": [{"text": "y"}]}], "turnComplete": True}})
    assert seed.sent[-1][2] == Close(1007, cr.INVALID_ARGUMENT.text)


def test_context_update_replaces_the_tools() -> None:
    h = Harness("tool-call", reply_speed=0)
    h.send({"setup": {"model": MODEL, "tools": [{"functionDeclarations": [{"name": "old"}]}], **NO_VAD}})
    h.send({"contextUpdate": {"tools": {"tools": [{"functionDeclarations": [{"name": "new_tool"}]}]}}})
    h.send({"realtimeInput": {"text": "x"}})
    assert h.messages("toolCall")[0]["toolCall"]["functionCalls"][0]["name"] == "new_tool"


def test_handles_stay_valid_two_hours_after_the_session_ends() -> None:
    """A handle issued at the start of a 3-hour connection still resumes right after it ends (was: expired)."""
    store = HandleStore(ttl_s=7200)
    h = Harness(store=store)
    h.send({"setup": {"model": MODEL, "sessionResumption": {}}})
    handle = h.messages("sessionResumptionUpdate")[0]["sessionResumptionUpdate"]["newHandle"]
    h.run_until(3 * 3600)
    assert store.resolve(handle, 3 * 3600) is not None  # still connected
    h.session.connection_closed(3 * 3600)
    assert store.resolve(handle, 3 * 3600 + 7199) is not None
    assert store.resolve(handle, 3 * 3600 + 7201) is None


def test_an_older_handle_resumes_the_conversation_as_it_was() -> None:
    store = HandleStore(7200)
    first = Harness(store=store, reply_speed=0)
    first.send({"setup": {"model": MODEL, "sessionResumption": {}, **NO_VAD}})
    first.send({"realtimeInput": {"text": "one"}})
    after_one = [u["sessionResumptionUpdate"]["newHandle"] for u in first.messages("sessionResumptionUpdate")][-1]
    first.send({"realtimeInput": {"text": "two"}})
    second = Harness(store=store, reply_speed=0)
    second.send({"setup": {"model": MODEL, "sessionResumption": {"handle": after_one}, **NO_VAD}})
    assert [entry["content"] for entry in second.session.history] == ["one", 'turn 1: heard "one"']
    second.send({"realtimeInput": {"text": "again"}})
    assert second.transcripts() == ['turn 2: heard "again"']


def test_a_lone_surrogate_in_a_text_turn_is_a_1007_not_a_1011() -> None:
    """JSON may escape a lone surrogate ("\\ud800"): invalid JSON to the service, 1007 (was: a crash, 1011); an
    escaped pair (an emoji from an ASCII-only encoder) is text like any other."""
    h = Harness(reply_speed=0)
    h.send({"setup": {"model": MODEL, **NO_VAD}})
    h.send('{"realtimeInput":{"text":"a\\ud83d\\ude00b"}}')
    assert h.transcripts() == ['turn 1: heard "a\U0001f600b"']
    h.send('{"realtimeInput":{"text":"a\\ud800b"}}')
    assert h.messages("Close")[-1].code == 1007
