"""Memory (issue 12, section 3): a client that queues long turns and never reads, or sends one huge text turn,
holds a bounded amount of the server's memory, given back when it goes; a bystander is served meanwhile. Measured
with tracemalloc (allocations, not RSS timing) and the session's queued bytes."""

from __future__ import annotations

import asyncio
import base64
import gc
import json
import tracemalloc
import weakref
from collections.abc import Iterator

import pytest
from bystander import GUARD, bystander
from helpers import local_server
from session_harness import MODEL, Harness

from livecli.server.probe import Probe, audio_frame, speechlike
from livecli.server.replies import MAX_TURN_AUDIO_S
from livecli.server.session import MAX_PENDING

NO_INTERRUPTION = {
    "realtimeInputConfig": {
        "automaticActivityDetection": {"disabled": True},
        "activityHandling": "NO_INTERRUPTION",
    }
}
MB = 1 << 20


@pytest.fixture
def traced() -> Iterator[None]:
    tracemalloc.start()
    try:
        yield
    finally:
        tracemalloc.stop()


def test_queued_long_turns_hold_their_input_not_their_replies_and_give_it_back(traced: None) -> None:
    h = Harness(reply_speed=1)  # paced replies on a clock that never moves: a client that never reads
    h.send({"setup": {"model": MODEL, **NO_INTERRUPTION}})
    pcm = b"\x01\x02" * 16000 * MAX_TURN_AUDIO_S
    frame = json.dumps(
        {"realtimeInput": {"audio": {"data": base64.b64encode(pcm).decode(), "mimeType": "audio/pcm"}}}
    )
    del pcm
    gc.collect()
    before = tracemalloc.get_traced_memory()[0]
    for _ in range(MAX_PENDING):
        h.session.receive('{"realtimeInput":{"activityStart":{}}}', h.now)
        h.session.receive(frame, h.now)
        h.session.receive('{"realtimeInput":{"activityEnd":{}}}', h.now)
        h.session.tick(h.now)
    held = tracemalloc.get_traced_memory()[0] - before
    queued = h.session.queue.pending_bytes()
    closed_early = h.session.closed
    h.session.connection_closed(h.now)
    gc.collect()
    after = tracemalloc.get_traced_memory()[0] - before
    assert not closed_early
    # 16 turns' 16 kHz input (61 MB) and one frame per reply; the replies queued whole held 232 MB.
    assert held < MAX_PENDING * MAX_TURN_AUDIO_S * 32000 * 1.2
    assert queued < 64 * 1024
    assert after < 1 * MB


URL_TOOLS = {"model": "models/gemini-2.5-flash-native-audio-preview-12-2025", "tools": [{"urlContext": {}}]}


@pytest.mark.parametrize(
    ("setup", "word"), [({}, "ab "), (URL_TOOLS, "https://example.com/a ")], ids=["echo", "urls"]
)
def test_a_huge_text_turn_is_read_for_its_first_words_only(
    traced: None, setup: dict[str, object], word: str
) -> None:
    h = Harness(reply_speed=1)
    h.send({"setup": {"model": MODEL, **setup}})
    frame = json.dumps({"realtimeInput": {"text": word * (16_000_000 // len(word))}})
    gc.collect()
    before = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    h.session.receive(frame, h.now)
    h.session.tick(h.now)
    peak = tracemalloc.get_traced_memory()[1] - before
    assert not h.session.closed
    assert peak < 48 * MB  # the parsed text itself (16 MB); split whole, it peaked at +337 MB


async def test_a_client_that_never_reads_holds_little_and_a_bystander_is_served() -> None:
    with local_server(reply_speed=1) as server:
        attacker = await Probe.open(server.url)
        await attacker.setup(**NO_INTERRUPTION)
        turn = audio_frame(speechlike(10.0))
        for _ in range(MAX_PENDING - 1):  # queued replies, paced: and the attacker reads none of them
            await attacker.send({"realtimeInput": {"activityStart": {}}})
            await attacker.send(turn)
            await attacker.send({"realtimeInput": {"activityEnd": {}}})
        running = server.thread.running
        assert running is not None
        served = await asyncio.wait_for(bystander(server.url), GUARD)
        queued = [session.queue.pending_bytes() for session in list(running.sessions.values())]
        attacker.ws.transport.abort()
        while running.sessions:  # the server lets go of the attacker (then stops at once)
            await asyncio.sleep(0.01)
    assert served.input_transcripts == ["still served"]
    assert max(queued) < 64 * 1024  # one frame per queued reply, not the replies


async def test_a_connection_that_ends_leaves_nothing_of_its_session_behind() -> None:
    with local_server() as server:
        running = server.thread.running
        assert running is not None
        probes = []
        for _ in range(20):
            probe = await Probe.open(server.url)
            await probe.setup(sessionResumption={})
            probes.append(probe)
        sessions = [weakref.ref(session) for session in list(running.sessions.values())]
        for probe in probes:
            await probe.close()
        while running.sessions:
            await asyncio.sleep(0.01)
        gc.collect()
    assert len(sessions) == 20
    assert all(ref() is None for ref in sessions)  # handles keep their snapshot, never the session
