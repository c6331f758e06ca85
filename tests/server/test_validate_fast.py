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


@given(FRAME)
def test_the_fast_path_answers_as_the_walk(message: dict[str, Any]) -> None:
    fast = outcome(lambda: parse_client_frame(json.dumps(message)))
    slow = outcome(lambda: walked(message))
    if slow == ("refused", 1007, "several"):
        assert fast[:2] == ("refused", 1007)
    else:
        assert fast == slow


def test_a_plain_audio_frame_is_decoded() -> None:
    kind, body = parse_client_frame(
        '{"realtimeInput":{"audio":{"data":"AAE=","mimeType":"audio/pcm;rate=16000"}}}'
    )
    assert kind == "realtimeInput"
    assert body == {"audio": {"data": b"\x00\x01", "mimeType": "audio/pcm;rate=16000"}}
