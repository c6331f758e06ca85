"""`PumpedConnection` (livecli.server.pumped_connection) over real WebSockets, with the client's bytes framed and
cut by the test: whatever the cuts, the session receives the messages of one-piece writes, in order; control
frames, fragments, large, unmasked, oversized and cut-off frames and a close frame behave as websockets alone
would make them; frames pipelined with the upgrade request still arrive in order; and the rule the module relies
on to start reading (websockets' parser waits at a frame boundary with nothing buffered).

What the session received is seen by a spy on `ServerSession.receive` (the server runs in a thread of this
process); the client is a plain TCP stream upgraded with websockets' sans-I/O `ClientProtocol`."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import cast

import pytest
from helpers import LocalServer, local_server, run_async
from hypothesis import given, settings
from hypothesis import strategies as st
from pump_client import (
    SETUP,
    RawClient,
    Received,
    TakeNow,
    close_frame,
    distinct,
    end,
    ended_by_the_server,
    masked,
    set_up,
    text,
    text_turn,
    until,
)
from websockets.asyncio.server import ServerConnection
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.server import ServerProtocol
from websockets.uri import parse_uri

import livecli.server.pumped_connection as pumped_connection
from livecli.server.probe import audio_frame
from livecli.server.pumped_connection import BURST_S, FAST_FRAME_BYTES, PumpedConnection, _at_frame_boundary

BEFORE = text_turn("before the frame under test")
AFTER = text_turn("after the frame under test")
BIG = text_turn("é" + "word " * 14_000)  # about 70 KiB: past FAST_FRAME_BYTES, so websockets reads it


def text_of_size(size: int) -> str:
    """A text turn whose UTF-8 encoding is exactly `size` bytes."""
    return text_turn("x" * (size - len(text_turn("").encode())))


@pytest.fixture(scope="module")
def received() -> Iterator[Received]:
    """A spy on ServerSession.receive for the module (module-scoped, so the hypothesis test can use it)."""
    with pytest.MonkeyPatch.context() as patch:
        yield Received.spying(patch)


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
    return TakeNow.spying(monkeypatch)


@pytest.fixture
def server_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """The server's log lines (INFO and up), where it says how each connection closed."""
    caplog.set_level(logging.INFO, logger="livecli.server")
    return caplog


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
    client = await set_up(server, received)
    await client.write(*chunks)
    await until(lambda: MARKER in received.latest(), "the stream's last message")
    await until(lambda: bool(client.of(Opcode.PONG)), "the pong")
    codes = client.close_codes()  # none: the server did not end the connection on its own
    await end(client, server)
    return Run(received.latest(), [bytes(f.data) for f in client.of(Opcode.PONG)], codes)


@settings(max_examples=15, deadline=None)
@given(stream=streams())
def test_frames_cut_anywhere_reach_the_session_as_from_one_write(
    server: LocalServer, received: Received, stream: Stream
) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pumped_connection, "BURST_S", stream.burst)
        cut = run_async(run_stream(server, received, stream.chunks()))
        whole = run_async(run_stream(server, received, [b"".join(stream.frames())]))
    assert whole.received == stream.messages()
    assert cut.received == whole.received
    assert cut.pongs == [stream.ping]
    assert whole.pongs == [stream.ping]
    assert cut.close_codes == []
    assert whole.close_codes == []


# --- 2. frames websockets refuses are refused as before ----------------------------------------------------------


async def refused(server: LocalServer, received: Received, frame: bytes) -> tuple[RawClient, list[str | bytes]]:
    """Set up, then BEFORE, `frame` and AFTER in one write; the close frame the server sends, then its end."""
    client = await set_up(server, received)
    await client.write(text(BEFORE) + frame + text(AFTER))
    await until(lambda: bool(client.of(Opcode.CLOSE)) or client.eof, "the server's close")
    await end(client, server)
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
    with local_server(max_message_bytes=5000) as small:
        client = await set_up(small, received)
        await client.write(text(largest) + text(AFTER))
        await until(lambda: AFTER in received.latest(), "the message after the largest one")
        await end(client, small)
    assert received.latest() == [SETUP, largest, AFTER]
    assert client.close_codes() == [1000]  # the server's answer to the test's own close


async def test_a_header_claiming_2_62_bytes_closes_1009_without_waiting_for_them(
    server: LocalServer, received: Received
) -> None:
    header = bytes([0x81, 0x80 | 127]) + (2**62).to_bytes(8, "big") + b"\x01\x02\x03\x04"
    client = await set_up(server, received)
    await client.write(header)  # and nothing more: only the header can make the server close
    await until(lambda: bool(client.of(Opcode.CLOSE)), "the server's close")
    await end(client, server)
    assert client.close_codes() == [1009]
    assert received.latest() == [SETUP]


# --- 3. a close frame ends the connection; what follows it is not handled ----------------------------------------


@pytest.mark.usefixtures("unlimited_burst")
@pytest.mark.parametrize("cut", [0, 3], ids=["one write", "close frame cut"])
async def test_a_close_frame_is_answered_and_the_bytes_after_it_are_not_handled(
    server: LocalServer, received: Received, server_log: pytest.LogCaptureFixture, cut: int
) -> None:
    client = await set_up(server, received)
    data = text(BEFORE) + close_frame(1000) + text(AFTER)
    at = len(text(BEFORE)) + cut
    await client.write(*([data[:at], data[at:]] if cut else [data]))
    await ended_by_the_server(client, server, server_log, 1000)
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
    server: LocalServer, received: Received, server_log: pytest.LogCaptureFixture, partial: bytes
) -> None:
    client = await set_up(server, received)
    await client.write(text(BEFORE) + partial)
    await until(lambda: BEFORE in received.latest(), "the complete message before the cut")
    client.writer.write_eof()
    await ended_by_the_server(client, server, server_log, 1006)
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
    client = await set_up(server, received, pipelined=text(SETUP) + text(FIRST) + text(SECOND))

    def turns() -> int:
        return sum(1 for m in client.messages() if m.get("serverContent", {}).get("turnComplete"))

    await until(lambda: turns() == 2, "both pipelined turns answered")
    await client.write(text(THIRD))
    await until(lambda: turns() == 3, "the third turn answered")
    reading = connection_of(take_now)._reading  # before the close frame, which hands everything to websockets
    await end(client, server)
    assert received.latest() == [SETUP, FIRST, SECOND, THIRD]
    assert take_now.offered(FIRST) == []  # queued before the pump was there
    assert take_now.offered(THIRD) == [True]
    assert reading is True


async def test_a_frame_cut_across_the_handshake_is_handled_in_order_by_websockets_for_good(
    server: LocalServer, received: Received, take_now: TakeNow
) -> None:
    """The request, setup and half a frame in one write: when the pump is set websockets holds part of a frame, so
    the connection leaves every frame to websockets (which still offers complete messages to the pump)."""
    first = text(FIRST)
    at = len(first) // 2
    client = await set_up(server, received, pipelined=text(SETUP) + first[:at])
    await until(lambda: any("setupComplete" in m for m in client.messages()), "setupComplete")
    await client.write(first[at:] + text(SECOND), text(THIRD))
    await until(lambda: THIRD in received.latest(), "the third turn")
    reading = connection_of(take_now)._reading
    await end(client, server)
    assert received.latest() == [SETUP, FIRST, SECOND, THIRD]
    assert take_now.offered(THIRD) == [True]  # from websockets' parser (process_event), not from a queue
    assert reading is False
