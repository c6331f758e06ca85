"""Server-message builders: compact camelCase JSON bytes the google-genai SDK's own types accept."""

from __future__ import annotations

import base64
import json
from typing import Any

from helpers import dev_only
from hypothesis import given, settings
from hypothesis import strategies as st

from livecli.protocol import server_messages as sm


def _sdk(frame: bytes) -> Any:
    # The strict pydantic validation (extra="forbid"): every key we send must be a real field.
    return dev_only("google.genai.types").LiveServerMessage.model_validate(json.loads(frame))


def test_every_builder_is_bytes_and_valid_for_the_sdk() -> None:
    usage = sm.usage_metadata(50, 60)
    frames = [
        sm.setup_complete(),
        sm.setup_complete("abc"),
        sm.audio_content(b"\x01\x02" * 10),
        sm.text_content("hi"),
        sm.text_content("hmm", thought=True),
        sm.input_transcription("[1.00 s of audio]"),
        sm.output_transcription("turn 1", finished=True),
        sm.generation_complete(),
        sm.turn_complete(usage, reason="NEED_MORE_INPUT", waiting_for_input=True),
        sm.interrupted(),
        sm.tool_call([{"id": "c1", "name": "f", "args": {"a": 1}}]),
        sm.tool_call_cancellation(["c1"]),
        sm.go_away(50),
        sm.resumption_update("h", True, 7),
    ]
    for frame in frames:
        assert isinstance(frame, bytes)
        assert b" " not in frame.replace(b"[1.00 s of audio]", b"").replace(b"turn 1", b"")
        _sdk(frame)


def test_usage_is_a_sibling_of_server_content() -> None:
    message = json.loads(sm.turn_complete(sm.usage_metadata(25, 50)))
    assert message["serverContent"] == {"turnComplete": True}
    assert message["usageMetadata"]["totalTokenCount"] == 75
    assert _sdk(sm.turn_complete(sm.usage_metadata(25, 50))).usage_metadata.response_token_count == 50


def test_go_away_duration_and_resumption_index() -> None:
    assert json.loads(sm.go_away(50)) == {"goAway": {"timeLeft": "50s"}}
    assert json.loads(sm.go_away(1.5)) == {"goAway": {"timeLeft": "1.5s"}}
    update = json.loads(sm.resumption_update("", False))["sessionResumptionUpdate"]
    assert update == {"newHandle": "", "resumable": False}
    assert (
        _sdk(sm.resumption_update("h", True, 3)).session_resumption_update.last_consumed_client_message_index == 3
    )


@settings(max_examples=40)
@given(st.binary(max_size=4000), st.sampled_from([16000, 24000, 48000]))
def test_audio_content_round_trips(pcm: bytes, rate: int) -> None:
    message = json.loads(sm.audio_content(pcm, rate))
    part = message["serverContent"]["modelTurn"]["parts"][0]["inlineData"]
    assert part["mimeType"] == f"audio/pcm;rate={rate}"
    assert base64.b64decode(part["data"]) == pcm
