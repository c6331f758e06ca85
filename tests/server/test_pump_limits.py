"""What the pump, the pacer and the pumped connection keep bounded against a client (docs/wire.md, "Limits of the
local server"): the pacer's heap, the frames one flush hands out, filters built off the loop, the calls into
websockets per read. Each test failed on the code before its fix (found by review)."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest
from helpers import local_server
from pump_client import RawClient, end, text, until
from session_harness import MODEL, Harness
from websockets.asyncio.connection import Connection

import livecli.server.pumped_connection as pumped_connection
from livecli.server.inbound_audio import PLANS, RatePlans
from livecli.server.pacer import STALE_SLACK
from livecli.server.session import MAX_PENDING
from livecli.server.session_queue import Send

EXPLICIT = {"realtimeInputConfig": {"automaticActivityDetection": {"disabled": True}}}
NO_INTERRUPTION = {
    "realtimeInputConfig": {
        "automaticActivityDetection": {"disabled": True},
        "activityHandling": "NO_INTERRUPTION",
    }
}
TEXT_TURN = json.dumps(
    {"clientContent": {"turns": [{"role": "user", "parts": [{"text": "hi"}]}], "turnComplete": True}}
)
ACTIVITY_START = json.dumps({"realtimeInput": {"activityStart": {}}})
MB = 1 << 20


async def test_a_client_that_moves_its_deadline_back_and_forth_leaves_a_bounded_pacer_heap() -> None:
    cycles = 400
    with local_server(reply_speed=1) as server:
        running = server.thread.running
        assert running is not None
        client = await RawClient.open(server)
        await client.write(text(json.dumps({"setup": {"model": MODEL, **EXPLICIT}})))
        await until(lambda: any("setupComplete" in m for m in client.messages()), "setupComplete")
        for _ in range(cycles // 50):
            await client.write((text(TEXT_TURN) + text(ACTIVITY_START)) * 50)
        await until(lambda: sum(1 for m in client.messages() if "interrupted" in json.dumps(m)) > 0, "a cut")
        await asyncio.sleep(0.3)  # every reply's first-chunk deadline (the non-stale kind) has passed by now
        entries = len(running.pacer)
        await client.aclose()
    # One live connection: its entry and at most 2 x STALE_SLACK stale ones, not one per cycle.
    assert entries <= 1 + 2 * STALE_SLACK + 1


def test_unpaced_replies_due_at_once_are_not_handed_out_whole() -> None:
    h = Harness(reply_speed=0)
    h.send({"setup": {"model": MODEL, **NO_INTERRUPTION}})
    h.session.tick(h.now)
    pcm = b"\x01\x02" * 16000 * 10
    frame = json.dumps(
        {"realtimeInput": {"audio": {"data": base64.b64encode(pcm).decode(), "mimeType": "audio/pcm"}}}
    )
    for _ in range(MAX_PENDING):
        h.session.receive(ACTIVITY_START, h.now)
        h.session.receive(frame, h.now)
        h.session.receive('{"realtimeInput":{"activityEnd":{}}}', h.now)
    actions = h.session.tick(h.now)  # what Pump._send_due gets, and keeps in _drain's `rest` if the socket is full
    handed_out = sum(len(action.frame) for action in actions if isinstance(action, Send))
    assert handed_out < 1 * MB  # 16 x 10 s turns: about 11 MB (16 x 120 s: about 130 MB)


async def test_a_json_escaped_rate_is_not_built_on_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    rate = 47011
    assert rate not in PLANS
    built_on_loop: list[bool] = []
    original = RatePlans.build

    def spying(self: RatePlans, wanted: int) -> object:
        if wanted == rate and wanted not in self:  # (a built filter is only looked up)
            try:
                asyncio.get_running_loop()
                built_on_loop.append(True)
            except RuntimeError:
                built_on_loop.append(False)
        return original(self, wanted)

    monkeypatch.setattr(RatePlans, "build", spying)
    escaped = '{"realtimeInput":{"audio":{"data":"AAAA","mimeType":"audio/pcm;rate\\u003d' + f'{rate}"}}}}}}'
    assert json.loads(escaped)["realtimeInput"]["audio"]["mimeType"] == f"audio/pcm;rate={rate}"
    with local_server() as server:
        client = await RawClient.open(server)
        await client.setup()
        await client.write(text(escaped))
        await until(lambda: bool(built_on_loop), "the filter built")
        await end(client, server)
    assert built_on_loop == [False]


async def test_frames_not_taken_go_to_websockets_in_one_call_per_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pumped_connection, "BURST_S", 0.0)  # the budget is spent at once: nothing is taken
    calls: list[int] = []
    original = Connection.data_received

    def counting(self: Connection, data: bytes) -> None:
        calls.append(len(data))
        original(self, data)

    monkeypatch.setattr(Connection, "data_received", counting)
    frames = 200
    with local_server() as server:
        client = await RawClient.open(server)
        await client.setup()
        calls.clear()
        await client.write(text(json.dumps({"realtimeInput": {"audioStreamEnd": True}})) * frames)
        await until(lambda: sum(calls) >= frames * 6, "every frame handed to websockets")
        handed = list(calls)
        await end(client, server)
    assert len(handed) < frames // 10  # one call per read (a few reads), not one per frame
