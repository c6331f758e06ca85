"""The contract between the two ends livecli holds: what its client builders send, its server's strict validator
accepts (and reads back as sent); what its server builders send, its client's parser reads back as built.

Property-based over the builders' inputs, so a field added to one side and not the other fails here.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livecli.protocol import client_messages as cm
from livecli.protocol import close_reasons as cr
from livecli.protocol import events as ev
from livecli.protocol import server_messages as sm
from livecli.protocol.client_messages import SetupConfig
from livecli.protocol.models import MODELS, VOICES, ModelInfo, Thinking
from livecli.protocol.server_parse import parse_server_message
from livecli.server.validate import Refusal, check_setup, decode_audio_blob, parse_client_frame

# Any text a user may type or a file may hold, lone surrogates included (the builders replace them).
TEXT = st.text(st.characters(blacklist_categories=()) | st.sampled_from("\ud800\udfff\x00\u2028"), max_size=40)
NAMES = st.text(st.characters(whitelist_categories=("Ll", "Lu", "Nd")), min_size=1, max_size=20)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)
STRUCTS = st.dictionaries(TEXT, JSON_VALUES, max_size=4)
RATES = st.integers(8000, 48000)
PCM = st.binary(max_size=64).map(lambda data: data[: len(data) // 2 * 2])


def _accepted(frame: str | bytes) -> tuple[str, dict[str, Any]]:
    try:
        return parse_client_frame(frame)
    except Refusal as refusal:  # pragma: no cover - the failure message is the point
        pytest.fail(f"the server refused a frame the client builds: {refusal}\n{frame!r}")


@st.composite
def setups(draw: st.DrawFn) -> tuple[SetupConfig, ModelInfo]:
    """A setup one of the known models accepts: its modality, a known voice, the thinking it takes."""
    info = draw(st.sampled_from(sorted(MODELS.values(), key=lambda m: m.id)))
    thinking: dict[str, Any] | None = None
    if info.thinking is Thinking.BUDGET:
        thinking = draw(st.none() | st.builds(lambda n: {"thinkingBudget": n}, st.integers(0, 32768)))
    elif info.thinking is not Thinking.NONE:
        levels = ["low", "medium", "high"] + (["minimal"] if info.thinking is Thinking.LEVEL else [])
        thinking = draw(st.none() | st.sampled_from(levels).map(lambda level: {"thinkingLevel": level}))
    declarations = st.lists(
        st.fixed_dictionaries({"name": NAMES}, optional={"description": TEXT, "parameters": STRUCTS}), max_size=2
    )
    config = SetupConfig(
        model=draw(st.sampled_from([info.id, f"models/{info.id}"])),
        modalities=(draw(st.sampled_from(sorted(info.modalities))),),
        voice=draw(st.none() | st.sampled_from(sorted(VOICES))),
        language=draw(st.none() | st.sampled_from(["en-US", "fr-FR", "ja-JP"])),
        temperature=draw(st.none() | st.floats(0, 2)),
        system_instruction=draw(st.none() | TEXT) if info.system_instruction else None,
        input_transcription=draw(st.booleans()),
        output_transcription=draw(st.booleans()),
        automatic_activity_detection=draw(st.booleans()),
        vad=draw(
            st.none()
            | st.fixed_dictionaries(
                {},
                optional={
                    "startOfSpeechSensitivity": st.sampled_from(
                        ["START_SENSITIVITY_HIGH", "START_SENSITIVITY_LOW"]
                    ),
                    "endOfSpeechSensitivity": st.sampled_from(["END_SENSITIVITY_HIGH", "END_SENSITIVITY_LOW"]),
                    "prefixPaddingMs": st.integers(0, 2000),
                    "silenceDurationMs": st.integers(0, 5000),
                },
            )
        ),
        activity_handling=draw(st.none() | st.sampled_from(["START_OF_ACTIVITY_INTERRUPTS", "NO_INTERRUPTION"])),
        turn_coverage=draw(
            st.none() | st.sampled_from(["TURN_INCLUDES_ONLY_ACTIVITY", "TURN_INCLUDES_ALL_INPUT"])
        ),
        session_resumption=draw(st.booleans()),
        transparent=draw(st.booleans()),
        context_window_compression=draw(
            st.none()
            | st.just({"slidingWindow": {}})
            | st.integers(1, 10**6).map(lambda n: {"triggerTokens": n, "slidingWindow": {"targetTokens": n // 2}})
        ),
        tools=draw(st.none() | st.lists(declarations.map(lambda d: {"functionDeclarations": d}), max_size=2)),
        thinking=thinking,
    )
    return config, info


@settings(max_examples=150, deadline=None)
@given(setups())
def test_every_setup_the_client_builds_is_accepted_and_read_back_as_sent(
    drawn: tuple[SetupConfig, ModelInfo],
) -> None:
    config, info = drawn
    frame = cm.setup_message(config)
    kind, body = _accepted(frame)
    assert kind == "setup"
    assert body == json.loads(frame)["setup"]
    setup = check_setup(body)  # the model table: raises Refusal if this model would refuse it
    assert setup.info == info
    assert setup.modalities == config.modalities


@settings(max_examples=60, deadline=None)
@given(pcm=PCM, rate=RATES)
def test_audio_is_accepted_and_heard_at_its_rate(pcm: bytes, rate: int) -> None:
    kind, body = _accepted(cm.audio_message(pcm, rate))
    assert kind == "realtimeInput"
    assert decode_audio_blob(body["audio"], "realtime_input.audio") == (pcm, rate)


@settings(max_examples=60, deadline=None)
@given(text=TEXT)
def test_text_and_client_content_are_accepted_and_read_back_as_sent(text: str) -> None:
    frame = cm.text_message(text)
    assert _accepted(frame) == ("realtimeInput", json.loads(frame)["realtimeInput"])
    frame = cm.client_content_message(text)
    assert _accepted(frame) == ("clientContent", json.loads(frame)["clientContent"])


@settings(max_examples=40, deadline=None)
@given(
    turns=st.lists(
        st.fixed_dictionaries(
            {
                "role": st.sampled_from(["user", "model"]),
                "parts": st.lists(st.fixed_dictionaries({"text": TEXT}), max_size=2),
            }
        ),
        max_size=3,
    ),
    complete=st.booleans(),
)
def test_client_content_turns_are_accepted(turns: list[dict[str, Any]], complete: bool) -> None:
    frame = cm.client_content_message(turns, turn_complete=complete)
    kind, body = _accepted(frame)
    assert kind == "clientContent"
    assert body == json.loads(frame)["clientContent"]


@settings(max_examples=40, deadline=None)
@given(data=st.binary(max_size=64), mime=st.sampled_from(["image/jpeg", "image/png"]))
def test_video_frames_are_accepted(data: bytes, mime: str) -> None:
    kind, body = _accepted(cm.video_message(data, mime))
    assert kind == "realtimeInput"
    assert body["video"] == {"data": data, "mimeType": mime}


@given(system=TEXT)
def test_context_updates_are_accepted_with_the_instruction_sent(system: str) -> None:
    """chat's /system: a contextUpdate carrying a new system instruction (docs/wire.md, "Client messages")."""
    frame = cm.context_update_message(system)
    kind, body = _accepted(frame)
    assert kind == "contextUpdate"
    assert body == json.loads(frame)["contextUpdate"]


@pytest.mark.parametrize("temperature", [math.nan, math.inf, -math.inf])
def test_a_setup_that_is_not_json_is_never_built(temperature: float) -> None:
    """NaN and infinities have no JSON form: the builder refuses them rather than send `NaN`."""
    with pytest.raises(ValueError, match="JSON"):
        cm.setup_message(SetupConfig("gemini-3.8-live", temperature=temperature))


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_the_server_refuses_non_json_number_tokens(token: str) -> None:
    """Python's json module reads NaN/Infinity; protobuf JSON (the service) refuses them as not JSON."""
    with pytest.raises(Refusal) as refused:
        parse_client_frame('{"setup":{"model":"m","generationConfig":{"temperature":' + token + "}}}")
    assert refused.value.code == 1007
    assert refused.value.reason == cr.NOT_JSON.text


def test_activity_and_stream_end_signals_are_accepted() -> None:
    assert _accepted(cm.activity_start_message()) == ("realtimeInput", {"activityStart": {}})
    assert _accepted(cm.activity_end_message()) == ("realtimeInput", {"activityEnd": {}})
    assert _accepted(cm.audio_stream_end_message()) == ("realtimeInput", {"audioStreamEnd": True})


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries({"id": NAMES, "name": NAMES, "response": STRUCTS}),
        min_size=1,
        max_size=3,
    )
)
def test_tool_responses_are_accepted_and_read_back_as_sent(responses: list[dict[str, Any]]) -> None:
    frame = cm.tool_response_message(responses)
    kind, body = _accepted(frame)
    assert kind == "toolResponse"
    assert body == json.loads(frame)["toolResponse"]


# --- server builders → client parser -----------------------------------------------------------------------


def test_bare_signals_parse_as_their_events() -> None:
    assert parse_server_message(sm.setup_complete()) == [ev.SetupComplete()]
    assert parse_server_message(sm.generation_complete()) == [ev.GenerationComplete()]
    assert parse_server_message(sm.interrupted()) == [ev.Interrupted()]


@given(session_id=NAMES)
def test_setup_complete_with_a_session_id(session_id: str) -> None:
    assert parse_server_message(sm.setup_complete(session_id)) == [ev.SetupComplete(session_id)]


@settings(max_examples=60)
@given(pcm=PCM, rate=RATES)
def test_audio_content_parses_to_the_same_audio(pcm: bytes, rate: int) -> None:
    (event,) = parse_server_message(sm.audio_content(pcm, rate))
    assert isinstance(event, ev.AudioChunk)
    assert event.data == pcm
    assert event.rate == rate


@given(text=TEXT, thought=st.booleans())
def test_text_content_parses_to_the_text_sent(text: str, thought: bool) -> None:
    frame = sm.text_content(text, thought=thought)
    sent = json.loads(frame)["serverContent"]["modelTurn"]["parts"][0]["text"]
    assert parse_server_message(frame) == [ev.TextPart(sent, thought)]


@given(text=TEXT, finished=st.booleans())
def test_transcriptions_parse_to_the_text_sent(text: str, finished: bool) -> None:
    frame = sm.input_transcription(text, finished)
    sent = json.loads(frame)["serverContent"]["inputTranscription"]["text"]
    assert parse_server_message(frame) == [ev.InputTranscription(sent, finished)]
    frame = sm.output_transcription(text, finished)
    assert parse_server_message(frame) == [ev.OutputTranscription(sent, finished)]


@given(
    prompt=st.integers(0, 10**9),
    response=st.integers(0, 10**9),
    with_usage=st.booleans(),
    reason=st.none() | st.sampled_from(["NEED_MORE_INPUT", "RESPONSE_REJECTED"]),
    waiting=st.none() | st.booleans(),
)
def test_turn_complete_parses_with_its_usage_reason_and_waiting(
    prompt: int, response: int, with_usage: bool, reason: str | None, waiting: bool | None
) -> None:
    usage = sm.usage_metadata(prompt, response) if with_usage else None
    events = parse_server_message(sm.turn_complete(usage, reason, waiting))
    assert events[-1] == ev.TurnComplete(reason, waiting)
    if with_usage:
        assert events[0] == ev.Usage(prompt, response, prompt + response)
    assert len(events) == 1 + with_usage


@given(st.lists(st.fixed_dictionaries({"id": NAMES, "name": NAMES, "args": STRUCTS}), max_size=3))
def test_tool_calls_parse_to_the_calls_sent(calls: list[dict[str, Any]]) -> None:
    frame = sm.tool_call(calls)
    sent = json.loads(frame)["toolCall"]["functionCalls"]
    expected = tuple(ev.FunctionCall(c["id"], c["name"], c["args"]) for c in sent)
    assert parse_server_message(frame) == [ev.ToolCall(expected)]


@given(st.lists(NAMES, max_size=4))
def test_tool_call_cancellation_parses_to_the_same_ids(ids: list[str]) -> None:
    assert parse_server_message(sm.tool_call_cancellation(ids)) == [ev.ToolCallCancellation(tuple(ids))]


@given(st.floats(0, 10**7, allow_nan=False))
def test_go_away_parses_to_the_same_time_left(seconds: float) -> None:
    (event,) = parse_server_message(sm.go_away(seconds))
    assert isinstance(event, ev.GoAway)
    assert event.time_left_s is not None
    assert math.isclose(event.time_left_s, seconds, abs_tol=1e-6)


@given(handle=TEXT, resumable=st.booleans(), index=st.none() | st.integers(0, 2**63 - 1))
def test_resumption_updates_parse_to_the_same_handle_and_index(
    handle: str, resumable: bool, index: int | None
) -> None:
    frame = sm.resumption_update(handle, resumable, index)
    sent_handle = json.loads(frame)["sessionResumptionUpdate"]["newHandle"]
    assert parse_server_message(frame) == [ev.ResumptionUpdate(sent_handle, resumable, index)]


# The builders the tests above cover; a new builder must join them (and get its contract test).
CLIENT_BUILDERS_COVERED = {
    "setup_message",
    "context_update_message",
    "audio_message",
    "text_message",
    "client_content_message",
    "video_message",
    "activity_start_message",
    "activity_end_message",
    "audio_stream_end_message",
    "tool_response_message",
}
SERVER_BUILDERS_COVERED = {
    "setup_complete",
    "generation_complete",
    "interrupted",
    "audio_content",
    "text_content",
    "input_transcription",
    "output_transcription",
    "turn_complete",
    "usage_metadata",
    "tool_call",
    "tool_call_cancellation",
    "go_away",
    "resumption_update",
}


def test_every_builder_is_under_contract() -> None:
    assert {name for name in cm.__all__ if name.endswith("_message")} == CLIENT_BUILDERS_COVERED
    assert set(sm.__all__) - {"encode", "format_duration"} == SERVER_BUILDERS_COVERED
