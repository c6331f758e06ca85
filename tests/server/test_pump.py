"""The server's pump (livecli.server.pump) over real WebSockets: messages taken straight from websockets' parser
and messages left to its queue reach the session in the order sent; a fragmented message, invalid UTF-8 and a
client that does not read behave as before the pump; the queue's backlog empties, so the fast path comes back.

A `Pump.take_now` spy shows which path a message took (the server runs in a thread of this process)."""

from __future__ import annotations

import json
import socket
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from helpers import local_server
from pump_client import GUARD, TakeNow, distinct, text_turn, until
from session_harness import NO_VAD
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection

import livecli.server.pump as pump_module
from livecli.server import fast_send
from livecli.server.inbound_audio import PLANS
from livecli.server.probe import GEMINI_PATH, Probe, audio_frame
from livecli.server.pump import Pump
from livecli.server.pumped_connection import PumpedConnection

START = json.dumps({"realtimeInput": {"activityStart": {}}})
END = json.dumps({"realtimeInput": {"activityEnd": {}}})
NO_INTERRUPTION: dict[str, Any] = {"realtimeInputConfig": {"activityHandling": "NO_INTERRUPTION"}}


@pytest.fixture
def take_now(monkeypatch: pytest.MonkeyPatch) -> TakeNow:
    return TakeNow.spying(monkeypatch)


@pytest.fixture
def rate_44k_unbuilt(monkeypatch: pytest.MonkeyPatch) -> None:
    """The process's filter cache starts empty for the test (restored after): a 44.1 kHz frame needs its filter
    built in a thread, so the pump leaves it to websockets' queue."""
    monkeypatch.setattr(PLANS, "_built", OrderedDict())


def write_in_one_read(probe: Probe, messages: list[str]) -> None:
    """Frame `messages` and write them in one piece, so the server parses them from one read (in one burst)."""
    ws = probe.ws
    for message in messages:
        ws.protocol.send_text(message.encode())
    ws.transport.write(b"".join(ws.protocol.data_to_send()))


AFTER = text_turn("after the queued ones")


@dataclass
class QueuedTurn:
    """An audio turn whose first chunk (44.1 kHz, its filter not built) went through the queue, the rest behind
    it in the same read; then a text turn (AFTER), answered."""

    chunks: list[bytes]
    received: bytes
    first_frame: str
    after: list[str]


async def queued_turn(take_now: TakeNow) -> QueuedTurn:
    """On a server of its own that keeps the audio its session received."""
    with local_server(keep_received_audio=True) as server:
        running = server.thread.running
        assert running is not None
        probe = await Probe.open(server.url)
        await probe.setup(**NO_VAD)
        await probe.send(START)
        # Once activityStart is in, the burst below starts a read of its own.
        await until(lambda: START in [seen for seen, _ in take_now.calls], "activityStart offered to the pump")
        chunks = [distinct(441, 0), *(distinct(160, 10_000 * i) for i in range(1, 5))]  # 10 ms at 44.1, 4 × 10 ms
        frames = [audio_frame(chunks[0], 44100), *(audio_frame(chunk) for chunk in chunks[1:]), END]
        write_in_one_read(probe, frames)
        await probe.turn(GUARD)
        (session_audio,) = running.received_audio().values()
        await probe.send(AFTER)
        after = await probe.turn(GUARD)
        await probe.close()
    return QueuedTurn(chunks, session_audio, frames[0], after.input_transcripts)


async def test_audio_reaches_the_session_in_the_order_sent_across_both_paths(
    take_now: TakeNow, rate_44k_unbuilt: None
) -> None:
    turn = await queued_turn(take_now)
    assert turn.received == b"".join(turn.chunks)  # the 44.1 kHz chunk first (kept as sent), then the 16 kHz ones
    assert take_now.offered(turn.first_frame) == [False]  # it did go through the queue


async def test_after_queued_messages_the_next_one_is_taken_straight_from_the_parser(
    take_now: TakeNow, rate_44k_unbuilt: None
) -> None:
    turn = await queued_turn(take_now)
    assert turn.after == ["after the queued ones"]
    assert take_now.offered(AFTER) == [True]  # the backlog emptied: the fast path took the next message
    connection = take_now.pumps[-1].ws
    assert isinstance(connection, PumpedConnection)
    assert connection.backlog == 0


async def test_a_fragmented_message_is_answered_like_a_whole_one_and_before_the_next() -> None:
    message = text_turn("first turn")
    with local_server() as server:
        whole = await Probe.open(server.url)
        await whole.setup(**NO_INTERRUPTION)
        await whole.send(message)
        expected = await whole.turn(GUARD)
        await whole.close()
        probe = await Probe.open(server.url)
        await probe.setup(**NO_INTERRUPTION)
        await probe.ws.send([message[:7], message[7:20], message[20:]])  # a text message in three frames
        await probe.send(text_turn("second turn"))
        first = await probe.turn(GUARD)
        second = await probe.turn(GUARD)
        await probe.close()
    assert first.input_transcripts == ["first turn"]
    assert second.input_transcripts == ["second turn"]
    assert first.messages == expected.messages


@pytest.mark.parametrize("when", ["before setup", "after setup"])
async def test_invalid_utf8_in_a_text_frame_still_closes_1007(when: str) -> None:
    with local_server() as server:
        probe = await Probe.open(server.url)
        if when == "after setup":
            await probe.setup()
        probe.ws.protocol.send_text(b'{"realtimeInput":{"text":"\xff\xfe"}}')
        probe.ws.send_data()
        code, _ = await probe.closed(GUARD)
    assert code == 1007


@dataclass
class Writes:
    """The server's transport buffer after each write of the pump (read in the server's thread), and how many
    flushes the socket did not take at once. Each connection's kernel send buffer is made small (4 KiB, no
    autotuning), so a client that does not read backs the server up after a few KiB on any machine."""

    buffered: list[int] = field(default_factory=list)
    drains: int = 0
    connections: weakref.WeakSet[ServerConnection] = field(default_factory=weakref.WeakSet)

    def most(self, since: int) -> int:
        """The largest buffer seen since the `since`-th write."""
        return max(self.buffered[since:], default=0)


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> Writes:
    seen = Writes()
    original_drain = Pump._drain

    def send_now(connection: ServerConnection, frame: bytes) -> bool:
        if connection not in seen.connections:  # its first frame (setupComplete): make its send buffer small
            seen.connections.add(connection)
            connection.transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        sent = fast_send.send_now(connection, frame)
        seen.buffered.append(connection.transport.get_write_buffer_size())
        return sent

    async def drain(self: Pump, *args: Any) -> None:
        seen.drains += 1
        seen.buffered.append(self.ws.transport.get_write_buffer_size())
        await original_drain(self, *args)
        seen.buffered.append(self.ws.transport.get_write_buffer_size())

    monkeypatch.setattr(pump_module, "send_now", send_now)
    monkeypatch.setattr(Pump, "_drain", drain)
    return seen


@pytest.fixture
def small_receive_buffer() -> Iterator[Callable[[int], socket.socket]]:
    """Connected sockets whose receive buffer is small: a client that stops reading backs the server up soon."""
    made: list[socket.socket] = []

    def connected(port: int) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        made.append(sock)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", port))
        return sock

    yield connected
    for sock in made:
        sock.close()


BOUND = 256 << 10  # websockets' write limit (32 KiB) and a frame or two; the reply's frames are about 650 KB
REPLY_S = 10  # of input audio: its echo (about 650 KB of frames) is far more than the sockets' buffers hold


async def audio_turn(probe: Probe, pcm: bytes, *, reading: bool = True) -> None:
    """Set up without VAD and send `pcm` as one bracketed turn; with `reading=False` the client stops reading
    (its transport) before the turn ends, so the server meets a client that does not read its reply."""
    await probe.setup(**NO_VAD)
    await probe.send(START)
    for start in range(0, len(pcm), 32000):
        await probe.send(audio_frame(pcm[start : start + 32000]))
    if not reading:
        probe.ws.transport.pause_reading()
    await probe.send(END)


async def test_a_client_that_does_not_read_backs_up_a_bounded_buffer_and_then_gets_the_whole_reply(
    writes: Writes, small_receive_buffer: Callable[[int], socket.socket]
) -> None:
    """Unpaced, so one flush holds the whole reply: the socket stops taking it and the rest is awaited (the
    draining task). tests/server/test_attacks_memory.py bounds the session's queue under paced replies; this is
    the socket's side, and the reply delivered whole and in order once the client reads again."""
    pcm = distinct(16000 * REPLY_S, 0)
    with local_server() as server:
        reader = await Probe.open(server.url)
        await audio_turn(reader, pcm)
        expected = await reader.turn(GUARD)
        await reader.close()
        drains_before = writes.drains
        buffered_before = len(writes.buffered)
        ws = await connect(
            server.url + GEMINI_PATH, sock=small_receive_buffer(server.port), compression=None, max_size=None
        )
        stalled = Probe(ws)
        await audio_turn(stalled, pcm, reading=False)
        await until(
            lambda: writes.drains > drains_before or writes.most(buffered_before) >= BOUND,
            "a flush the socket did not take",
        )
        ws.transport.resume_reading()
        got = await stalled.turn(GUARD)
        await stalled.close()
    assert got.audio == expected.audio  # whole and in order
    assert got.kinds() == expected.kinds()
    assert writes.most(buffered_before) < BOUND
