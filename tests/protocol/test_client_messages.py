"""Client message builders: exact wire shapes, one top-level key, round trips through JSON."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livecli.protocol import client_messages as cm
from livecli.protocol.client_messages import SetupConfig, setup_payload
from livecli.protocol.wire import camel

# docs/wire.md, "SDK behaviour": verbatim frames sent by google-genai 3.4.0 (and one by the JS SDK).
SDK_FRAMES = [
    '{"setup":{"model":"models/gemini-2.5-flash-native-audio-preview-12-2025","generationConfig":'
    '{"responseModalities":["AUDIO"],"speechConfig":{"voice_config":{"prebuilt_voice_config":{"voice_name":"Kore"}},'
    '"language_code":"en-US"}},"systemInstruction":{"parts":[{"text":"You are terse."}],"role":"user"},"tools":'
    '[{"functionDeclarations":[{"description":"Get weather for a city","name":"get_weather","parameters":'
    '{"properties":{"city":{"type":"STRING"}},"required":["city"],"type":"OBJECT"}}]}],"sessionResumption":{},'
    '"inputAudioTranscription":{},"outputAudioTranscription":{}}}',
    '{"realtime_input": {"audio": {"data": "AAEAAQABAAEAAQABAAEAAQ==", "mime_type": "audio/pcm;rate=16000"}}}',
    '{"realtime_input": {"audioStreamEnd": true}}',
    '{"realtime_input": {"activityStart": {}}}',
    '{"realtime_input": {"activityEnd": {}}}',
    '{"realtime_input": {"text": "hello"}}',
    '{"realtime_input": {"video": {"data": "_9g=", "mime_type": "image/jpeg"}}}',
    '{"client_content": {"turns": [{"parts": [{"text": "hi"}], "role": "user"}], "turnComplete": true}}',
    '{"tool_response": {"functionResponses": [{"will_continue": false, "scheduling": "WHEN_IDLE", "id": "call-1",'
    ' "name": "get_weather", "response": {"result": "sunny"}}]}}',
    '{"realtimeInput":{"activityStart":{}}}',
    '{"realtimeInput":{"audio":{"data":"AAAA","mimeType":"audio/pcm;rate=16000"}}}',
    '{"toolResponse":{"functionResponses":[{"id":"c1","name":"f","response":{"ok":1}}]}}',
]


def _camel_deep(value: Any, *, under_data: bool = False) -> Any:
    """Every key camelCased (except inside free-form user data), as a protobuf JSON parser sees the message."""
    if isinstance(value, dict):
        return {camel(k): _camel_deep(v, under_data=k in ("response", "args")) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel_deep(v) for v in value]
    return value


def test_sdk_frames_equal_livecli_builders_in_protobuf_json_terms() -> None:
    """The SDK's frames (mixed casing, URL-safe base64) mean what livecli's builders send."""
    ours = [
        setup_payload(
            SetupConfig(
                "models/gemini-2.5-flash-native-audio-preview-12-2025",
                voice="Kore",
                language="en-US",
                system_instruction="You are terse.",
                tools=json.loads(SDK_FRAMES[0])["setup"]["tools"],
            )
        ),
        json.loads(cm.audio_message(base64.b64decode("AAEAAQABAAEAAQABAAEAAQ=="))),
        json.loads(cm.audio_stream_end_message()),
        json.loads(cm.activity_start_message()),
        json.loads(cm.activity_end_message()),
        json.loads(cm.text_message("hello")),
        json.loads(cm.video_message(b"\xff\xd8", "image/jpeg")),
        json.loads(cm.client_content_message("hi")),
        json.loads(
            cm.tool_response_message(
                [
                    {
                        "willContinue": False,
                        "scheduling": "WHEN_IDLE",
                        "id": "call-1",
                        "name": "get_weather",
                        "response": {"result": "sunny"},
                    }
                ]
            )
        ),
    ]
    for frame, mine in zip(SDK_FRAMES, ours, strict=False):
        theirs = _camel_deep(json.loads(frame))
        video = theirs.get("realtimeInput", {}).get("video")
        if video:  # the SDK's URL-safe alphabet vs our standard one: same bytes
            video["data"] = base64.b64encode(base64.urlsafe_b64decode(video["data"])).decode()
        assert _camel_deep(mine) == theirs


@pytest.mark.parametrize("frame", SDK_FRAMES)
def test_sdk_frames_have_one_known_top_level_key(frame: str) -> None:
    """Each verbatim SDK frame is a valid client message shape: one known top-level key."""
    message = json.loads(frame)
    assert len(message) == 1
    assert camel(next(iter(message))) in cm.CLIENT_MESSAGE_KEYS


def test_minimal_setup_matches_the_js_sdk_frame() -> None:
    """Activity detection off, no output transcription: the JS SDK's frame (docs/wire.md, "SDK behaviour")."""
    cfg = SetupConfig("gemini-3.8-live", automatic_activity_detection=False, output_transcription=False)
    assert cm.setup_message(cfg) == (
        '{"setup":{"model":"models/gemini-3.8-live","generationConfig":{"responseModalities":["AUDIO"]},'
        '"realtimeInputConfig":{"automaticActivityDetection":{"disabled":true}},"sessionResumption":{},'
        '"inputAudioTranscription":{}}}'
    )


def test_full_setup_puts_every_field_where_the_server_expects_it() -> None:
    """Transcription at setup level, speech/thinking in generationConfig, VAD tuning, resumption handle."""
    cfg = SetupConfig(
        "projects/p/locations/l/publishers/google/models/gemini-3.8-live",
        modalities=("text",),
        temperature=0.7,
        thinking={"thinkingLevel": "LOW"},
        vad={"startOfSpeechSensitivity": "START_SENSITIVITY_LOW", "silenceDurationMs": 500},
        activity_handling="NO_INTERRUPTION",
        turn_coverage="TURN_INCLUDES_ONLY_ACTIVITY",
        resume_handle="h-1",
        transparent=True,
        context_window_compression={"slidingWindow": {}},
        extra={"generationConfig": {"mediaResolution": "MEDIA_RESOLUTION_LOW"}, "proactivity": {}},
    )
    setup = setup_payload(cfg)["setup"]
    assert setup["model"] == cfg.model
    assert setup["generationConfig"] == {
        "responseModalities": ["TEXT"],
        "temperature": 0.7,
        "thinkingConfig": {"thinkingLevel": "LOW"},
        "mediaResolution": "MEDIA_RESOLUTION_LOW",
    }
    assert setup["realtimeInputConfig"] == {
        "automaticActivityDetection": {
            "startOfSpeechSensitivity": "START_SENSITIVITY_LOW",
            "silenceDurationMs": 500,
        },
        "activityHandling": "NO_INTERRUPTION",
        "turnCoverage": "TURN_INCLUDES_ONLY_ACTIVITY",
    }
    assert setup["sessionResumption"] == {"handle": "h-1", "transparent": True}
    assert setup["contextWindowCompression"] == {"slidingWindow": {}}
    assert setup["inputAudioTranscription"] == setup["outputAudioTranscription"] == {}
    assert setup["proactivity"] == {}
    assert "inputAudioTranscription" not in setup["generationConfig"]


def test_session_resumption_is_never_null_and_can_be_omitted() -> None:
    """`{}` without a handle, absent when switched off: never `{"handle": null}`."""
    assert setup_payload(SetupConfig("m"))["setup"]["sessionResumption"] == {}
    off = setup_payload(SetupConfig("m", session_resumption=False, input_transcription=False))["setup"]
    assert "sessionResumption" not in off
    assert "inputAudioTranscription" not in off
    assert "null" not in cm.setup_message(SetupConfig("m"))


def test_disabled_activity_detection_wins_over_vad_tuning() -> None:
    """VAD sensitivities make no sense with detection off: only `disabled` is sent."""
    cfg = SetupConfig("m", automatic_activity_detection=False, vad={"silenceDurationMs": 100})
    assert setup_payload(cfg)["setup"]["realtimeInputConfig"] == {"automaticActivityDetection": {"disabled": True}}


def test_encode_refuses_zero_or_several_top_level_keys() -> None:
    """One top-level field per client message (docs/wire.md, "Framing")."""
    with pytest.raises(ValueError):
        cm.encode({"setup": {}, "realtimeInput": {}})
    with pytest.raises(ValueError):
        cm.encode({"config": {}})


def test_tool_response_requires_ids_and_audio_requires_a_positive_rate() -> None:
    """A function response without the call's id, or a nonsense rate, is a bug caught before sending."""
    with pytest.raises(ValueError):
        cm.tool_response_message([{"name": "f", "response": {}}])
    with pytest.raises(ValueError):
        cm.audio_message(b"\0\0", 0)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=4000), st.sampled_from([8000, 16000, 24000, 44100]))
def test_audio_message_equals_json_dumps_and_round_trips(pcm: bytes, rate: int) -> None:
    """The hand-built hot-path string is the same text json.dumps would give, and decodes back to the PCM."""
    text = cm.audio_message(pcm, rate)
    blob = {"data": base64.b64encode(pcm).decode(), "mimeType": f"audio/pcm;rate={rate}"}
    assert text == cm.encode({"realtimeInput": {"audio": blob}})
    assert base64.b64decode(json.loads(text)["realtimeInput"]["audio"]["data"]) == pcm


_text = st.text(max_size=40)


@settings(max_examples=60, deadline=None)
@given(
    st.one_of(
        st.builds(cm.text_message, _text),
        st.builds(cm.video_message, st.binary(max_size=50), st.sampled_from(["image/jpeg", "image/png"])),
        st.builds(cm.client_content_message, _text, st.booleans()),
        st.builds(
            lambda i, n: cm.tool_response_message([{"id": i, "name": n, "response": {"r": n}}]), _text, _text
        ),
        st.builds(
            lambda sys, voice, t: cm.setup_message(
                SetupConfig("gemini-3.8-live", system_instruction=sys, voice=voice, temperature=t)
            ),
            st.none() | _text,
            st.none() | st.sampled_from(["Kore", "Puck"]),
            st.none() | st.floats(0, 2),
        ),
        st.just(cm.activity_start_message()),
        st.just(cm.activity_end_message()),
        st.just(cm.audio_stream_end_message()),
    )
)
def test_every_builder_gives_json_with_exactly_one_known_key(frame: str) -> None:
    """Builders' output round-trips through json.loads with exactly one known top-level key."""
    message = json.loads(frame)
    assert isinstance(message, dict)
    assert len(message) == 1
    assert next(iter(message)) in cm.CLIENT_MESSAGE_KEYS
    assert json.loads(cm.encode(message)) == message


def test_text_is_escaped_as_json() -> None:
    """Quotes, backslashes and control characters in user text survive the trip."""
    text = 'say "hi"\\\n\x00é'
    assert json.loads(cm.text_message(text))["realtimeInput"]["text"] == text


def test_undecodable_user_text_still_gives_a_sendable_utf8_frame() -> None:
    """Text decoded with surrogateescape (argv, files) has lone surrogates: they become U+FFFD, not a crash."""
    frame = cm.text_message("caf\udce9 ok")
    frame.encode("utf-8")  # a WebSocket text frame must be UTF-8
    assert json.loads(frame)["realtimeInput"]["text"] == "caf\ufffd ok"
    setup = cm.setup_message(SetupConfig("m", system_instruction="\udcff"))
    assert json.loads(setup.encode())["setup"]["systemInstruction"]["parts"][0]["text"] == "\ufffd"
