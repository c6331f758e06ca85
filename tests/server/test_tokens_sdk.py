"""The unmodified google-genai SDK mints an ephemeral token from the local server (`client.auth_tokens.create`,
sync and async) and opens a live session with it on the Constrained path, over TLS."""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import LocalServer, dev_only, local_server

genai = dev_only("google.genai")
types = dev_only("google.genai.types")

# The SDK marks token creation experimental with a warning on first use.
pytestmark = pytest.mark.filterwarnings("ignore::google.genai._common.ExperimentalWarning")

MODEL = "gemini-3.8-live"
KEY = "sdk-tokens-test-key"


@pytest.fixture(scope="module")
def server(tls_dir: Path) -> Iterator[LocalServer]:
    with local_server(tls_cert=str(tls_dir / "cert.pem"), tls_key=str(tls_dir / "key.pem"), require_key=KEY) as s:
        yield s


def _client(server: LocalServer, tls_dir: Path, api_key: str) -> Any:
    # Explicit contexts: these machines export SSL_CERT_FILE, which must not decide what we trust here.
    context = ssl.create_default_context(cafile=str(tls_dir / "cert.pem"))
    options = types.HttpOptions(
        base_url=server.url.replace("wss://", "https://"),
        api_version="v1alpha",
        client_args={"verify": context},
        async_client_args={"ssl": context},
    )
    return genai.Client(api_key=api_key, http_options=options)


def _constraints() -> Any:
    return types.LiveConnectConstraints(
        model=MODEL, config=types.LiveConnectConfig(response_modalities=[types.Modality.AUDIO], temperature=0.7)
    )


def test_sdk_mints_a_token_with_its_terms(server: LocalServer, tls_dir: Path) -> None:
    expire = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)
    config = types.CreateAuthTokenConfig(
        uses=3, expire_time=expire, live_connect_constraints=_constraints(), lock_additional_fields=[]
    )
    client = _client(server, tls_dir, KEY)  # kept: a Client closes its HTTP client when collected
    token = client.auth_tokens.create(config=config)
    assert token.name.startswith("auth_tokens/")
    assert token.uses == 3
    # google-genai 3.4 hands the answer's expireTime back as the string it read (not validated to a datetime).
    returned = dt.datetime.fromisoformat(str(token.expire_time).replace("Z", "+00:00"))
    assert abs((returned - expire).total_seconds()) < 1


def test_sdk_with_a_wrong_key_gets_the_services_refusal(server: LocalServer, tls_dir: Path) -> None:
    client = _client(server, tls_dir, "WRONG")
    with pytest.raises(genai.errors.ClientError) as caught:
        client.auth_tokens.create(config=types.CreateAuthTokenConfig(uses=1))
    assert caught.value.code == 400
    assert "API key not valid" in str(caught.value)


async def test_sdk_session_on_a_minted_token(server: LocalServer, tls_dir: Path) -> None:
    config = types.CreateAuthTokenConfig(uses=1, live_connect_constraints=_constraints())
    minting = _client(server, tls_dir, KEY)
    token = await minting.aio.auth_tokens.create(config=config)
    live = _client(server, tls_dir, token.name)
    outputs: list[str] = []
    connect_config = types.LiveConnectConfig(
        response_modalities=[types.Modality.AUDIO], output_audio_transcription=types.AudioTranscriptionConfig()
    )
    async with live.aio.live.connect(model=MODEL, config=connect_config) as session:
        await session.send_realtime_input(text="hello token")
        async for message in session.receive():
            content = message.server_content
            if content and content.output_transcription and content.output_transcription.text:
                outputs.append(content.output_transcription.text)
            if content and content.turn_complete:
                break
    assert outputs == ['turn 1: heard "hello token"']
