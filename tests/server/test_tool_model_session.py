"""The local server as a model that calls declared tools: toolCall with schema arguments, the reply quoting the
toolResponse, NON_BLOCKING calls and their scheduling, barge-in cancellation, 1007 for unknown or repeated ids."""

from __future__ import annotations

from typing import Any

from helpers import LocalServer
from session_harness import MODEL, NO_VAD, Harness

from livecli.protocol import close_reasons as cr
from livecli.server.probe import Probe
from livecli.server.session import Close

CITY = {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}, "required": ["city"]}
WEATHER = {"name": "get_weather", "description": "Weather for a city", "parameters": CITY}
TIME = {"name": "get_time", "parameters": {"type": "OBJECT", "properties": {"zone": {"type": "STRING"}}}}


def session(*declared: dict[str, Any], reply_speed: float = 0, scenario: str = "echo", **setup: Any) -> Harness:
    h = Harness(scenario, reply_speed=reply_speed)
    tools = [{"functionDeclarations": list(declared)}] if declared else []
    h.send({"setup": {"model": MODEL, "tools": tools, **NO_VAD, **setup}})
    h.take()
    return h


def calls_of(h: Harness) -> list[dict[str, Any]]:
    return [call for message in h.messages("toolCall") for call in message["toolCall"]["functionCalls"]]


def answer(h: Harness, call_id: str, result: Any, **fields: Any) -> None:
    h.send({"toolResponse": {"functionResponses": [{"id": call_id, "response": result, **fields}]}})


def close_of(h: Harness) -> Close:
    (close,) = h.messages("Close")
    assert isinstance(close, Close)
    return close


def test_a_turn_that_names_a_declared_function_calls_it_and_the_reply_quotes_the_response() -> None:
    h = session(WEATHER)
    h.send({"realtimeInput": {"text": "call get_weather city=Paris"}})
    (call,) = calls_of(h)
    assert call["name"] == "get_weather"
    assert call["args"] == {"city": "Paris"}
    assert h.transcripts() == []  # the reply waits for the response
    answer(h, call["id"], {"temp": 21})
    assert h.transcripts() == ['turn 1: heard "call get_weather city=Paris"; get_weather returned {"temp":21}']
    assert h.kinds()[-1] == "turnComplete"


def test_two_named_functions_are_one_tool_call_and_the_reply_waits_for_both() -> None:
    h = session(WEATHER, TIME)
    h.send({"realtimeInput": {"text": "get_time then get_weather"}})
    assert len(h.messages("toolCall")) == 1
    first, second = calls_of(h)
    assert [first["name"], second["name"]] == ["get_time", "get_weather"]
    assert first["args"] == {}
    assert second["args"] == {"city": "get_time then get_weather"}
    answer(h, second["id"], {"ok": 2})
    assert h.transcripts() == []
    answer(h, first["id"], {"ok": 1})
    (transcript,) = h.transcripts()
    assert transcript.endswith('; get_time returned {"ok":1}; get_weather returned {"ok":2}')


def test_a_name_the_setup_does_not_declare_is_no_call() -> None:
    h = session(WEATHER)
    h.send({"realtimeInput": {"text": "call get_time please"}})
    assert calls_of(h) == []
    assert h.transcripts() == ['turn 1: heard "call get_time please"']


def test_the_tool_call_scenario_calls_the_first_declared_function_with_schema_arguments() -> None:
    h = session(WEATHER, TIME, scenario="tool-call")
    h.send({"realtimeInput": {"text": "anything at all"}})
    (call,) = calls_of(h)
    assert call["name"] == "get_weather"
    assert call["args"] == {"city": "anything at all"}


def test_a_function_added_by_context_update_can_be_called() -> None:
    h = session(WEATHER)
    h.send({"contextUpdate": {"tools": {"tools": [{"functionDeclarations": [TIME]}]}}})
    h.send({"realtimeInput": {"text": "get_weather or get_time"}})
    assert [call["name"] for call in calls_of(h)] == ["get_time"]


def test_a_non_blocking_call_lets_the_reply_go_on_and_its_result_follows_when_idle() -> None:
    h = session({**WEATHER, "behavior": "NON_BLOCKING"}, reply_speed=1.0)
    h.send({"realtimeInput": {"text": "get_weather now"}})
    (call,) = calls_of(h)
    h.run_until(h.now + 0.1)
    assert h.transcripts() == ['turn 1: heard "get_weather now"']  # the reply started before any response
    answer(h, call["id"], {"temp": 5})  # WHEN_IDLE by default: after the reply in flight
    h.run_until(h.now + 10)
    assert "interrupted" not in h.kinds()
    assert h.transcripts()[-1] == 'turn 1: get_weather returned {"temp":5}'
    assert h.kinds().count("turnComplete") == 2


def test_interrupt_scheduling_cuts_the_reply_in_flight() -> None:
    h = session({**WEATHER, "behavior": "NON_BLOCKING"}, reply_speed=1.0)
    h.send({"realtimeInput": {"text": "get_weather now"}})
    (call,) = calls_of(h)
    h.run_until(h.now + 0.1)
    h.take()
    answer(h, call["id"], {"temp": 5}, scheduling="INTERRUPT")
    h.run_until(h.now + 10)
    kinds = h.kinds()
    assert kinds[:2] == ["interrupted", "turnComplete"]
    assert "toolCallCancellation" not in kinds
    assert h.transcripts() == ['turn 1: get_weather returned {"temp":5}']


def test_silent_scheduling_says_nothing() -> None:
    h = session({**WEATHER, "behavior": "NON_BLOCKING"}, sessionResumption={})
    h.send({"realtimeInput": {"text": "get_weather now"}})
    (call,) = calls_of(h)
    h.take()
    answer(h, call["id"], {"temp": 5}, scheduling="SILENT")
    h.run_until(h.now + 10)
    assert h.kinds() == ["sessionResumptionUpdate"]  # resumable again, and nothing said
    assert h.messages("sessionResumptionUpdate")[0]["sessionResumptionUpdate"]["resumable"] is True


def test_will_continue_keeps_a_non_blocking_call_open_for_more_responses() -> None:
    h = session({**WEATHER, "behavior": "NON_BLOCKING"})
    h.send({"realtimeInput": {"text": "get_weather"}})
    (call,) = calls_of(h)
    answer(h, call["id"], {"part": 1}, willContinue=True)
    answer(h, call["id"], {"part": 2})
    assert h.transcripts()[-2:] == [
        'turn 1: get_weather returned {"part":1}',
        'turn 1: get_weather returned {"part":2}',
    ]
    answer(h, call["id"], {"part": 3})
    assert cr.identify(close_of(h).reason) is cr.TOOL_CALL_ID


def test_barge_in_cancels_the_pending_calls_and_a_late_answer_to_them_is_ignored() -> None:
    h = session(WEATHER)
    h.send({"realtimeInput": {"text": "get_weather"}})
    (call,) = calls_of(h)
    h.take()
    h.send({"realtimeInput": {"activityStart": {}}})
    assert h.kinds() == ["interrupted", "toolCallCancellation", "turnComplete"]
    assert h.messages("toolCallCancellation") == [{"toolCallCancellation": {"ids": [call["id"]]}}]
    answer(h, call["id"], {"late": True})
    assert h.messages("Close") == []


def test_an_unknown_response_id_closes_1007() -> None:
    h = session(WEATHER)
    answer(h, "call-nobody-sent", {})
    close = close_of(h)
    assert close.code == 1007
    assert close.reason == 'toolResponse id "call-nobody-sent": matches no pending function call'


def test_a_response_id_answered_twice_closes_1007() -> None:
    h = session(WEATHER)
    h.send({"realtimeInput": {"text": "get_weather"}})
    (call,) = calls_of(h)
    answer(h, call["id"], {"ok": 1})
    answer(h, call["id"], {"ok": 1})
    close = close_of(h)
    assert close.code == 1007
    assert close.reason.endswith(": was already answered")


async def test_a_raw_client_sees_the_call_and_the_quoted_response(live_server: LocalServer) -> None:
    probe = await Probe.open(live_server.url)
    await probe.setup(tools=[{"functionDeclarations": [WEATHER]}], **NO_VAD)
    await probe.send({"realtimeInput": {"text": "get_weather city=Oslo"}})
    call = (await probe.turn(until="toolCall")).messages[-1]["toolCall"]["functionCalls"][0]
    assert call["args"] == {"city": "Oslo"}
    await probe.send({"toolResponse": {"functionResponses": [{"id": call["id"], "response": {"sky": "grey"}}]}})
    turn = await probe.turn()
    assert turn.output_transcripts == [
        'turn 1: heard "get_weather city=Oslo"; get_weather returned {"sky":"grey"}'
    ]
    await probe.close()


def test_barge_in_during_the_reply_cancels_a_pending_non_blocking_call() -> None:
    h = session({**WEATHER, "behavior": "NON_BLOCKING"}, reply_speed=1.0)
    h.send({"realtimeInput": {"text": "get_weather now"}})
    (call,) = calls_of(h)
    h.run_until(h.now + 0.1)
    h.take()
    h.send({"realtimeInput": {"text": "never mind"}})
    assert h.kinds()[:3] == ["interrupted", "toolCallCancellation", "turnComplete"]
    assert h.messages("toolCallCancellation")[0]["toolCallCancellation"]["ids"] == [call["id"]]


def test_scheduling_on_a_blocking_calls_response_is_ignored() -> None:
    h = session(WEATHER)
    h.send({"realtimeInput": {"text": "get_weather"}})
    (call,) = calls_of(h)
    answer(h, call["id"], {"ok": True}, scheduling="SILENT")
    assert h.transcripts() == ['turn 1: heard "get_weather"; get_weather returned {"ok":true}']


def test_a_non_blocking_result_comes_as_text_under_the_text_modality() -> None:
    h = Harness(reply_speed=0)
    tools = [{"functionDeclarations": [{**WEATHER, "behavior": "NON_BLOCKING"}]}]
    setup = {
        "model": "models/some-text-model",
        "tools": tools,
        "generationConfig": {"responseModalities": ["TEXT"]},
    }
    h.send({"setup": {**setup, **NO_VAD}})
    h.send({"realtimeInput": {"text": "get_weather"}})
    (call,) = calls_of(h)
    answer(h, call["id"], {"ok": 1})
    texts = [m["serverContent"]["modelTurn"]["parts"][0]["text"] for m in h.messages("text")]
    assert texts == ['turn 1: heard "get_weather"', 'turn 1: get_weather returned {"ok":1}']
