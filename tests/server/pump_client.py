"""What the pump's tests share (tests/server/test_pump.py, tests/server/test_pumped_connection.py): chunks of PCM
that differ from each other, a text turn, waiting for the server (in a thread of this process) to get somewhere,
spies on `Pump.take_now` and `ServerSession.receive`, and `RawClient`: a real upgrade on a plain TCP stream, then
bytes framed and cut by the test, with the steps of its sessions (set up, closed by the test or by the server)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from helpers import LocalServer
from websockets.client import ClientProtocol
from websockets.frames import Close, Frame, Opcode
from websockets.http11 import Response
from websockets.uri import parse_uri

from livecli.server.probe import GEMINI_PATH
from livecli.server.pump import Pump
from livecli.server.session import ServerSession

__all__ = [
    "GUARD",
    "SETUP",
    "RawClient",
    "Received",
    "TakeNow",
    "close_frame",
    "closed_with",
    "distinct",
    "end",
    "ended_by_the_server",
    "finished",
    "masked",
    "set_up",
    "text",
    "text_turn",
    "until",
]

GUARD = 30.0  # stops a broken server from hanging a test; far above what a working one needs
SETUP = json.dumps({"setup": {"model": "models/gemini-3.8-live"}})


def distinct(samples: int, first: int) -> bytes:
    """s16le PCM whose samples are first, first+1, ...: every chunk of a test differs from the others."""
    return (np.arange(first, first + samples) % 65536 - 32768).astype("<i2").tobytes()


def text_turn(text: str) -> str:
    return json.dumps({"realtimeInput": {"text": text}})


async def until(condition: Callable[[], bool], what: str) -> None:
    """Wait until `condition` holds (checked every 5 ms); past GUARD, fail naming `what`."""
    for _ in range(int(GUARD / 0.005)):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"the server never got there: {what}")


@dataclass
class TakeNow:
    """What Pump.take_now was offered (message, taken) and the pumps it came from (so a test reaches the
    connection), in order."""

    calls: list[tuple[str | bytes, bool]] = field(default_factory=list)
    pumps: list[Pump] = field(default_factory=list)

    @classmethod
    def spying(cls, monkeypatch: pytest.MonkeyPatch) -> TakeNow:
        """Record every call of Pump.take_now for as long as `monkeypatch` holds (a test's fixture)."""
        spy = cls()
        original = Pump.take_now

        def recording(self: Pump, message: str | bytes) -> bool:
            taken = original(self, message)
            spy.calls.append((message, taken))
            spy.pumps.append(self)
            return taken

        monkeypatch.setattr(Pump, "take_now", recording)
        return spy

    def offered(self, message: str | bytes) -> list[bool]:
        return [taken for seen, taken in self.calls if seen == message]


def masked(opcode: Opcode, payload: bytes, *, fin: bool = True) -> bytes:
    """One client frame on the wire (masked, as a client must)."""
    return Frame(opcode, payload, fin=fin).serialize(mask=True, extensions=[])


def text(message: str) -> bytes:
    return masked(Opcode.TEXT, message.encode())


def close_frame(code: int) -> bytes:
    return masked(Opcode.CLOSE, Close(code, "").serialize())


class RawClient:
    """A real upgrade on a plain TCP stream (websockets' sans-I/O ClientProtocol), then bytes written exactly as
    the test frames and cuts them; what the server sends is parsed by the same protocol and kept."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, protocol: ClientProtocol
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.protocol = protocol
        self.response: Response | None = None
        self.frames: list[Frame] = []
        self.eof = False
        self._task = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, server: LocalServer, *, pipelined: bytes = b"") -> RawClient:
        """Connect and upgrade; `pipelined` bytes go in the same write as the upgrade request."""
        protocol = ClientProtocol(parse_uri(server.url + GEMINI_PATH), max_size=None)
        protocol.send_request(protocol.connect())
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        writer.write(b"".join(protocol.data_to_send()) + pipelined)
        client = cls(reader, writer, protocol)
        await until(lambda: client.response is not None or client.eof, "the upgrade's response")
        assert client.response is not None
        assert client.response.status_code == 101
        return client

    async def _read(self) -> None:
        while not self.eof:
            try:
                data = await self.reader.read(1 << 16)
            except ConnectionError:
                data = b""
            if data:
                self.protocol.receive_data(data)
            else:
                self.protocol.receive_eof()
            for event in self.protocol.events_received():
                if isinstance(event, Response):
                    self.response = event
                elif isinstance(event, Frame):
                    self.frames.append(event)
            self.eof = not data

    async def write(self, *chunks: bytes) -> None:
        """Each chunk in a write of its own, a moment apart, so the server reads them apart."""
        for index, chunk in enumerate(chunks):
            if index:
                await asyncio.sleep(0.002)
            self.writer.write(chunk)
            with contextlib.suppress(ConnectionError):
                await self.writer.drain()

    async def setup(self) -> None:
        await self.write(text(SETUP))
        await until(lambda: any("setupComplete" in m for m in self.messages()), "setupComplete")

    def messages(self) -> list[dict[str, Any]]:
        return [json.loads(bytes(f.data)) for f in self.frames if f.opcode is Opcode.BINARY]

    def of(self, opcode: Opcode) -> list[Frame]:
        return [f for f in self.frames if f.opcode is opcode]

    def close_codes(self) -> list[int]:
        return [Close.parse(f.data).code for f in self.of(Opcode.CLOSE)]

    async def end(self) -> None:
        """Close the connection (a close frame unless the server has ended it) and wait for the server's end."""
        if not self.eof and not self.of(Opcode.CLOSE):
            await self.write(close_frame(1000))
        await until(lambda: self.eof, "the server's end of the connection")
        await self.aclose()

    async def aclose(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


@dataclass
class Received:
    """What each ServerSession was handed (`ServerSession.receive`), in order, per session."""

    by_session: dict[ServerSession, list[str | bytes]] = field(default_factory=dict)

    @classmethod
    def spying(cls, monkeypatch: pytest.MonkeyPatch) -> Received:
        """Record every call of ServerSession.receive for as long as `monkeypatch` holds."""
        seen = cls()
        original = ServerSession.receive

        def recording(self: ServerSession, frame: str | bytes, now: float) -> None:
            seen.by_session.setdefault(self, []).append(frame)
            original(self, frame, now)

        monkeypatch.setattr(ServerSession, "receive", recording)
        return seen

    def latest(self) -> list[str | bytes]:
        """The messages of the session that started last."""
        sessions = list(self.by_session.values())
        return list(sessions[-1]) if sessions else []


async def finished(server: LocalServer) -> None:
    """Every connection's handler has ended (so the next run's session is the only one)."""
    running = server.thread.running
    assert running is not None
    await until(lambda: not running.sessions, "the server's handlers to end")


def closed_with(caplog: pytest.LogCaptureFixture, code: int) -> Callable[[], bool]:
    pattern = re.compile(rf"connection \d+ closed: {code}\b")
    return lambda: any(pattern.match(record.getMessage()) for record in caplog.records)


async def set_up(server: LocalServer, received: Received, *, pipelined: bytes = b"") -> RawClient:
    """A new session (the spy's record of earlier ones cleared), connected and, unless `pipelined` goes with the
    upgrade (setup among it), set up."""
    received.by_session.clear()
    client = await RawClient.open(server, pipelined=pipelined)
    if not pipelined:
        await client.setup()
    return client


async def end(client: RawClient, server: LocalServer) -> None:
    """The test's close (unless the server has closed), then every handler of the server ended."""
    await client.end()
    await finished(server)


async def ended_by_the_server(
    client: RawClient, server: LocalServer, caplog: pytest.LogCaptureFixture, code: int
) -> None:
    """The server ends the connection (the test sends nothing more), its handlers end and it logs `code`."""
    await until(lambda: client.eof, "the server's end of the connection")
    await client.aclose()
    await finished(server)
    await until(closed_with(caplog, code), f"the server's log of the close ({code})")
