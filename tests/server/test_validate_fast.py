"""The audio frame's fast path in parse_client_frame answers exactly what the schema walk answers (livecli.server
.validate): the same normalized body, or the same refusal, for any audio-shaped frame."""

from __future__ import annotations

import base64
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from livecli.server.schema import CLIENT_MESSAGE
from livecli.server.validate import Refusal, _walk_message, parse_client_frame

DATA = st.one_of(
    st.binary(max_size=64).map(lambda b: base64.b64encode(b).decode()),
    st.binary(max_size=64).map(lambda b: base64.urlsafe_b64encode(b).decode().rstrip("=")),
    st.text(max_size=12),
    st.none(),
    st.integers(),
)
MIME = st.one_of(st.just("audio/pcm;rate=16000"), st.text(max_size=20), st.none(), st.integers())
BLOB = st.fixed_dictionaries(
    {}, optional={"data": DATA, "mimeType": MIME, "mime_type": MIME, "displayName": st.text(max_size=4)}
)
FRAME = st.one_of(
    st.builds(lambda blob: {"realtimeInput": {"audio": blob}}, BLOB),
    st.builds(lambda blob: {"realtime_input": {"audio": blob}}, BLOB),
    st.builds(lambda blob: {"realtimeInput": {"audio": blob, "audioStreamEnd": True}}, BLOB),
    st.builds(lambda blob: {"realtimeInput": {"audio": blob}, "setup": {}}, BLOB),
)


def outcome(run: Any) -> Any:
    try:
        return run()
    except Refusal as refusal:
        return ("refused", refusal.code, refusal.reason)


def walked(message: dict[str, Any]) -> Any:
    normalized = _walk_message(message, CLIENT_MESSAGE, "")
    if len(normalized) != 1:
        return ("refused", 1007, "several")
    return next(iter(normalized.items()))


@given(FRAME, st.sampled_from([{}, {"separators": (",", ":")}, {"separators": (",", ":"), "ensure_ascii": False}]))
def test_the_fast_path_answers_as_the_walk(message: dict[str, Any], dumps: dict[str, Any]) -> None:
    """Compact frames (keys in either order) take the unparsed path, spaced ones the parsed fast path."""
    fast = outcome(lambda: parse_client_frame(json.dumps(message, **dumps)))
    slow = outcome(lambda: walked(message))
    if slow == ("refused", 1007, "several"):
        assert fast[:2] == ("refused", 1007)
    else:
        assert fast == slow


RAW_TEXT = st.text(alphabet=st.sampled_from('AQ=+/_-"\\\n\x00é\u2028 ;'), max_size=10)


@given(RAW_TEXT, RAW_TEXT, st.booleans())
def test_a_compact_audio_frame_reads_as_the_parser_reads_it(data: str, mime: str, data_first: bool) -> None:
    """Written by hand, as a client may (quotes, backslashes and control characters unescaped too): the unparsed
    path answers exactly what the parser and the walk answer, or the same refusal."""
    fields = [f'"data":"{data}"', f'"mimeType":"{mime}"']
    frame = '{"realtimeInput":{"audio":{' + ",".join(fields if data_first else fields[::-1]) + "}}}"
    fast = outcome(lambda: parse_client_frame(frame))
    try:
        message = json.loads(frame)
    except ValueError:
        assert fast == ("refused", 1007, "Invalid JSON payload received. Unexpected token.")
        return
    slow = outcome(lambda: walked(message))
    assert fast == slow


def test_a_plain_audio_frame_is_decoded() -> None:
    kind, body = parse_client_frame(
        '{"realtimeInput":{"audio":{"data":"AAE=","mimeType":"audio/pcm;rate=16000"}}}'
    )
    assert kind == "realtimeInput"
    assert body == {"audio": {"data": b"\x00\x01", "mimeType": "audio/pcm;rate=16000"}}
