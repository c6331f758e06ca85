"""Server message parser: every message docs/wire.md lists ("Server messages"), tolerant decoding, one error."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livecli.errors import ProtocolError
from livecli.protocol import events as ev
from livecli.protocol.server_parse import audio_rate, parse_protobuf_duration, parse_server_message
from livecli.protocol.wire import snake

PCM = bytes(range(256)) * 4
B64 = base64.b64encode(PCM).decode()


def parse(message: Any) -> list[ev.ServerEvent]:
    return parse_server_message(json.dumps(message).encode())


def audio_part(data: str = B64, mime: str = "audio/pcm;rate=24000") -> dict[str, Any]:
    return {"inlineData": {"mimeType": mime, "data": data}}


def test_audio_chunk_rate_comes_from_the_mime_type() -> None:
    """The reply rate is read from each part's mimeType, never assumed."""
    [chunk] = parse({"serverContent": {"modelTurn": {"parts": [audio_part(mime="audio/pcm;rate=16000")]}}})
    assert chunk == ev.AudioChunk(PCM, 16000, "audio/pcm;rate=16000")
    assert audio_rate("audio/pcm; Rate=48000") == 48000
    assert audio_rate("audio/pcm") == 24000  # the documented output format (docs/wire.md, "Audio")
    bad_rates = ("audio/pcm;rate=", "audio/pcm;rate=fast", "audio/pcm;rate=0", "audio/pcm;rate=1000001")
    # Non-ASCII digits, and thousands of digits (int() would raise ValueError, not ProtocolError).
    for bad in (
        "audio/wav",
        *bad_rates,
        "audio/pcm;rate=\uff11\uff16\uff10\uff10\uff10",
        "audio/pcm;rate=" + "9" * 5000,
    ):
        with pytest.raises(ProtocolError):
            audio_rate(bad)


def test_every_model_turn_part_in_order_with_transcriptions_usage_and_turn_end() -> None:
    """Several parts per event (3.1+), thoughts flagged, usage before the turn end it belongs to."""
    message = {
        "usageMetadata": {"promptTokenCount": 509, "responseTokenCount": 11, "totalTokenCount": 520},
        "serverContent": {
            "turnComplete": True,
            "generationComplete": True,
            "outputTranscription": {"text": "Hi"},
            "modelTurn": {"parts": [audio_part(), {"text": "hm", "thought": True}, {"text": "Hi"}]},
            "inputTranscription": {"text": "hello", "finished": True},
            "turnCompleteReason": "NEED_MORE_INPUT",
            "waitingForInput": True,
        },
    }
    assert parse(message) == [
        ev.InputTranscription("hello", True),
        ev.AudioChunk(PCM, 24000, "audio/pcm;rate=24000"),
        ev.TextPart("hm", thought=True),
        ev.TextPart("Hi"),
        ev.OutputTranscription("Hi", False),
        ev.Usage(509, 11, 520),
        ev.GenerationComplete(),
        ev.TurnComplete("NEED_MORE_INPUT", True),
    ]


def test_interrupted_and_false_flags() -> None:
    """interrupted is an event; false flags and a lone turnCompleteReason end nothing."""
    assert parse({"serverContent": {"interrupted": True}}) == [ev.Interrupted()]
    assert parse({"serverContent": {"turnComplete": False, "turnCompleteReason": "X", "interrupted": False}}) == []


def test_snake_case_keys_and_url_safe_base64_at_every_level() -> None:
    """Protobuf JSON: either casing anywhere, either base64 alphabet, padding optional."""
    urlsafe = base64.urlsafe_b64encode(PCM).decode().rstrip("=")
    message = {
        "server_content": {
            "model_turn": {"parts": [{"inline_data": {"mime_type": "audio/pcm;rate=24000", "data": urlsafe}}]},
            "turn_complete": True,
        },
        "usage_metadata": {"prompt_token_count": "7", "candidates_token_count": 3},
    }
    assert parse(message) == [
        ev.AudioChunk(PCM, 24000, "audio/pcm;rate=24000"),
        ev.Usage(7, 3, None),
        ev.TurnComplete(),
    ]


def test_usage_keeps_the_raw_object_and_reads_vertex_names() -> None:
    """Vertex's candidatesTokenCount is the response count; raw has camelCase keys."""
    [usage] = parse({"usageMetadata": {"candidatesTokenCount": 4, "traffic_type": "ON_DEMAND"}})
    assert isinstance(usage, ev.Usage)
    assert usage.response_tokens == 4
    assert usage.raw == {"candidatesTokenCount": 4, "trafficType": "ON_DEMAND"}


def test_setup_tool_and_session_messages() -> None:
    """setupComplete, toolCall, toolCallCancellation, goAway and sessionResumptionUpdate."""
    assert parse({"setupComplete": {}}) == [ev.SetupComplete(None)]
    assert parse({"setupComplete": {"sessionId": "s1", "voiceConsentSignature": "x"}}) == [ev.SetupComplete("s1")]
    calls = {
        "functionCalls": [
            {"id": "c1", "name": "get_weather", "args": {"city_name": "Paris"}},
            {"id": "c2", "name": "f"},
        ]
    }
    assert parse({"toolCall": calls}) == [
        ev.ToolCall((ev.FunctionCall("c1", "get_weather", {"city_name": "Paris"}), ev.FunctionCall("c2", "f", {})))
    ]
    assert parse({"toolCallCancellation": {"ids": ["c1", "c2"]}}) == [ev.ToolCallCancellation(("c1", "c2"))]
    assert parse({"goAway": {"timeLeft": "50s"}}) == [ev.GoAway(50.0)]
    assert parse({"goAway": {}}) == [ev.GoAway(None)]
    update = {"newHandle": "h", "resumable": True, "lastConsumedClientMessageIndex": "9007199254740993"}
    assert parse({"sessionResumptionUpdate": update}) == [ev.ResumptionUpdate("h", True, 9007199254740993)]
    assert parse({"sessionResumptionUpdate": {}}) == [ev.ResumptionUpdate("", False, None)]


@pytest.mark.parametrize("call", [{"name": "lookup"}, {"id": None, "name": "lookup"}])
def test_a_function_call_without_an_id_is_a_protocol_error(call: dict[str, Any]) -> None:
    """The id is mandatory (its toolResponse must carry it back): a call without one cannot be answered."""
    with pytest.raises(ProtocolError, match=r"toolCall\.functionCalls\[0\]: a function call without an id"):
        parse({"toolCall": {"functionCalls": [call]}})


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("50s", 50.0), ("1.5s", 1.5), ("0.000000001s", 1e-9), ("-2s", -2.0),
     ({"seconds": 3, "nanos": 500000000}, 3.5), ({"seconds": "60"}, 60.0), ({}, 0.0)],
)  # fmt: skip
def test_durations(value: Any, seconds: float) -> None:
    """protobuf Duration as a string with an `s` suffix or as seconds/nanos."""
    assert parse_protobuf_duration(value) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "value", ["50", "s", "fast s", "nans", "infs", "1e400s", "1_0s", "1" * 5000 + "s", 50, [], {"seconds": 1.5}]
)
def test_bad_durations(value: Any) -> None:
    """Anything else is a ProtocolError."""
    with pytest.raises(ProtocolError):
        parse_protobuf_duration(value)


def test_text_and_binary_frames_parse_the_same() -> None:
    """Binary (what the service sends) and text frames are both accepted."""
    text = '{"serverContent":{"modelTurn":{"parts":[{"text":"h\\u00e9"}]}}}'
    assert parse_server_message(text) == parse_server_message(text.encode()) == [ev.TextPart("hé")]


def test_unknown_messages_and_fields_are_ignored() -> None:
    """Forward compatible: unknown top-level messages give [], unknown nested fields are skipped."""
    assert parse_server_message(b'{"someFutureMessage":{}}') == []
    assert parse_server_message(b"{}") == []
    assert parse({"voiceActivity": {"x": 1}, "setupComplete": {"future": [1]}}) == [ev.SetupComplete()]
    message = {"serverContent": {"groundingMetadata": {}, "modelTurn": {"role": "model", "parts": [
        {"inlineData": {"mimeType": "image/png", "data": "!!"}}, {"executableCode": {}}]}}}  # fmt: skip
    assert parse(message) == []


def test_json_null_counts_as_absent() -> None:
    """proto3 JSON: null is the default value, not a type error."""
    assert parse({"serverContent": {"turnComplete": None, "modelTurn": None}, "goAway": None}) == []


@pytest.mark.parametrize(
    "frame",
    [
        b"",
        b"not json",
        b"\xff\xfe\x00",
        b"[]",
        b'"setupComplete"',
        b"null",
        b'{"setupComplete": true}',
        b'{"serverContent": []}',
        b'{"serverContent": {"turnComplete": "yes"}}',
        b'{"serverContent": {"turnComplete": 1}}',
        b'{"serverContent": {"modelTurn": {"parts": {}}}}',
        b'{"serverContent": {"modelTurn": {"parts": ["x"]}}}',
        b'{"serverContent": {"modelTurn": {"parts": [{"inlineData": {"data": "AAAA"}}]}}}',
        b'{"serverContent": {"modelTurn": {"parts": [{"inlineData": {"mimeType": "audio/x", "data": "A*=="}}]}}}',
        b'{"serverContent": {"modelTurn": {"parts": [{"inlineData": {"mimeType": "audio/pcm", "data": 12}}]}}}',
        b'{"serverContent": {"modelTurn": {"parts": [{"text": 5}]}}}',
        b'{"serverContent": {"modelTurn": {"parts": [{"inlineData": {"mimeType": "audio/pcm;rate=%s"}}]}}}'
        % (b"9" * 5000),
        b'{"serverContent": {"modelTurn": {"parts": [{"text": "a", "thought": "no"}]}}}',
        b'{"serverContent": {"inputTranscription": {"text": ["a"]}}}',
        b'{"toolCall": {"functionCalls": [{"id": "1"}]}}',
        b'{"toolCall": {"functionCalls": [{"name": "f", "args": []}]}}',
        b'{"toolCallCancellation": {"ids": [1]}}',
        b'{"usageMetadata": {"totalTokenCount": true}}',
        b'{"usageMetadata": {"totalTokenCount": "12x"}}',
        b'{"goAway": {"timeLeft": 50}}',
        b'{"sessionResumptionUpdate": {"resumable": "true"}}',
        b'{"sessionResumptionUpdate": {"lastConsumedClientMessageIndex": 1.5}}',
        b"[" * 100000 + b"]" * 100000,
    ],
)
def test_malformed_frames_raise_protocol_error(frame: bytes) -> None:
    """Wrong types, bad base64, non-objects, bad JSON: one ProtocolError."""
    with pytest.raises(ProtocolError):
        parse_server_message(frame)


def test_events_print_without_audio_or_base64() -> None:
    """Log-safe str/repr: sizes and durations, no payload; control characters escaped; long text elided."""
    [chunk] = parse({"serverContent": {"modelTurn": {"parts": [audio_part()]}}})
    assert str(chunk) == "AudioChunk(1024 bytes, 21 ms, 24000 Hz)"
    assert B64[:12] not in repr(chunk)
    assert "\\x00" not in repr(chunk)
    assert "\x1b" not in str(ev.TextPart("\x1b[31mred"))
    assert "…(500 chars)" in str(ev.TextPart("a" * 500))
    assert "secret-handle" not in str(ev.ResumptionUpdate("secret-handle", True))


# --- property tests: structured messages, then mutations ---------------------------------------------------

_words = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
_pcm = st.binary(max_size=64).map(lambda b: base64.b64encode(b).decode())
_part = st.one_of(
    st.builds(lambda d, r: audio_part(d, f"audio/pcm;rate={r}"), _pcm, st.sampled_from([16000, 24000, 48000])),
    st.builds(lambda t, th: {"text": t, "thought": th}, _words, st.booleans()),
)
_server_content = st.fixed_dictionaries(
    {},
    optional={
        "modelTurn": st.builds(lambda p: {"parts": p}, st.lists(_part, max_size=3)),
        "inputTranscription": st.builds(lambda t, f: {"text": t, "finished": f}, _words, st.booleans()),
        "outputTranscription": st.builds(lambda t: {"text": t}, _words),
        "generationComplete": st.booleans(),
        "turnComplete": st.booleans(),
        "interrupted": st.booleans(),
        "turnCompleteReason": st.sampled_from(["NEED_MORE_INPUT", "RESPONSE_REJECTED"]),
        "waitingForInput": st.booleans(),
    },
)
_usage = st.fixed_dictionaries(
    {},
    optional={k: st.integers(0, 10**6) for k in ("promptTokenCount", "responseTokenCount", "totalTokenCount")},
)
_message = st.one_of(
    st.builds(lambda c: {"serverContent": c}, _server_content),
    st.builds(lambda c, u: {"serverContent": c, "usageMetadata": u}, _server_content, _usage),
    st.just({"setupComplete": {"sessionId": "abc"}}),
    st.builds(lambda n: {"toolCall": {"functionCalls": [{"id": "1", "name": n, "args": {"a_b": [{"c": n}]}}]}},
              _words),
    st.builds(lambda ids: {"toolCallCancellation": {"ids": ids}}, st.lists(_words, max_size=3)),
    st.builds(lambda s: {"goAway": {"timeLeft": f"{s}s"}}, st.floats(0, 100, allow_nan=False)),
    st.builds(lambda s, n: {"goAway": {"timeLeft": {"seconds": s, "nanos": n}}},
              st.integers(0, 99), st.integers(0, 10**9)),
    st.builds(lambda h, r, i: {"sessionResumptionUpdate": {"newHandle": h, "resumable": r,
              "lastConsumedClientMessageIndex": i}}, _words, st.booleans(), st.integers(0, 2**62) | st.just("12")),
)  # fmt: skip

_junk = st.one_of(
    st.sampled_from(
        ["audio/pcm;rate=" + "9" * 5000, "9" * 5000 + "s", "-1s", "1e999"]
    ),  # near the parsers' limits
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    _words,
    st.lists(st.integers(), max_size=2),
    st.dictionaries(_words, st.integers(), max_size=2),
)


def _nodes(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths of every node below the root."""
    found = []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
    for key, child in items:
        found.append((*path, key))
        found.extend(_nodes(child, (*path, key)))
    return found


def _container(message: Any, path: tuple[Any, ...]) -> Any:
    for key in path[:-1]:
        message = message[key]
    return message


def _under_args(path: tuple[Any, ...]) -> bool:
    return "args" in path


def _harmless(message: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    """Meaning-preserving changes: snake_case keys, URL-safe unpadded base64, unknown keys at any depth."""
    for path in reversed(_nodes(message)):  # deepest first, so renaming a key never breaks a path still to visit
        parent, key = _container(message, path), path[-1]
        child = parent[key]
        if isinstance(child, dict) and not _under_args(path) and data.draw(st.booleans(), "unknown"):
            child["futureField"] = data.draw(_junk, "junk")
        if isinstance(key, str) and not _under_args(path):
            if key == "data" and data.draw(st.booleans(), "urlsafe"):
                raw = base64.b64decode(parent[key])
                parent[key] = base64.urlsafe_b64encode(raw).decode().rstrip("=")
            if data.draw(st.booleans(), "snake"):
                parent[snake(key)] = parent.pop(key)
    if data.draw(st.booleans(), "unknown top"):
        message["futureMessage"] = {"x": 1}
    return message


@settings(max_examples=150, deadline=None)
@given(_message, st.data())
def test_harmless_changes_do_not_change_the_events(message: dict[str, Any], data: st.DataObject) -> None:
    """Casing, base64 alphabet and unknown fields at every depth never change what is parsed."""
    expected = parse(message)
    changed = _harmless(json.loads(json.dumps(message)), data)
    frame = json.dumps(changed)
    assert parse_server_message(frame if data.draw(st.booleans(), "text frame") else frame.encode()) == expected


@settings(max_examples=300, deadline=None)
@given(_message, st.data())
def test_mutated_messages_give_events_or_one_protocol_error(message: dict[str, Any], data: st.DataObject) -> None:
    """Wrong types, missing fields and bad base64 anywhere: events or ProtocolError, never anything else."""
    message = json.loads(json.dumps(message))  # st.just shares its object between examples
    for _ in range(data.draw(st.integers(1, 3), "mutations")):
        nodes = _nodes(message)
        if not nodes:
            break
        path = data.draw(st.sampled_from(nodes), "where")
        parent, key = _container(message, path), path[-1]
        action = data.draw(st.sampled_from(["junk", "delete", "bad base64"]), "how")
        if action == "delete" and isinstance(parent, dict):
            del parent[key]
        elif action == "bad base64":
            parent[key] = data.draw(st.sampled_from(["A", "A*B=", "====", "AAA=A", "é", ""]), "b64")
        else:
            parent[key] = data.draw(_junk, "junk")
    try:
        events = parse(message)
    except ProtocolError:
        return
    assert all(isinstance(event, ev.ServerEvent) for event in events)
