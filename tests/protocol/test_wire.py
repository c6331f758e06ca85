"""Wire helpers: names in either casing, tolerant base64, frame decoding."""

from __future__ import annotations

import base64
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from livecli.errors import ProtocolError
from livecli.protocol.wire import b64decode, b64encode, camel, dumps_frame, loads_frame, snake


def test_camel_and_snake_convert_protobuf_names() -> None:
    """snake_case names become camelCase and back, camelCase passes through."""
    assert camel("prebuilt_voice_config") == "prebuiltVoiceConfig"
    assert camel("voiceConfig") == "voiceConfig"
    assert snake("generationConfig") == "generation_config"


@given(st.binary(max_size=300))
def test_b64_round_trips_in_both_alphabets(data: bytes) -> None:
    """Standard and URL-safe base64, with or without padding, decode to the same bytes."""
    assert b64decode(b64encode(data)) == data
    urlsafe = base64.urlsafe_b64encode(data).decode()
    assert b64decode(urlsafe) == data
    assert b64decode(urlsafe.rstrip("=")) == data


@pytest.mark.parametrize("bad", ["@@@@", "A", 12, None, "ab=c"])
def test_bad_base64_raises_protocol_error(bad: object) -> None:
    """Anything that is not base64 raises ProtocolError, never another exception."""
    with pytest.raises(ProtocolError):
        b64decode(bad)


@pytest.mark.parametrize("frame", [b"\xff\xfe", "[1,2]", "not json", '"text"'])
def test_non_object_frames_raise_protocol_error(frame: str | bytes) -> None:
    """A frame must be a JSON object."""
    with pytest.raises(ProtocolError):
        loads_frame(frame)


def test_binary_and_text_frames_decode_alike() -> None:
    """The service sends binary frames; clients send text: both decode."""
    assert loads_frame(b'{"setupComplete":{}}') == loads_frame('{"setupComplete":{}}') == {"setupComplete": {}}


def test_dumps_frame_is_compact_utf8_json() -> None:
    """Both ends send frames through it: compact, UTF-8 as is, a lone surrogate as U+FFFD."""
    assert dumps_frame({"a": [1, "é"]}) == '{"a":[1,"é"]}'
    assert dumps_frame({"text": "a\ud800b"}) == '{"text":"a\ufffdb"}'


@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf])
def test_dumps_frame_refuses_numbers_json_cannot_hold(number: float) -> None:
    with pytest.raises(ValueError, match="JSON"):
        dumps_frame({"temperature": number})
