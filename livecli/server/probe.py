"""A minimal raw Live client for the server's tests and benches: send frames, collect turns, see the close."""

from __future__ import annotations

import asyncio
import base64
import json
import ssl
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from livecli.protocol.endpoints import GEMINI_DEFAULT_VERSION, gemini_path

__all__ = ["GEMINI_PATH", "Probe", "Turn", "ask", "audio_frame"]

GEMINI_PATH = gemini_path(GEMINI_DEFAULT_VERSION)


def audio_frame(pcm: bytes, rate: int = 16000) -> str:
    """A realtimeInput audio frame (camelCase, standard base64)."""
    data = base64.b64encode(pcm).decode("ascii")
    return f'{{"realtimeInput":{{"audio":{{"mimeType":"audio/pcm;rate={rate}","data":"{data}"}}}}}}'


@dataclass
class Turn:
    """Everything received up to and including one turn's end."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    audio: bytes = b""
    texts: list[str] = field(default_factory=list)
    input_transcripts: list[str] = field(default_factory=list)
    output_transcripts: list[str] = field(default_factory=list)
    usage: dict[str, Any] | None = None
    interrupted: bool = False

    def kinds(self) -> list[str]:
        """The messages' top-level/serverContent keys in order, e.g. `generationComplete`."""
        out = []
        for message in self.messages:
            top = next(iter(message))
            body = message[top]
            out.append(next(iter(body)) if top == "serverContent" and isinstance(body, dict) and body else top)
        return out


class Probe:
    """One raw connection. Frames from the server must be binary JSON; anything else raises AssertionError."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    @classmethod
    async def open(
        cls,
        url: str,
        path: str = GEMINI_PATH,
        *,
        headers: dict[str, str] | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> Probe:
        """Connect to `url` + `path` (path may carry a query)."""
        ws = await connect(
            url + path,
            additional_headers=headers,
            ssl=ssl_context,
            compression=None,
            max_size=None,
            open_timeout=5,
        )
        return cls(ws)

    async def send(self, message: dict[str, Any] | str) -> None:
        """Send a dict as JSON text, or a prepared string as is."""
        await self.ws.send(message if isinstance(message, str) else json.dumps(message))

    async def recv(self, timeout: float = 5.0) -> dict[str, Any]:
        """The next server message (asserting it came as a binary frame)."""
        frame = await asyncio.wait_for(self.ws.recv(), timeout)
        assert isinstance(frame, bytes), f"server sent a text frame: {frame!r}"
        message = json.loads(frame)
        assert isinstance(message, dict)
        return message

    async def setup(self, model: str = "models/gemini-3.8-live", **fields: Any) -> dict[str, Any]:
        """Send a setup (extra camelCase fields merged in) and return the setupComplete message."""
        await self.send({"setup": {"model": model, **fields}})
        message = await self.recv()
        assert "setupComplete" in message, message
        return message

    async def turn(self, timeout: float = 5.0, *, until: str = "turnComplete") -> Turn:
        """Collect messages until a serverContent carrying `until` (turnComplete, generationComplete...)."""
        result = Turn()
        while True:
            message = await self.recv(timeout)
            result.messages.append(message)
            content = message.get("serverContent", {})
            for part in content.get("modelTurn", {}).get("parts", []):
                if "inlineData" in part:
                    result.audio += base64.b64decode(part["inlineData"]["data"])
                if "text" in part:
                    result.texts.append(part["text"])
            if "inputTranscription" in content:
                result.input_transcripts.append(content["inputTranscription"]["text"])
            if "outputTranscription" in content:
                result.output_transcripts.append(content["outputTranscription"]["text"])
            if "usageMetadata" in message:
                result.usage = message["usageMetadata"]
            result.interrupted |= bool(content.get("interrupted"))
            if content.get(until) or (until not in ("turnComplete", "generationComplete") and until in message):
                return result

    async def closed(self, timeout: float = 5.0) -> tuple[int | None, str | None]:
        """Read until the server closes; return (code, reason) — (None, None) for a drop without close frame."""
        try:
            while True:
                await asyncio.wait_for(self.ws.recv(), timeout)
        except ConnectionClosed as exc:
            if exc.rcvd is None:
                return None, None
            return exc.rcvd.code, exc.rcvd.reason

    async def close(self) -> None:
        """Close normally."""
        await self.ws.close()


async def ask(
    url: str,
    text: str,
    *,
    headers: dict[str, str] | None = None,
    ssl_context: ssl.SSLContext | None = None,
    **setup: Any,
) -> Turn:
    """One session: setup (extra fields merged in), a realtimeInput text turn, its reply, a normal close."""
    probe = await Probe.open(url, headers=headers, ssl_context=ssl_context)
    await probe.setup(**setup)
    await probe.send({"realtimeInput": {"text": text}})
    turn = await probe.turn()
    await probe.close()
    return turn


def speechlike(seconds: float, *, level_dbfs: float = -20.0, rate: int = 16000, seed: int = 1) -> bytes:
    """Speech-like noise: 4 Hz syllable bursts of band-limited noise at about `level_dbfs` RMS (s16le)."""
    import numpy as np

    n = int(seconds * rate)
    rng = np.random.default_rng(seed)
    noise = np.convolve(rng.standard_normal(n + 8), np.ones(8) / 8, mode="valid")[:n]
    t = np.arange(n) / rate
    envelope = 0.55 + 0.45 * np.sin(2 * np.pi * 4 * t)
    signal = noise * envelope
    rms = float(np.sqrt(np.mean(signal**2))) or 1.0
    scaled = signal / rms * 10 ** (level_dbfs / 20) * 32767
    return bytes(np.clip(scaled, -32768, 32767).astype("<i2").tobytes())
