"""The unmodified google-genai 3.4.0 SDK completes sessions against the local server over TLS (never skipped)."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import LocalServer, dev_only, local_server

from livecli.server.probe import speechlike
from livecli.server.replies import chime, resample_pcm16

genai = dev_only("google.genai")
types = dev_only("google.genai.types")

MODEL = "gemini-3.8-live"


@pytest.fixture(scope="module")
def echo(tls_dir: Path) -> Iterator[LocalServer]:
    with local_server(tls_cert=str(tls_dir / "cert.pem"), tls_key=str(tls_dir / "key.pem")) as server:
        yield server


def _client(server: LocalServer, tls_dir: Path) -> genai.Client:
    # Explicit context: these machines export SSL_CERT_FILE, which must not decide what we trust here.
    context = ssl.create_default_context(cafile=str(tls_dir / "cert.pem"))
    base = server.url.replace("wss://", "https://")
    options = types.HttpOptions(base_url=base, api_version="v1beta", async_client_args={"ssl": context})
    return genai.Client(api_key="local-test-key", http_options=options)


class Collected:
    """What one SDK receive() loop saw."""

    def __init__(self) -> None:
        self.audio = b""
        self.inputs: list[str] = []
        self.outputs: list[str] = []
        self.usage: types.UsageMetadata | None = None
        self.tool_calls: list[types.FunctionCall] = []
        self.handles: list[str] = []
        self.turn_complete = False


async def _receive(session: Any, out: Collected) -> Collected:
    async for message in session.receive():
        content = message.server_content
        if message.data:
            out.audio += message.data
        if content and content.input_transcription and content.input_transcription.text:
            out.inputs.append(content.input_transcription.text)
        if content and content.output_transcription and content.output_transcription.text:
            out.outputs.append(content.output_transcription.text)
        if message.usage_metadata:
            out.usage = message.usage_metadata
        if message.tool_call and message.tool_call.function_calls:
            out.tool_calls += message.tool_call.function_calls
            return out
        update = message.session_resumption_update
        if update and update.resumable and update.new_handle:
            out.handles.append(update.new_handle)
        if content and content.turn_complete:
            out.turn_complete = True
    return out


def _config(**extra: Any) -> types.LiveConnectConfig:
    return types.LiveConnectConfig(
        response_modalities=[types.Modality.AUDIO],
        input_audio_transcription=types.AudioTranscriptionConfig(),
        output_audio_transcription=types.AudioTranscriptionConfig(),
        **extra,
    )


MANUAL = types.RealtimeInputConfig(automatic_activity_detection=types.AutomaticActivityDetection(disabled=True))


async def test_sdk_audio_with_activity_brackets_text_and_client_content(echo: LocalServer, tls_dir: Path) -> None:
    pcm = speechlike(1.0)

    client = _client(echo, tls_dir)
    results = []
    async with client.aio.live.connect(model=MODEL, config=_config(realtime_input_config=MANUAL)) as session:
        await session.send_realtime_input(activity_start=types.ActivityStart())
        for offset in range(0, len(pcm), 1280):
            blob = types.Blob(data=pcm[offset : offset + 1280], mime_type="audio/pcm;rate=16000")
            await session.send_realtime_input(audio=blob)
        await session.send_realtime_input(activity_end=types.ActivityEnd())
        results.append(await _receive(session, Collected()))
        await session.send_realtime_input(text="hello sdk")
        results.append(await _receive(session, Collected()))
        content = types.Content(role="user", parts=[types.Part(text="from client content")])
        await session.send_client_content(turns=content, turn_complete=True)
        results.append(await _receive(session, Collected()))
    audio_turn, text_turn, content_turn = results
    assert audio_turn.audio == chime() + resample_pcm16(pcm, 16000)
    assert audio_turn.inputs == ["[1.00 s of audio]"]
    assert audio_turn.usage is not None
    assert audio_turn.usage.prompt_token_count == 25
    assert text_turn.outputs == ['turn 2: heard "hello sdk"']
    assert text_turn.turn_complete
    assert content_turn.outputs == ['turn 3: heard "from client content"']


async def test_sdk_audio_under_automatic_vad(echo: LocalServer, tls_dir: Path) -> None:
    vad = types.RealtimeInputConfig(
        automatic_activity_detection=types.AutomaticActivityDetection(silence_duration_ms=100)
    )
    # Speech, then 0.5 s of silence, sent at once: the turn ends 100 ms (of the server's clock) after it arrives.
    pcm = speechlike(0.4) + bytes(32000 // 2)

    async with _client(echo, tls_dir).aio.live.connect(
        model=MODEL, config=_config(realtime_input_config=vad)
    ) as s:
        for offset in range(0, len(pcm), 1280):
            await s.send_realtime_input(
                audio=types.Blob(data=pcm[offset : offset + 1280], mime_type="audio/pcm;rate=16000")
            )
        result = await asyncio.wait_for(_receive(s, Collected()), 5)
    assert result.inputs == ["[0.40 s of audio]"]
    assert result.turn_complete


async def test_sdk_tool_call_answered_with_send_tool_response(tls_dir: Path) -> None:
    query = types.Schema(type="OBJECT", properties={"query": types.Schema(type="STRING")}, required=["query"])
    declaration = types.FunctionDeclaration(name="get_weather", description="d", parameters=query)
    tools = [types.Tool(function_declarations=[declaration])]

    with local_server(
        scenario="tool-call", tls_cert=str(tls_dir / "cert.pem"), tls_key=str(tls_dir / "key.pem")
    ) as server:
        async with _client(server, tls_dir).aio.live.connect(
            model=MODEL, config=_config(realtime_input_config=MANUAL, tools=tools)
        ) as session:
            await session.send_realtime_input(text="weather in Paris")
            first = await _receive(session, Collected())
            call = first.tool_calls[0]
            response = types.FunctionResponse(id=call.id, name=call.name, response={"result": "sunny"})
            await session.send_tool_response(function_responses=[response])
            second = await _receive(session, Collected())
    assert first.tool_calls[0].name == "get_weather"
    assert first.tool_calls[0].args == {"query": "weather in Paris"}
    assert second.outputs == ['turn 1: heard "weather in Paris"; get_weather returned {"result":"sunny"}']


async def test_sdk_resumption_with_a_handle(echo: LocalServer, tls_dir: Path) -> None:
    client = _client(echo, tls_dir)
    config = _config(realtime_input_config=MANUAL, session_resumption=types.SessionResumptionConfig())
    async with client.aio.live.connect(model=MODEL, config=config) as session:
        await session.send_realtime_input(text="remember me")
        first = await _receive(session, Collected())
        await session.send_realtime_input(text="again")
        first = await _receive(session, first)
        # the handle issued after turn 2 arrives with the next read
        await session.send_realtime_input(text="third")
        first = await _receive(session, first)
    resume = _config(
        realtime_input_config=MANUAL,
        session_resumption=types.SessionResumptionConfig(handle=first.handles[-1]),
    )
    async with client.aio.live.connect(model=MODEL, config=resume) as session:
        await session.send_realtime_input(text="still there")
        second = await _receive(session, Collected())
    assert len(first.handles) >= 2
    assert second.outputs == ['turn 3: heard "still there"']
