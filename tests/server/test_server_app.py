"""The websockets pump: accepted paths, binary camelCase frames, verbatim SDK frames, recording, ServerThread."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import LocalServer, local_server
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from livecli.errors import ConnectError
from livecli.protocol.endpoints import (
    EPHEMERAL_VERSION,
    GEMINI_VERSIONS,
    VERTEX_VERSIONS,
    gemini_path,
    vertex_path,
)
from livecli.server import ServerConfig, start_server
from livecli.server.probe import GEMINI_PATH, Probe, ask, speechlike
from livecli.server.validate import parse_client_frame

# Every backend's path for each of its versions (tests/protocol/test_endpoints spells them out), and `//` + query.
PATHS = [
    *(gemini_path(version) for version in GEMINI_VERSIONS),
    gemini_path(EPHEMERAL_VERSION, constrained=True),
    *(vertex_path(version) for version in VERTEX_VERSIONS),
    "/" + GEMINI_PATH + "?key=ANY",
]

# docs/wire.md, "SDK behaviour": exactly as google-genai 3.4.0 sent them.
SDK_SETUP = (
    '{"setup":{"model":"models/gemini-2.5-flash-native-audio-preview-12-2025","generationConfig":{"responseModalities":'
    '["AUDIO"],"speechConfig":{"voice_config":{"prebuilt_voice_config":{"voice_name":"Kore"}},"language_code":"en-US"}},'
    '"systemInstruction":{"parts":[{"text":"You are terse."}],"role":"user"},"tools":[{"functionDeclarations":'
    '[{"description":"Get weather for a city","name":"get_weather","parameters":{"properties":'
    '{"city":{"type":"STRING"}},'
    '"required":["city"],"type":"OBJECT"}}]}],"sessionResumption":{},"inputAudioTranscription":{},'
    '"outputAudioTranscription":{}}}'
)
SDK_FULL_SETUP = (
    '{"setup":{"model":"models/gemini-2.5-flash-native-audio-preview-12-2025","generationConfig":{"responseModalities":'
    '["AUDIO"],"temperature":0.7,"mediaResolution":"MEDIA_RESOLUTION_LOW","thinkingConfig":{"thinking_budget":0},'
    '"enableAffectiveDialog":true},"tools":[{"googleSearch":{}},{"codeExecution":{}},{"functionDeclarations":'
    '[{"description":"d","name":"lookup","behavior":"NON_BLOCKING"}]}],"sessionResumption":{"handle":"HANDLE"},'
    '"realtimeInputConfig":{"automatic_activity_detection":{"disabled":true,"start_of_speech_sensitivity":'
    '"START_SENSITIVITY_LOW","end_of_speech_sensitivity":"END_SENSITIVITY_LOW","prefix_padding_ms":20,'
    '"silence_duration_ms":500},"activity_handling":"NO_INTERRUPTION","turn_coverage":"TURN_INCLUDES_ONLY_ACTIVITY"},'
    '"contextWindowCompression":{"trigger_tokens":25600,"sliding_window":{"target_tokens":12800}},'
    '"proactivity":{"proactive_audio":true}}}'
)
TINY_JPEG = (  # URL-safe base64, as the SDK emits it
    "_9j_4AAQSkZJRgABAQAAAQABAAD_2wBDAFA3PEY8MlBGQUZaVVBfeMiCeG5uePWvuZHI______________________________________"
    "______________wAALCAABAAEBAREA_8QAFAABAAAAAAAAAAAAAAAAAAAABP_EABQQAQAAAAAAAAAAAAAAAAAAAAD_2gAIAQEAAD8AE__Z"
)
# Its id answers no call of the session (the server closes that with 1007), so only its shape is checked.
SDK_TOOL_RESPONSE = (
    '{"tool_response": {"functionResponses": [{"will_continue": false, "scheduling": "WHEN_IDLE", "id": "call-1", '
    '"name": "get_weather", "response": {"result": "sunny"}}]}}'
)
SDK_MESSAGES = [
    '{"realtime_input": {"activityStart": {}}}',
    '{"realtime_input": {"audio": {"data": "AAEAAQABAAEAAQABAAEAAQ==", "mime_type": "audio/pcm;rate=16000"}}}',
    '{"realtime_input": {"mediaChunks": [{"data": "AAA=", "mime_type": "audio/pcm"}]}}',
    # The SDK's frame with a whole (1x1) JPEG in place of its two-byte sample: frames must decode.
    '{"realtime_input": {"video": {"data": "' + TINY_JPEG + '", "mime_type": "image/jpeg"}}}',
    '{"realtime_input": {"activityEnd": {}}}',
    '{"realtime_input": {"audioStreamEnd": true}}',
    '{"contextUpdate": {"systemInstruction": {"parts": [{"text": "Be brief."}], "role": "user"}, '
    '"tools": {"tools": []}}}',
    '{"realtime_input": {"text": "hello"}}',
    '{"client_content": {"turns": [{"parts": [{"text": "hi"}], "role": "user"}], "turnComplete": true}}',
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    record = tmp_path_factory.mktemp("rec") / "frames.jsonl"
    with local_server(record=str(record)) as server:
        yield server


@pytest.mark.parametrize("path", PATHS)
async def test_service_paths_are_accepted(server: LocalServer, path: str) -> None:
    probe = await Probe.open(server.url, path)
    await probe.setup()
    await probe.close()


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/ws/other",
        gemini_path("v2"),
        "//" + vertex_path("v1"),
    ],
)
async def test_other_paths_get_404_at_upgrade(server: LocalServer, path: str) -> None:
    with pytest.raises(InvalidStatus) as info:
        async with connect(server.url + path):
            pass
    assert info.value.response.status_code == 404


async def test_frames_are_binary_camel_case_and_the_echo_is_exact(server: LocalServer) -> None:
    pcm = speechlike(1.0)

    probe = await Probe.open(server.url)
    await probe.setup(realtimeInputConfig={"automaticActivityDetection": {"disabled": True}})
    await probe.send({"realtimeInput": {"activityStart": {}}})
    for offset in range(0, len(pcm), 1280):
        from livecli.server.probe import audio_frame

        await probe.send(audio_frame(pcm[offset : offset + 1280]))
    await probe.send({"realtimeInput": {"activityEnd": {}}})
    turn = await probe.turn()  # Probe.recv asserts every frame is binary
    from livecli.server.replies import chime, resample_pcm16

    assert turn.audio == chime() + resample_pcm16(pcm, 16000)
    assert turn.input_transcripts == ["[1.00 s of audio]"]
    assert turn.output_transcripts == ["turn 1: heard 1.00 s of audio"]
    assert turn.usage is not None
    assert turn.usage["promptTokenCount"] == 25
    assert turn.kinds()[-2:] == ["generationComplete", "turnComplete"]
    for message in turn.messages:
        assert all("_" not in key for key in json.dumps(message).split('"')[1::2] if key.isidentifier())
    await probe.close()


async def test_verbatim_sdk_frames_are_accepted(server: LocalServer) -> None:
    probe = await Probe.open(server.url, "/" + gemini_path("v1"))
    await probe.send(SDK_SETUP)
    assert "setupComplete" in await probe.recv()
    handle = (await probe.recv())["sessionResumptionUpdate"]["newHandle"]
    await probe.close()
    full = await Probe.open(server.url)
    await full.send(SDK_FULL_SETUP.replace("HANDLE", handle))
    assert "setupComplete" in await full.recv()
    for message in SDK_MESSAGES:
        await full.send(message)
    first = await full.turn()  # activityStart..activityEnd turn
    assert first.input_transcripts == ["[0.00 s of audio]"]
    second = await full.turn()
    assert second.input_transcripts == ["hello"]
    third = await full.turn()
    assert third.output_transcripts == ['turn 3: heard "hi"']
    await full.close()
    assert parse_client_frame(SDK_TOOL_RESPONSE)[0] == "toolResponse"


async def test_sdk_38_setup_with_thinking_is_refused(server: LocalServer) -> None:
    frame = (
        '{"setup":{"model":"models/gemini-3.8-live","generationConfig":{"responseModalities":["AUDIO"],'
        '"thinkingConfig":{"thinking_level":"LOW"}},"historyConfig":{"initial_history_in_client_content":true}}}'
    )
    probe = await Probe.open(server.url)
    await probe.send(frame)
    code, _ = await probe.closed()
    assert code == 1007


async def test_record_has_every_frame_without_base64(server: LocalServer) -> None:
    await ask(server.url, "record me")
    running = server.thread.running
    assert running is not None
    assert running.recorder.recorder is not None
    path = Path(running.recorder.recorder.directory) / "frames.jsonl"
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    kinds = {(line["from"], line["kind"]) for line in lines}
    assert {
        ("client", "setup.model"),
        ("client", "realtimeInput.text"),
        ("server", "serverContent.modelTurn"),
        ("server", "setupComplete"),
        ("client", "open"),
    } <= kinds
    audio = [line for line in lines if line["kind"] == "serverContent.modelTurn"]
    assert (
        audio[0]["message"]["serverContent"]["modelTurn"]["parts"][0]["inlineData"]["data"]["sidecar"]
        == "reply.wav"
    )
    assert all(isinstance(line["t"], float) for line in lines)


async def test_start_server_in_a_running_loop_and_busy_port() -> None:
    running = await start_server(ServerConfig(port=0, reply_speed=0))
    assert running.url == f"ws://127.0.0.1:{running.port}"
    probe = await Probe.open(running.url, GEMINI_PATH)
    await probe.setup()
    await probe.close()
    with pytest.raises(ConnectError):
        await start_server(ServerConfig(port=running.port))
    await running.close()


async def test_client_text_in_the_log_is_escaped(server: LocalServer, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="livecli.server"):
        await ask(server.url, "\x1b]0;owned\x07\x1b[2J hi")
    logged = [record.getMessage() for record in caplog.records if "owned" in record.getMessage()]
    assert logged
    assert not any("\x1b" in line for line in logged)
    assert not any("\x07" in line for line in logged)
    assert "\\x1b[2J" in logged[0]


async def test_limits_over_the_wire_setup_timeout_and_huge_frames() -> None:
    """No setup → 1011 after setup_timeout_s; a frame over max_message_bytes → 1009 (websockets' check)."""
    with local_server(setup_timeout_s=0.2, max_message_bytes=4096) as server:
        idle = await Probe.open(server.url)
        huge = await Probe.open(server.url)
        await huge.send("x" * 5000)
        idle_code, idle_reason = await idle.closed()
        huge_code, _ = await huge.closed()
    assert idle_code == 1011
    assert idle_reason is not None
    assert "DEADLINE_EXCEEDED" in idle_reason
    assert huge_code == 1009


async def test_a_failure_in_the_pump_closes_1011(monkeypatch: pytest.MonkeyPatch) -> None:
    """An error while sending (here: the pump's flush) closes with 1011 instead of hanging the connection."""
    from livecli.server.pump import Pump

    original = Pump._send_due

    def flaky(self: Pump) -> None:
        if self.session.turn >= 1:
            raise RuntimeError("bug in the pump")
        original(self)

    monkeypatch.setattr(Pump, "_send_due", flaky)
    with local_server() as server:
        probe = await Probe.open(server.url)
        await probe.setup()
        await probe.send({"realtimeInput": {"text": "hi"}})
        assert await probe.closed() == (1011, "Internal error encountered.")
