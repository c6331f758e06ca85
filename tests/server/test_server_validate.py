"""Strict validation: setup first and once, unknown names with their snake_case path, the model table."""

from __future__ import annotations

import enum
import json
import logging
import typing
from typing import Any

import pytest
from helpers import LocalServer, dev_only
from session_harness import NO_VAD

from livecli.protocol import close_reasons as cr
from livecli.protocol.close_reasons import cut_reason
from livecli.server.probe import Probe
from livecli.server.validate import Refusal, check_setup, parse_client_frame

INVALID_ARGUMENT = cr.INVALID_ARGUMENT.text
NO_VOICE = cr.NO_VOICE.text
NON_AUDIO = cr.NON_AUDIO.text
NOT_SUPPORTED = cr.NOT_SUPPORTED.text


def _refused(frame: dict[str, Any] | str) -> Refusal:
    with pytest.raises(Refusal) as info:
        kind, body = parse_client_frame(frame if isinstance(frame, str) else json.dumps(frame))
        if kind == "setup":
            check_setup(body)
    return info.value


async def _close_after(server: LocalServer, frames: list[dict[str, Any] | str]) -> tuple[int | None, str | None]:
    probe = await Probe.open(server.url)
    for frame in frames:
        await probe.send(frame)
    return await probe.closed()


@pytest.mark.parametrize(
    ("setup", "name", "path"),
    [
        (
            {"generationConfig": {"inputAudioTranscription": {}}},
            "inputAudioTranscription",
            "setup.generation_config",
        ),
        (
            {"generation_config": {"speech_config": {"bogus_x": 1}}},
            "bogus_x",
            "setup.generation_config.speech_config",
        ),
        ({"tools": [{"functionDeclarations": [{"nam": "f"}]}]}, "nam", "setup.tools[0].function_declarations[0]"),
        (
            {"realtimeInputConfig": {"automaticActivityDetection": {"x": 1}}},
            "x",
            "setup.realtime_input_config.automatic_activity_detection",
        ),
        ({"config": {}}, "config", "setup"),
    ],
)
def test_unknown_field_at_any_depth_in_either_casing(setup: dict[str, Any], name: str, path: str) -> None:
    refusal = _refused({"setup": {"model": "models/gemini-3.8-live", **setup}})
    assert refusal.code == 1007
    assert refusal.reason == cut_reason(
        f"Invalid JSON payload received. Unknown name \"{name}\" at '{path}': Cannot find field."
    )


def test_unknown_top_level_and_bad_json() -> None:
    assert (
        _refused({"config": {}}).reason
        == 'Invalid JSON payload received. Unknown name "config": Cannot find field.'
    )
    assert _refused("not json").code == 1007
    assert _refused({"setup": {"model": "m"}, "realtimeInput": {}}).reason == INVALID_ARGUMENT


@pytest.mark.parametrize(
    ("setup", "code", "reason"),
    [
        (
            {"generationConfig": {"speechConfig": {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Bob"}}}}},
            1007,
            NO_VOICE,
        ),
        ({"generationConfig": {"responseModalities": ["TEXT"]}}, 1007, NON_AUDIO),
        ({"generationConfig": {"thinkingConfig": {"thinkingBudget": 0}}}, 1007, INVALID_ARGUMENT),
        ({"generationConfig": {"enableAffectiveDialog": True}}, 1007, INVALID_ARGUMENT),
        ({"proactivity": {"proactiveAudio": False}}, 1007, INVALID_ARGUMENT),
        ({"tools": [{"codeExecution": {}}]}, 1008, NOT_SUPPORTED),
        (
            {"generationConfig": {"responseModalities": ["FOO"]}},
            1007,
            "Invalid JSON payload received. Invalid value at 'setup.generation_config.response_modalities[0]' "
            '(Modality), "FOO"',
        ),
    ],
)
def test_model_table_refusals(setup: dict[str, Any], code: int, reason: str) -> None:
    refusal = _refused({"setup": {"model": "models/gemini-3.8-live", **setup}})
    assert (refusal.code, refusal.reason) == (code, reason)


def test_thinking_per_model() -> None:
    level = {"generationConfig": {"thinkingConfig": {"thinkingLevel": "MINIMAL"}}}
    assert _refused({"setup": {"model": "models/gemini-3.8-live-extended-thinking", **level}}).code == 1007
    ok = {"generationConfig": {"thinkingConfig": {"thinking_level": "LOW"}}}
    assert check_setup(
        parse_client_frame(json.dumps({"setup": {"model": "models/gemini-3.8-live-extended-thinking", **ok}}))[1]
    ).modalities == ("AUDIO",)
    budget = {"generationConfig": {"thinkingConfig": {"thinking_budget": 0}}}
    model = "models/gemini-2.5-flash-native-audio-preview-12-2025"
    assert check_setup(parse_client_frame(json.dumps({"setup": {"model": model, **budget}}))[1]).info is not None


def test_unknown_model_accepts_both_modalities_with_a_warning() -> None:
    info = check_setup({"model": "models/my-own-model", "generationConfig": {"responseModalities": ["TEXT"]}})
    assert info.info is None
    assert info.modalities == ("TEXT",)
    assert "my-own-model" in info.warnings[0]


def test_reasons_are_cut_at_123_bytes() -> None:
    refusal = _refused({"setup": {"model": "m", "generationConfig": {"x" * 300: 1}}})
    assert len(refusal.reason.encode()) == 123
    assert len(cut_reason("é" * 100).encode()) <= 123
    assert cut_reason("é" * 100) == "é" * 61


def test_sdk_setup_fields_are_all_known() -> None:
    """Every field the google-genai 3.4.0 types can put in a setup passes (its snake_case names too)."""
    pydantic = dev_only("pydantic")
    types = dev_only("google.genai.types")

    def sample(model: type[pydantic.BaseModel], depth: int = 0) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, field in model.model_fields.items():
            kinds = _flatten(field.annotation)
            sub = [a for a in kinds if isinstance(a, type) and issubclass(a, pydantic.BaseModel)]
            enums = [a for a in kinds if isinstance(a, type) and issubclass(a, enum.Enum)]
            if sub:
                value = sample(sub[0], depth + 1) if depth < 4 and sub[0] is not model else {}
                out[name] = [value] if "list[" in str(field.annotation) else value
            else:
                value = list(enums[0])[-1].value if enums else _typed_sample(kinds)
                out[name] = [value] if "list[" in str(field.annotation) else value
        return out

    setup = sample(types.LiveClientSetup)
    for free in ("model", "tools", "system_instruction", "safety_settings"):
        setup.pop(free, None)
    kind, body = parse_client_frame(json.dumps({"setup": setup}))
    assert kind == "setup"
    assert "generationConfig" in body
    assert "speechConfig" in body["generationConfig"]


def _typed_sample(kinds: list[Any]) -> Any:
    """A value of the field's type, as the SDK would serialize it (bytes as base64)."""
    for kind, value in ((bool, True), (int, 1), (float, 0.5), (str, "x"), (bytes, "AAAA"), (dict, {})):
        if kind in kinds:
            return value
    return {}


def _flatten(annotation: Any) -> list[Any]:
    args = typing.get_args(annotation)
    return [x for a in args for x in _flatten(a)] if args else [annotation]


async def test_over_the_wire_every_refusal(live_server: LocalServer, caplog: pytest.LogCaptureFixture) -> None:
    setup = {"setup": {"model": "models/gemini-3.8-live"}}
    assert await _close_after(live_server, [{"realtimeInput": {"text": "hi"}}]) == (1007, INVALID_ARGUMENT)
    assert await _close_after(live_server, [setup, setup]) == (1007, INVALID_ARGUMENT)
    assert await _close_after(live_server, [setup, {"realtimeInput": {"activityStart": {}}}]) == (
        1007,
        INVALID_ARGUMENT,
    )
    unknown = {"setup": {"model": "models/gemini-3.8-live", "generationConfig": {"inputAudioTranscription": {}}}}
    code, reason = await _close_after(live_server, [unknown])
    assert code == 1007
    assert reason is not None
    assert "at 'setup.generation_config'" in reason
    text = {"setup": {"model": "models/gemini-3.8-live", "generationConfig": {"responseModalities": ["TEXT"]}}}
    assert await _close_after(live_server, [text]) == (1007, NON_AUDIO)
    bad_audio = {"realtimeInput": {"audio": {"data": "!!!", "mimeType": "audio/pcm"}}}
    code, reason = await _close_after(live_server, [{"setup": {"model": "m", **NO_VAD}}, bad_audio])
    assert code == 1007
    assert reason is not None
    assert "realtime_input.audio.data" in reason


async def test_unknown_model_replies_in_text_over_the_wire(
    live_server: LocalServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="livecli.server"):
        probe = await Probe.open(live_server.url)
        await probe.setup("models/not-in-the-table", generationConfig={"responseModalities": ["TEXT"]})
        await probe.send({"realtimeInput": {"text": "two words"}})
        turn = await probe.turn()
        await probe.close()
    assert turn.texts == ['turn 1: heard "two words"']
    assert any("not-in-the-table" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        (
            {"realtimeInputConfig": {"automaticActivityDetection": {"prefixPaddingMs": "abc"}}},
            "Invalid value at 'setup.realtime_input_config.automatic_activity_detection.prefix_padding_ms' "
            '(TYPE_INT32), "abc"',
        ),
        ({"model": 5}, "Invalid value at 'setup.model' (TYPE_STRING), 5"),
        (
            {"realtimeInputConfig": {"automaticActivityDetection": {"disabled": "yes"}}},
            "Invalid value at 'setup.realtime_input_config.automatic_activity_detection.disabled' (TYPE_BOOL), "
            '"yes"',
        ),
        (
            {"generationConfig": {"responseModalities": "AUDIO"}},
            "Invalid value at 'setup.generation_config.response_modalities', \"AUDIO\"",
        ),
        (
            {"sessionResumption": {"handle": 5}},
            "Invalid value at 'setup.session_resumption.handle' (TYPE_STRING), 5",
        ),
    ],
)
def test_wrong_scalar_types_are_refused_with_their_path(setup: dict[str, Any], reason: str) -> None:
    refusal = _refused({"setup": {"model": "models/gemini-3.8-live", **setup}})
    assert (refusal.code, refusal.reason) == (1007, cut_reason("Invalid JSON payload received. " + reason))


def test_protobuf_json_forms_are_normalized() -> None:
    """Ints as strings, enums as numbers, null as unset, URL-safe bytes: all as the service parses them."""
    frame = {
        "setup": {
            "model": "models/gemini-3.8-live",
            "generationConfig": {"responseModalities": [3], "temperature": "0.5", "speechConfig": None},
            "realtimeInputConfig": {"automaticActivityDetection": {"silenceDurationMs": "300"}},
        }
    }
    _, body = parse_client_frame(json.dumps(frame))
    assert body["generationConfig"] == {"responseModalities": ["AUDIO"], "temperature": 0.5}
    assert check_setup(body).vad == {"silenceDurationMs": 300}
    _, audio = parse_client_frame('{"realtime_input":{"audio":{"data":"_9g=","mime_type":"audio/pcm"}}}')
    assert audio["audio"]["data"] == b"\xff\xd8"
    assert _refused({"toolResponse": {"functionResponses": [{"id": "x", "response": 5}]}}).code == 1007


def test_deeply_nested_json_is_1007_not_a_crash() -> None:
    assert _refused("[" * 100_000 + "]" * 100_000).code == 1007


@pytest.mark.parametrize(
    ("mime", "accepted"),
    [
        ("audio/pcm", 16000),
        ("audio/pcm;rate=24000", 24000),
        ("audio/pcm; rate=8000", 8000),
        ("audio/pcm;rate=0", None),
        ("audio/pcm;rate=96000", None),
        ("audio/wav", None),
        ("audio/flac;rate=16000", None),
    ],
)
def test_audio_mime_rates(mime: str, accepted: int | None) -> None:
    from livecli.server.validate import decode_audio_blob

    if accepted is None:
        with pytest.raises(Refusal) as info:
            decode_audio_blob({"data": b"\0\0", "mimeType": mime}, "realtime_input.audio")
        assert info.value.code == 1007
    else:
        assert decode_audio_blob({"data": b"\0\0", "mimeType": mime}, "realtime_input.audio") == (
            b"\0\0",
            accepted,
        )
