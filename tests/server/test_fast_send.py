"""send_now (livecli.server.fast_send): a frame written at once arrives as websockets' own send would deliver it,
and a client that does not read makes it step aside (the awaited send's drain then bounds the buffer)."""

from __future__ import annotations

import asyncio

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.frames import Frame, Opcode

from livecli.server.fast_send import binary_frame, send_now

FRAME = 64 * 1024
COUNT = 400  # 25 MiB: more than the socket buffers hold, so a client that does not read pauses the writer


async def test_frames_arrive_in_order_and_a_non_reading_client_bounds_the_buffer() -> None:
    seen: dict[str, int] = {"now": 0, "awaited": 0, "largest_buffer": 0}
    done = asyncio.Event()

    async def handler(ws: ServerConnection) -> None:
        for index in range(COUNT):
            frame = index.to_bytes(4, "big") * (FRAME // 4)
            if send_now(ws, frame):
                seen["now"] += 1
            else:
                seen["awaited"] += 1
                await ws.send(frame)
            seen["largest_buffer"] = max(seen["largest_buffer"], ws.transport.get_write_buffer_size())
        done.set()
        await ws.wait_closed()
        assert not send_now(ws, b"after the close")

    async with serve(handler, "127.0.0.1", 0, compression=None) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        async with connect(f"ws://127.0.0.1:{port}", compression=None, max_size=None) as client:
            await asyncio.sleep(0.5)  # not reading: the server's writes back up
            assert not done.is_set()
            received = [await asyncio.wait_for(client.recv(), 10) for _ in range(COUNT)]
            await asyncio.wait_for(done.wait(), 10)
    assert [int.from_bytes(frame[:4], "big") for frame in received] == list(range(COUNT))
    assert seen["now"] > 0
    assert seen["awaited"] > 0  # paused by the client that did not read
    assert seen["largest_buffer"] <= 2 * 2**20 + FRAME  # bounded by the write limit, not by COUNT frames


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 70000])
def test_a_frame_is_serialized_byte_for_byte_as_websockets_does(size: int) -> None:
    payload = bytes(range(256)) * (size // 256) + bytes(size % 256)
    expected = Frame(Opcode.BINARY, payload).serialize(mask=False, extensions=[])
    assert binary_frame(payload) == expected
