"""`PumpedConnection` (livecli.server.pumped_connection) over real WebSockets, with the client's bytes framed and
cut by the test: whatever the cuts, the session receives the messages of one-piece writes, in order; control
frames, fragments, large, unmasked, oversized and cut-off frames and a close frame behave as websockets alone
would make them; frames pipelined with the upgrade request still arrive in order; and the rule the module relies
on to start reading (websockets' parser waits at a frame boundary with nothing buffered).

What the session received is seen by a spy on `ServerSession.receive` (the server runs in a thread of this
process); the client is a plain TCP stream upgraded with websockets' sans-I/O `ClientProtocol`."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import re
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, cast

import pytest
from helpers import LocalServer, local_server
from hypothesis import given, settings
from hypothesis import strategies as st
from test_pump import TakeNow, distinct, text_turn, until
from websockets.asyncio.server import ServerConnection
from websockets.client import ClientProtocol
from websockets.frames import Close, Frame, Opcode
from websockets.http11 import Request, Response
from websockets.server import ServerProtocol
from websockets.uri import parse_uri

import livecli.server.pumped_connection as pumped_connection
from livecli.server.probe import GEMINI_PATH, audio_frame
from livecli.server.pump import Pump
from livecli.server.pumped_connection import BURST_S, FAST_FRAME_BYTES, PumpedConnection, _at_frame_boundary
from livecli.server.session import ServerSession

SETUP = json.dumps({"setup": {"model": "models/gemini-3.8-live"}})
BEFORE = text_turn("before the frame under test")
AFTER = text_turn("after the frame under test")
BIG = text_turn("é" + "word " * 14_000)  # about 70 KiB: past FAST_FRAME_BYTES, so websockets reads it


def masked(opcode: Opcode, payload: bytes, *, fin: bool = True) -> bytes:
    """One client frame on the wire (masked, as a client must)."""
    return Frame(opcode, payload, fin=fin).serialize(mask=True, extensions=[])


def text(message: str) -> bytes:
    return masked(Opcode.TEXT, message.encode())


def close_frame(code: int) -> bytes:
    return masked(Opcode.CLOSE, Close(code, "").serialize())


def text_of_size(size: int) -> str:
    """A text turn whose UTF-8 encoding is exactly `size` bytes."""
    return text_turn("x" * (size - len(text_turn("").encode())))


@dataclass
class Received:
    """What each ServerSession was handed (`ServerSession.receive`), in order, per session."""

    by_session: dict[ServerSession, list[str | bytes]] = field(default_factory=dict)

    def latest(self) -> list[str | bytes]:
        """The messages of the session that started last."""
        sessions = list(self.by_session.values())
        return list(sessions[-1]) if sessions else []


@pytest.fixture(scope="module")
def received() -> Iterator[Received]:
    """A spy on ServerSession.receive for the module (module-scoped, so the hypothesis test can use it)."""
    seen = Received()
    original = ServerSession.receive

    def recording(self: ServerSession, frame: str | bytes, now: float) -> None:
        seen.by_session.setdefault(self, []).append(frame)
        original(self, frame, now)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ServerSession, "receive", recording)
        yield seen


@pytest.fixture(scope="module")
def server(received: Received) -> Iterator[LocalServer]:
    with local_server() as running:
        yield running


@pytest.fixture
def unlimited_burst(monkeypatch: pytest.MonkeyPatch) -> None:
    """The connection reads every frame it can take itself, however long one read's work takes (asyncio's debug
    mode and a busy machine can use up BURST_S in one frame): what follows a refused frame would reach the session
    through the fast path, were it not refused."""
    monkeypatch.setattr(pumped_connection, "BURST_S", 3600.0)


@pytest.fixture
def take_now(monkeypatch: pytest.MonkeyPatch) -> TakeNow:
    """What Pump.take_now was offered, and by which pump (so the test reaches the connection)."""
    spy = TakeNow()
    original = Pump.take_now

    def recording(self: Pump, message: str | bytes) -> bool:
        taken = original(self, message)
        spy.calls.append((message, taken))
        spy.pumps.append(self)
        return taken

    monkeypatch.setattr(Pump, "take_now", recording)
    return spy


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


async def finished(server: LocalServer) -> None:
    """Every connection's handler has ended (so the next run's session is the only one)."""
    running = server.thread.running
    assert running is not None
    await until(lambda: not running.sessions, "the server's handlers to end")


def closed_with(caplog: pytest.LogCaptureFixture, code: int) -> Callable[[], bool]:
    pattern = re.compile(rf"connection \d+ closed: {code}\b")
    return lambda: any(pattern.match(record.getMessage()) for record in caplog.records)


# --- 1. cut anywhere, the session receives what a one-piece write gives ------------------------------------------


@dataclass
class Stream:
    """Client frames after setup (their bytes, the messages they carry, a ping's payload) and where to cut them."""

    pieces: list[str]
    fragment_cuts: list[int]
    cuts: list[int]
    ping: bytes
    burst: float = BURST_S  # 0: every frame goes through websockets' queue; 3600: the connection reads all it can

    def _framed(self) -> Iterator[tuple[list[bytes], str | bytes | None]]:
        """Each piece's frames (freshly masked: their lengths never depend on the mask), the message it carries."""
        audio = itertools.count()
        for piece in self.pieces:
            if piece == "audio":
                message = audio_frame(distinct(640, 1000 * next(audio)))
                yield [text(message)], message
            elif piece == "binary":
                binary = audio_frame(distinct(320, 77_000)).encode()
                yield [masked(Opcode.BINARY, binary)], binary
            elif piece == "ping":
                yield [masked(Opcode.PING, self.ping)], None
            elif piece == "fragmented":
                data = FRAGMENTED.encode()
                parts = [data[a:b] for a, b in itertools.pairwise([0, *self.fragment_cuts, len(data)])]
                last = len(parts) - 1
                yield (
                    [masked(Opcode.CONT if i else Opcode.TEXT, p, fin=i == last) for i, p in enumerate(parts)],
                    FRAGMENTED,
                )
            else:
                yield [text(BIG)], BIG
        yield [text(MARKER)], MARKER

    def frames(self) -> list[bytes]:
        return [frame for frames, _ in self._framed() for frame in frames]

    def messages(self) -> list[str | bytes]:
        """What the session must receive, in order."""
        return [SETUP, *(message for _, message in self._framed() if message is not None)]

    def chunks(self) -> list[bytes]:
        data = b"".join(self.frames())
        bounds = [0, *sorted({cut for cut in self.cuts if 0 < cut < len(data)}), len(data)]
        return [data[a:b] for a, b in itertools.pairwise(bounds)]


FRAGMENTED = text_turn("a fragmented turn: ☃ in two or three frames")  # the cuts may fall inside the snowman
MARKER = text_turn("the end of the stream")


@st.composite
def streams(draw: st.DrawFn) -> Stream:
    pieces = draw(st.permutations(["audio", "audio", "audio", "ping", "fragmented", "binary", "big"]))
    size = len(FRAGMENTED.encode())
    fragment_cuts = sorted(draw(st.lists(st.integers(1, size - 1), min_size=1, max_size=2, unique=True)))
    ping = draw(st.binary(min_size=1, max_size=16))
    stream = Stream(pieces, fragment_cuts, [], ping, draw(st.sampled_from([0.0, BURST_S, 3600.0])))
    frames = stream.frames()
    total = sum(len(f) for f in frames)
    starts = [sum(len(f) for f in frames[:i]) for i in range(len(frames))]
    anywhere = draw(st.lists(st.integers(1, total - 1), max_size=20))
    near_frame_starts = [b + d for b, d in draw(st.lists(st.tuples(st.sampled_from(starts), st.integers(-2, 15))))]
    one_byte = draw(st.lists(st.integers(1, total - 2), max_size=6))  # a 1-byte chunk at each
    stream.cuts = [*anywhere, *near_frame_starts, *one_byte, *(p + 1 for p in one_byte)]
    return stream


@dataclass
class Run:
    received: list[str | bytes]
    pongs: list[bytes]
    close_codes: list[int]


async def run_stream(server: LocalServer, received: Received, chunks: list[bytes]) -> Run:
    """Set up, write `chunks` a moment apart, wait for the last message and the pong, close."""
    received.by_session.clear()
    client = await RawClient.open(server)
    await client.setup()
    await client.write(*chunks)
    await until(lambda: MARKER in received.latest(), "the stream's last message")
    await until(lambda: bool(client.of(Opcode.PONG)), "the pong")
    codes = client.close_codes()  # none: the server did not end the connection on its own
    await client.end()
    await finished(server)
    return Run(received.latest(), [bytes(f.data) for f in client.of(Opcode.PONG)], codes)


@settings(max_examples=15, deadline=None)
@given(stream=streams())
def test_frames_cut_anywhere_reach_the_session_as_from_one_write(
    server: LocalServer, received: Received, stream: Stream
) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pumped_connection, "BURST_S", stream.burst)
        cut = asyncio.run(run_stream(server, received, stream.chunks()))
        whole = asyncio.run(run_stream(server, received, [b"".join(stream.frames())]))
    assert whole.received == stream.messages()
    assert cut.received == whole.received
    assert cut.pongs == [stream.ping]
    assert whole.pongs == [stream.ping]
    assert cut.close_codes == []
    assert whole.close_codes == []


# --- 2. frames websockets refuses are refused as before ----------------------------------------------------------


async def refused(server: LocalServer, received: Received, frame: bytes) -> tuple[RawClient, list[str | bytes]]:
    """Set up, then BEFORE, `frame` and AFTER in one write; the close frame the server sends, then its end."""
    received.by_session.clear()
    client = await RawClient.open(server)
    await client.setup()
    await client.write(text(BEFORE) + frame + text(AFTER))
    await until(lambda: bool(client.of(Opcode.CLOSE)) or client.eof, "the server's close")
    await client.end()
    await finished(server)
    return client, received.latest()


@pytest.mark.usefixtures("unlimited_burst")
async def test_an_unmasked_frame_closes_1002_and_nothing_after_it_is_handled(
    server: LocalServer, received: Received
) -> None:
    unmasked = Frame(Opcode.TEXT, AFTER.encode()).serialize(mask=False, extensions=[])
    client, got = await refused(server, received, unmasked)
    assert client.close_codes() == [1002]
    assert got == [SETUP, BEFORE]


@pytest.mark.usefixtures("unlimited_burst")
@pytest.mark.parametrize("size", [5001, FAST_FRAME_BYTES + 10])
async def test_a_frame_over_max_message_bytes_closes_1009_and_nothing_after_it_is_handled(
    received: Received, size: int
) -> None:
    with local_server(max_message_bytes=5000) as small:
        client, got = await refused(small, received, text(text_of_size(size)))
    assert client.close_codes() == [1009]
    assert got == [SETUP, BEFORE]


@pytest.mark.usefixtures("unlimited_burst")
async def test_a_frame_of_exactly_max_message_bytes_is_handled(received: Received) -> None:
    largest = text_of_size(5000)
    received.by_session.clear()
    with local_server(max_message_bytes=5000) as small:
        client = await RawClient.open(small)
        await client.setup()
        await client.write(text(largest) + text(AFTER))
        await until(lambda: AFTER in received.latest(), "the message after the largest one")
        await client.end()
        await finished(small)
    assert received.latest() == [SETUP, largest, AFTER]
    assert client.close_codes() == [1000]  # the server's answer to the test's own close


async def test_a_header_claiming_2_62_bytes_closes_1009_without_waiting_for_them(
    server: LocalServer, received: Received
) -> None:
    header = bytes([0x81, 0x80 | 127]) + (2**62).to_bytes(8, "big") + b"\x01\x02\x03\x04"
    received.by_session.clear()
    client = await RawClient.open(server)
    await client.setup()
    await client.write(header)  # and nothing more: only the header can make the server close
    await until(lambda: bool(client.of(Opcode.CLOSE)), "the server's close")
    await client.end()
    await finished(server)
    assert client.close_codes() == [1009]
    assert received.latest() == [SETUP]


# --- 3. a close frame ends the connection; what follows it is not handled ----------------------------------------


@pytest.mark.usefixtures("unlimited_burst")
@pytest.mark.parametrize("cut", [0, 3], ids=["one write", "close frame cut"])
async def test_a_close_frame_is_answered_and_the_bytes_after_it_are_not_handled(
    server: LocalServer, received: Received, caplog: pytest.LogCaptureFixture, cut: int
) -> None:
    caplog.set_level(logging.INFO, logger="livecli.server")
    received.by_session.clear()
    client = await RawClient.open(server)
    await client.setup()
    data = text(BEFORE) + close_frame(1000) + text(AFTER)
    at = len(text(BEFORE)) + cut
    await client.write(*([data[:at], data[at:]] if cut else [data]))
    await until(lambda: client.eof, "the server's end of the connection")
    await client.aclose()
    await finished(server)
    await until(closed_with(caplog, 1000), "the server's log of the close")
    assert client.close_codes() == [1000]
    assert received.latest() == [SETUP, BEFORE]


# --- 4. the end of the stream inside a frame ---------------------------------------------------------------------

CUT_OFF = {
    "in a header": text(AFTER)[:1],
    "in a small frame's payload": text(AFTER)[: len(text(AFTER)) // 2],
    "in a large frame's payload": text(BIG)[:40_000],
    "between fragments": masked(Opcode.TEXT, AFTER.encode()[:10], fin=False),
}


@pytest.mark.usefixtures("unlimited_burst")
@pytest.mark.parametrize("partial", list(CUT_OFF.values()), ids=list(CUT_OFF))
async def test_the_end_of_the_stream_inside_a_frame_ends_the_connection_1006_unhandled(
    server: LocalServer, received: Received, caplog: pytest.LogCaptureFixture, partial: bytes
) -> None:
    caplog.set_level(logging.INFO, logger="livecli.server")
    received.by_session.clear()
    client = await RawClient.open(server)
    await client.setup()
    await client.write(text(BEFORE) + partial)
    await until(lambda: BEFORE in received.latest(), "the complete message before the cut")
    client.writer.write_eof()
    await until(lambda: client.eof, "the server's end of the connection")
    await client.aclose()
    await finished(server)
    await until(closed_with(caplog, 1006), "the server's log of an abnormal closure")
    assert received.latest() == [SETUP, BEFORE]
    assert client.close_codes() == []  # 1006 is never sent


# --- 5. the boundary rule the module starts reading on -----------------------------------------------------------


def opened_protocol() -> ServerProtocol:
    """A ServerProtocol after a real upgrade request and its accepted response, with nothing else received."""
    client = ClientProtocol(parse_uri("ws://127.0.0.1/ws"))
    client.send_request(client.connect())
    protocol = ServerProtocol()
    protocol.receive_data(b"".join(client.data_to_send()))
    (request,) = protocol.events_received()
    assert isinstance(request, Request)
    protocol.send_response(protocol.accept(request))
    return protocol


def at_boundary(protocol: ServerProtocol) -> bool:
    return _at_frame_boundary(cast(ServerConnection, SimpleNamespace(protocol=protocol)))


def test_a_fresh_protocol_after_the_handshake_is_at_a_frame_boundary() -> None:
    assert at_boundary(opened_protocol())


def test_a_protocol_waiting_for_the_upgrade_request_is_not_at_a_frame_boundary() -> None:
    assert not at_boundary(ServerProtocol())


FRAME = text(AFTER)


@pytest.mark.parametrize(
    "held",
    [1, 2, 6, len(FRAME) - 1],
    ids=["half a header", "header without mask", "header and mask only", "all but one byte"],
)
def test_a_protocol_holding_part_of_a_frame_is_not_at_a_frame_boundary(held: int) -> None:
    protocol = opened_protocol()
    protocol.receive_data(FRAME[:held])
    assert protocol.events_received() == []
    assert not at_boundary(protocol)  # at 2 and 6 its buffer is empty (the header is read): the parser decides


def test_a_protocol_is_at_a_frame_boundary_again_once_the_frame_is_complete() -> None:
    protocol = opened_protocol()
    protocol.receive_data(FRAME[:7])
    protocol.receive_data(FRAME[7:])
    (frame,) = protocol.events_received()
    assert isinstance(frame, Frame)
    assert frame.data == AFTER.encode()
    assert at_boundary(protocol)


# --- 6. frames pipelined with the upgrade request ----------------------------------------------------------------

FIRST, SECOND, THIRD = text_turn("first"), text_turn("second"), text_turn("third")


def connection_of(take_now: TakeNow) -> PumpedConnection:
    connection = take_now.pumps[-1].ws
    assert isinstance(connection, PumpedConnection)
    return connection


async def test_frames_pipelined_whole_are_handled_in_order_and_the_connection_then_reads_frames_itself(
    server: LocalServer, received: Received, take_now: TakeNow
) -> None:
    """The request, setup and two turns in one write: websockets parses them all before the handler starts, so
    they reach the session through its queue; its parser is then at a frame boundary, so later frames are read
    by the connection."""
    received.by_session.clear()
    client = await RawClient.open(server, pipelined=text(SETUP) + text(FIRST) + text(SECOND))

    def turns() -> int:
        return sum(1 for m in client.messages() if m.get("serverContent", {}).get("turnComplete"))

    await until(lambda: turns() == 2, "both pipelined turns answered")
    await client.write(text(THIRD))
    await until(lambda: turns() == 3, "the third turn answered")
    reading = connection_of(take_now)._reading  # before the close frame, which hands everything to websockets
    await client.end()
    await finished(server)
    assert received.latest() == [SETUP, FIRST, SECOND, THIRD]
    assert take_now.offered(FIRST) == []  # queued before the pump was there
    assert take_now.offered(THIRD) == [True]
    assert reading is True


async def test_a_frame_cut_across_the_handshake_is_handled_in_order_by_websockets_for_good(
    server: LocalServer, received: Received, take_now: TakeNow
) -> None:
    """The request, setup and half a frame in one write: when the pump is set websockets holds part of a frame, so
    the connection leaves every frame to websockets (which still offers complete messages to the pump)."""
    received.by_session.clear()
    first = text(FIRST)
    at = len(first) // 2
    client = await RawClient.open(server, pipelined=text(SETUP) + first[:at])
    await until(lambda: any("setupComplete" in m for m in client.messages()), "setupComplete")
    await client.write(first[at:] + text(SECOND), text(THIRD))
    await until(lambda: THIRD in received.latest(), "the third turn")
    reading = connection_of(take_now)._reading
    await client.end()
    await finished(server)
    assert received.latest() == [SETUP, FIRST, SECOND, THIRD]
    assert take_now.offered(THIRD) == [True]  # from websockets' parser (process_event), not from a queue
    assert reading is False
