"""Transparent resumption on the local server (issue 10, "Inputs longer than a connection"): the index of the
last consumed client message, an update per second of received audio, Vertex paths only, and a resumed
connection that continues the session where its handle's index says, so each message counts once."""

from __future__ import annotations

import asyncio
import base64
import copy
import signal
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from helpers import local_server, serve_subprocess
from session_harness import MODEL, NO_VAD, Harness
from websockets.exceptions import ConnectionClosed

from livecli.protocol import close_reasons as cr
from livecli.protocol.endpoints import vertex_path
from livecli.server.probe import Probe, audio_frame
from livecli.server.resumption import HandleStore
from livecli.server.session import Close
from livecli.server.transparent import KEPT_STATES

VERTEX = vertex_path("v1beta1")
CHUNK = 1280  # 40 ms at 16 kHz
START = {"realtimeInput": {"activityStart": {}}}
END = {"realtimeInput": {"activityEnd": {}}}


def ramp(seconds: float, offset: int = 0) -> bytes:
    """Audio in which every 40 ms chunk differs, so a repeated, missing or reordered chunk shows."""
    n = int(seconds * 16000)
    return ((np.arange(n) + offset) % 65536 - 32768).astype("<i2").tobytes()


def chunks(pcm: bytes) -> list[bytes]:
    return [pcm[i : i + CHUNK] for i in range(0, len(pcm), CHUNK)]


def vertex_harness(store: HandleStore, **limits: Any) -> Harness:
    """A session whose upgrade came on a Vertex path."""
    h = Harness(store=store, reply_speed=0, **limits)
    h.session.vertex = True
    return h


def transparent_setup(handle: str | None = None) -> dict[str, Any]:
    resumption: dict[str, Any] = {"transparent": True}
    if handle:
        resumption["handle"] = handle
    return copy.deepcopy({"setup": {"model": MODEL, "sessionResumption": resumption, **NO_VAD}})


def resumable(h: Harness) -> list[dict[str, Any]]:
    updates = [m["sessionResumptionUpdate"] for m in h.messages("sessionResumptionUpdate")]
    return [u for u in updates if u["resumable"]]


def indices(h: Harness) -> list[str | None]:
    return [u.get("lastConsumedClientMessageIndex") for u in resumable(h)]


def test_the_index_counts_client_messages_after_setup() -> None:
    h = vertex_harness(HandleStore(7200))
    h.send(transparent_setup())  # setup has no index
    h.send(START)  # 0
    h.audio(ramp(0.2))  # 1
    h.send(END)  # 2: the turn, answered at once (unpaced)
    h.send({"realtimeInput": {"text": "hi"}})  # 3
    assert indices(h) == [None, "2", "3"]


def test_an_update_comes_with_each_second_of_received_audio() -> None:
    h = vertex_harness(HandleStore(7200))
    h.send(transparent_setup())
    h.send(START)  # 0
    for chunk in chunks(ramp(3.0)):  # 75 chunks of 40 ms: indices 1..75
        h.audio(chunk)
    assert indices(h) == [None, "25", "50", "75"]


def test_no_audio_no_per_second_update() -> None:
    h = vertex_harness(HandleStore(7200))
    h.send(transparent_setup())
    for _ in range(40):
        h.send(START)
        h.send(END)  # empty activities: turns without audio
    assert indices(h) == [None] + [str(2 * turn + 1) for turn in range(40)]  # one per reply, none more


def test_without_transparent_there_is_no_index_and_no_per_second_update() -> None:
    h = vertex_harness(HandleStore(7200))
    h.send({"setup": {"model": MODEL, "sessionResumption": {}, **NO_VAD}})
    h.send(START)
    for chunk in chunks(ramp(3.0)):
        h.audio(chunk)
    assert indices(h) == [None]


def test_the_gemini_api_path_refuses_transparent() -> None:
    h = Harness(store=HandleStore(7200))  # not a Vertex upgrade
    h.send(transparent_setup())
    assert h.kinds() == ["Close"]
    assert h.sent[0][2] == Close(1007, cr.INVALID_ARGUMENT.text)


def test_a_resumed_connection_continues_the_open_activity_once() -> None:
    store = HandleStore(7200)
    first = vertex_harness(store)
    first.send(transparent_setup())
    first.send(START)  # 0
    sent = chunks(ramp(1.6))  # 40 chunks: indices 1..40; an update at index 25
    for chunk in sent:
        first.audio(chunk)
    assert indices(first) == [None, "25"]
    first.session.connection_closed(first.now)  # indices 26..40 were received, not acknowledged

    second = vertex_harness(store)
    second.now = first.now + 1
    second.send(transparent_setup(resumable(first)[-1]["newHandle"]))
    assert indices(second) == ["25"]
    for chunk in sent[25:]:  # what the client resends: everything after the index
        second.audio(chunk)
    second.send(END)
    assert second.transcripts() == ["turn 1: heard 1.60 s of audio"]
    assert indices(second)[-1] == "41"


def test_turns_and_history_continue_across_a_transparent_resumption() -> None:
    store = HandleStore(7200)
    first = vertex_harness(store)
    first.send(transparent_setup())
    first.send({"realtimeInput": {"text": "one"}})  # 0: turn 1
    first.session.connection_closed(first.now)
    second = vertex_harness(store)
    second.send(transparent_setup(resumable(first)[-1]["newHandle"]))
    second.send({"realtimeInput": {"text": "two"}})  # 1: turn 2
    assert second.transcripts() == ['turn 2: heard "two"']
    assert indices(second) == ["0", "1"]
    assert [entry["content"] for entry in second.session.history] == [
        "one",
        'turn 1: heard "one"',
        "two",
        'turn 2: heard "two"',
    ]


def test_during_a_reply_the_per_second_update_is_not_resumable() -> None:
    h = Harness(store=HandleStore(7200), reply_speed=1.0)  # paced: the reply lasts
    h.session.vertex = True
    setup = transparent_setup()
    setup["setup"]["realtimeInputConfig"]["activityHandling"] = "NO_INTERRUPTION"  # no barge-in
    h.send(setup)
    h.send({"realtimeInput": {"text": "hello"}})  # 0: the reply starts
    h.send(START)  # 1
    for chunk in chunks(ramp(1.0)):
        h.audio(chunk)
    updates = [m["sessionResumptionUpdate"] for m in h.messages("sessionResumptionUpdate")]
    assert updates[-1] == {"newHandle": "", "resumable": False}


def test_only_the_newest_transparent_handles_resolve() -> None:
    store = HandleStore(7200)
    h = vertex_harness(store)
    h.send(transparent_setup())
    h.send(START)
    for chunk in chunks(ramp(KEPT_STATES + 2.0)):
        h.audio(chunk)
    handles = [u["newHandle"] for u in resumable(h)]
    assert store.resolve(handles[-1], h.now) is not None
    assert store.resolve(handles[-KEPT_STATES], h.now) is not None
    assert store.resolve(handles[0], h.now) is None


def test_a_connection_ends_after_its_share_of_received_audio() -> None:
    h = vertex_harness(HandleStore(7200), max_connection_audio_s=4.0)
    h.send(transparent_setup())
    h.send(START)
    for chunk in chunks(ramp(5.0)):
        h.audio(chunk)
    kinds = [k for k in h.kinds() if k in ("goAway", "Close")]
    assert kinds == ["goAway", "Close"]
    assert h.messages("goAway") == [{"goAway": {"timeLeft": "2s"}}]
    (close,) = [action for _, kind, action in h.sent if kind == "Close"]
    assert close == Close(cr.LIFETIME_EXCEEDED.code, cr.LIFETIME_EXCEEDED.text)
    assert h.session.message_index == 100  # 4 s: the 100th chunk; the rest was not consumed


# -- over the wire ------------------------------------------------------------------------------------------


@dataclass
class Connection:
    """What one raw connection saw."""

    updates: list[dict[str, Any]] = field(default_factory=list)
    go_aways: int = 0
    close_code: int | None = None
    transcripts: list[str] = field(default_factory=list)
    turn_complete: bool = False


async def one_connection(url: str, frames: list[str], start: int, handle: str | None) -> Connection:
    """Resume (or start) the session, send frames[start:] until the server closes, read until turn 2 ends."""
    probe = await Probe.open(url, VERTEX)
    resumption: dict[str, Any] = {"transparent": True, **({"handle": handle} if handle else {})}
    await probe.setup(MODEL, sessionResumption=resumption, **NO_VAD)
    seen = Connection()

    async def read() -> None:
        try:
            while not seen.turn_complete:
                message = await probe.recv(timeout=10)
                seen.updates += (
                    [message["sessionResumptionUpdate"]] if "sessionResumptionUpdate" in message else []
                )
                seen.go_aways += "goAway" in message
                content = message.get("serverContent", {})
                if "outputTranscription" in content:
                    seen.transcripts.append(content["outputTranscription"]["text"])
                turn_2 = bool(seen.transcripts) and seen.transcripts[-1].startswith("turn 2:")
                seen.turn_complete = turn_2 and bool(content.get("turnComplete"))
        except ConnectionClosed as exc:
            seen.close_code = exc.rcvd.code if exc.rcvd else None

    reader = asyncio.create_task(read())
    try:
        for frame in frames[start:]:
            if reader.done():
                break
            await probe.send(frame)
    except ConnectionClosed:
        pass
    await asyncio.wait_for(reader, 10)
    await probe.close()
    return seen


async def test_a_long_input_crosses_connections_exactly_once_in_order() -> None:
    pcm = ramp(12.0)
    text = '{"realtimeInput":{"text":"one"}}'
    start, end = '{"realtimeInput":{"activityStart":{}}}', '{"realtimeInput":{"activityEnd":{}}}'
    frames = [text, start, *(audio_frame(chunk) for chunk in chunks(pcm)), end]
    with local_server(max_connection_audio_s=4.5, keep_received_audio=True) as server:
        connections: list[Connection] = []
        handle, acknowledged = None, -1
        while not (connections and connections[-1].turn_complete) and len(connections) < 10:
            seen = await one_connection(server.url, frames, acknowledged + 1, handle)
            connections.append(seen)
            last = [u for u in seen.updates if u["resumable"]][-1]
            handle = last["newHandle"]
            acknowledged = int(last.get("lastConsumedClientMessageIndex", -1))
        received = server.thread.running.received_audio() if server.thread.running else {}
    assert [c.go_aways for c in connections] == [1, 1, 1]  # at 2.25 s of each connection's audio
    assert [c.close_code for c in connections] == [1008, 1008, None]  # at 4.5 s; the last one ends first
    assert connections[-1].transcripts[-1] == "turn 2: heard 12.00 s of audio"
    (session_audio,) = received.values()
    assert session_audio == pcm
    first_indices = [int(u["lastConsumedClientMessageIndex"]) for u in connections[1].updates if u["resumable"]]
    assert first_indices == sorted(first_indices)


async def test_the_gemini_api_path_refuses_transparent_over_the_wire() -> None:
    with local_server() as server:
        probe = await Probe.open(server.url)
        await probe.send(transparent_setup())
        assert await probe.closed() == (1007, cr.INVALID_ARGUMENT.text)


async def test_received_audio_is_kept_only_when_asked() -> None:
    with local_server() as server:
        probe = await Probe.open(server.url, VERTEX)
        await probe.setup(MODEL, **NO_VAD)
        await probe.send(START)
        await probe.send(audio_frame(ramp(0.1)))
        await probe.send(END)
        await probe.turn()
        await probe.close()
        assert server.thread.running is not None
        assert server.thread.running.received_audio() == {}


def test_base64_of_the_ramp_is_not_periodic_within_the_input() -> None:
    """The check above relies on every chunk being different."""
    encoded = [base64.b64encode(chunk) for chunk in chunks(ramp(12.0))]
    assert len(set(encoded)) == len(encoded)


async def test_serve_takes_max_connection_audio_s() -> None:
    proc = serve_subprocess("--port", "0", "--max-connection-audio-s", "1")
    try:
        assert proc.stdout is not None
        probe = await Probe.open(proc.stdout.readline().strip(), VERTEX)
        await probe.setup(MODEL, **NO_VAD)
        await probe.send(START)
        for chunk in chunks(ramp(1.0)):
            await probe.send(audio_frame(chunk))
        assert "goAway" in await probe.recv()
        assert await probe.closed() == (cr.LIFETIME_EXCEEDED.code, cr.LIFETIME_EXCEEDED.text)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=10)
