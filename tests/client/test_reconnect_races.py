"""Reconnect races with transparent resumption (issue 10): a goAway or a close arriving during a reconnect, during
the setup, or while the tail is resent. A small Vertex-like server of the test's own numbers what it receives
per session, acknowledges with lastConsumedClientMessageIndex, and on resumption forgets what came after the
handle's index, so "every message exactly once, in order" is checked on the server side. One task drives the
session throughout (checked too)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from helpers import ws_server_thread

from livecli.auth.target import ConnectOptions
from livecli.client import conversation
from livecli.client.resume import Resumer
from livecli.commands.request import RunRequest
from livecli.protocol import server_messages as sm
from livecli.protocol.session import ClientSession
from tests.commands.send_helpers import events, make_env, run

KEY = "AIzaSyRaceKey0123456789abcdefghijklmnop"
CHUNKS = 30  # 3 s at 100 ms


@dataclass
class Plan:
    """What one connection does. Counts are messages received on this connection after its setup."""

    ack_every: int = 4  # acknowledge (resumable handle + index) after every this many messages
    go_away_before_setup: bool = False
    close_before_setup: bool = False
    go_away_after: int | None = None  # send goAway (0.05 s left) after this many messages, acknowledging nothing
    close_after: int | None = None  # close after this many messages (no acknowledgement for them)
    close_code: int = 1011
    burst_after: int | None = None  # acknowledge, goAway and close 1008 in one burst after this many messages
    indexless: bool = False  # handles come without lastConsumedClientMessageIndex
    late_ack_s: float | None = None  # after a reply: goAway at once, the acknowledgement this much later


@dataclass
class TransparentServer:
    """Session state as of each handle: the messages received, by index (index 0 = first after setup)."""

    plans: list[Plan]
    messages: list[str] = field(default_factory=list)  # the session's consumed messages, in index order
    handles: dict[str, int] = field(default_factory=dict)  # handle → the index its state holds
    setups: list[dict[str, Any]] = field(default_factory=list)
    per_connection: list[list[str]] = field(default_factory=list)  # what each connection received
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, ws: Any) -> None:
        n = len(self.setups)
        plan = self.plans[min(n, len(self.plans) - 1)]
        setup = json.loads(ws.recv())["setup"]
        self.setups.append(setup)
        got: list[str] = []
        self.per_connection.append(got)
        resumption = setup.get("sessionResumption", {})
        assert resumption.get("transparent") is True
        with self.lock:
            if "handle" in resumption:
                del self.messages[self.handles[resumption["handle"]] + 1 :]  # forget what came after it
            else:
                self.messages.clear()
        if plan.close_before_setup:
            close(ws, 1011, "Internal error encountered.")
            return
        if plan.go_away_before_setup:
            ws.send(sm.go_away(0.05))
        ws.send(sm.setup_complete())
        self._acknowledge(ws, plan)
        received = 0
        with contextlib.suppress(Exception):
            while True:
                message = str(ws.recv())
                got.append(message)
                with self.lock:
                    self.messages.append(message)
                received += 1
                if received == plan.close_after:
                    close(ws, plan.close_code, "Internal error encountered." if plan.close_code == 1011 else "")
                    return
                if received == plan.go_away_after:
                    ws.send(sm.go_away(0.0))  # reconnect now: the client's next send gives the connection up
                    plan.ack_every = 10**9  # nothing more is acknowledged on this connection
                if received == plan.burst_after:
                    self._acknowledge(ws, plan)
                    ws.send(sm.go_away(0.0))
                    close(ws, 1008, "")
                    return
                if received % plan.ack_every == 0:
                    self._acknowledge(ws, plan)
                if "activityEnd" in message and plan.late_ack_s is not None:
                    ws.send(sm.audio_content(b"\x10\x00" * 2400))
                    ws.send(sm.turn_complete())
                    ws.send(sm.go_away(30.0))
                    time.sleep(plan.late_ack_s)
                    self._acknowledge(ws, plan)
                elif "activityEnd" in message:
                    self._acknowledge(ws, plan)
                    ws.send(sm.audio_content(b"\x10\x00" * 2400))
                    ws.send(sm.turn_complete())

    def _acknowledge(self, ws: Any, plan: Plan) -> None:
        with self.lock:
            index = len(self.messages) - 1
            handle = f"h{len(self.handles)}"
            self.handles[handle] = index
        ws.send(sm.resumption_update(handle, True, index if index >= 0 and not plan.indexless else None))

    def audio_chunks(self) -> list[int]:
        """The numbers of the audio chunks the session holds, in order (see `numbered`)."""
        chunks = []
        for message in self.messages:
            body = json.loads(message)["realtimeInput"]
            if "audio" in body:
                import base64

                chunks.append(int.from_bytes(base64.b64decode(body["audio"]["data"])[:2], "little"))
        return chunks

    def markers(self) -> list[str]:
        return [next(iter(json.loads(m)["realtimeInput"])) for m in self.messages if "audio" not in m]


def close(ws: Any, code: int, reason: str) -> None:
    """Close while the client may still be sending: what it sends is drained meanwhile (websockets' sync server
    stops reading a full queue, and would wait out its close timeout for the client's close frame)."""

    def drain() -> None:
        with contextlib.suppress(Exception):
            while True:
                ws.recv()

    threading.Thread(target=drain, daemon=True).start()
    ws.close(code, reason)


def numbered(path: Path) -> str:
    """CHUNKS chunks of 100 ms; every sample of chunk k is k + 1 (so the server can read which chunk it got)."""
    samples = np.repeat(np.arange(1, CHUNKS + 1, dtype=np.int16), 1600)
    sf.write(path, samples, 16000, subtype="PCM_16")
    return str(path)


def run_against(
    server: TransparentServer, tmp_path: Path, inputs: int = 1
) -> tuple[int, list[dict[str, Any]], str]:
    with ws_server_thread(server.handle) as url:
        env, stdout, stderr = make_env()
        req = RunRequest(
            connect=ConnectOptions(endpoint=url, vertex=True, api_key=KEY),
            json=True,
            inputs=[numbered(tmp_path / f"n{k}.wav") for k in range(inputs)],
            speed=0,
            chunk_ms=100,
            max_reconnects=6,
            output=str(tmp_path / "replies") + "/",
        )
        status = run(req, env)
    return status, events(stdout), stdout.getvalue().decode() + stderr.getvalue()


def assert_exactly_once(server: TransparentServer) -> None:
    assert server.audio_chunks() == list(range(1, CHUNKS + 1))
    assert server.markers() == ["activityStart", "activityEnd"]


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    async def skip(seconds: float) -> None:
        await asyncio.sleep(0)

    monkeypatch.setattr(Resumer, "pause", staticmethod(skip))


@pytest.mark.timeout(30)
def test_a_close_mid_input_resends_exactly_the_unacknowledged_tail(tmp_path: Path) -> None:
    server = TransparentServer([Plan(close_after=13), Plan()])
    status, seen, output = run_against(server, tmp_path)
    assert status == 0
    assert_exactly_once(server)
    assert server.setups[1]["sessionResumption"]["handle"] == "h3"  # the newest: 12 messages acknowledged
    assert [e["type"] for e in seen].count("warning") == 0
    assert KEY not in output


@pytest.mark.timeout(30)
def test_a_go_away_during_the_reconnects_setup_means_one_more_reconnect(tmp_path: Path) -> None:
    """The goAway comes before setupComplete; the connection then ends (1008) after two messages."""
    announced = Plan(go_away_before_setup=True, ack_every=10**9, close_after=2, close_code=1008)
    server = TransparentServer([Plan(close_after=9), announced, Plan()])
    status, seen, _ = run_against(server, tmp_path)
    assert status == 0
    assert len(server.setups) == 3
    assert len([e for e in seen if e["type"] == "reconnect"]) == 2
    assert_exactly_once(server)


@pytest.mark.timeout(30)
def test_a_close_during_the_reconnects_setup_is_retried_with_the_same_tail(tmp_path: Path) -> None:
    server = TransparentServer([Plan(close_after=9), Plan(close_before_setup=True), Plan()])
    status, _, _ = run_against(server, tmp_path)
    assert status == 0
    assert server.setups[1]["sessionResumption"] == server.setups[2]["sessionResumption"]
    assert_exactly_once(server)


@pytest.mark.timeout(30)
def test_a_close_while_the_tail_is_resent(tmp_path: Path) -> None:
    """The second connection takes two messages of the resent tail and closes without acknowledging them: the
    third gets the same tail again, from the same index."""
    server = TransparentServer([Plan(close_after=15, ack_every=5), Plan(close_after=2), Plan()])
    status, _, _ = run_against(server, tmp_path)
    assert status == 0
    assert len(server.setups) == 3
    assert_exactly_once(server)


@pytest.mark.timeout(30)
def test_a_go_away_while_the_tail_is_resent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """4 of 32 messages acknowledged, the tail resent one message per write; the goAway (no time left) comes
    after the first: the connection is given up at the client's next send, and whatever the second connection
    took without acknowledging it is resent on the third."""
    monkeypatch.setattr(conversation, "RESEND_BATCH", 1)
    server = TransparentServer([Plan(close_after=5, ack_every=2), Plan(go_away_after=1), Plan()])
    status, seen, _ = run_against(server, tmp_path)
    assert status == 0
    assert any(e["type"] == "go_away" for e in seen)
    assert_exactly_once(server)


@pytest.mark.timeout(30)
def test_an_acknowledgement_goaway_and_close_in_one_burst_are_applied_in_order(tmp_path: Path) -> None:
    """What the old socket said before it closed counts: the resumed setup names the handle of the burst."""
    server = TransparentServer([Plan(burst_after=17, ack_every=10**9), Plan()])
    status, _, _ = run_against(server, tmp_path)
    assert status == 0
    assert server.setups[1]["sessionResumption"]["handle"] == "h1"  # h0 came with setupComplete
    assert_exactly_once(server)


@pytest.mark.timeout(30)
def test_one_task_drives_the_session_through_every_reconnect(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reader task never changes the ClientSession: every call that does runs in the same task."""
    tasks: set[asyncio.Task[Any] | None] = set()
    for name in ("receive", "audio", "begin_input", "end_input", "reconnect_setup", "take_resend", "tick"):
        original = getattr(ClientSession, name)

        def spy(self: ClientSession, *args: Any, _original: Any = original, **kw: Any) -> Any:
            tasks.add(asyncio.current_task())
            return _original(self, *args, **kw)

        monkeypatch.setattr(ClientSession, name, spy)
    server = TransparentServer([Plan(close_after=9), Plan(go_away_after=3), Plan()])
    status, _, _ = run_against(server, tmp_path)
    assert status == 0
    assert len(tasks) == 1
    assert_exactly_once(server)


@pytest.mark.timeout(30)
def test_without_an_index_the_input_is_sent_again_whole_and_a_warning_says_so_once(tmp_path: Path) -> None:
    server = TransparentServer([Plan(indexless=True, close_after=9), Plan(indexless=True, close_after=9), Plan()])
    status, seen, _ = run_against(server, tmp_path)
    assert status == 0
    warnings = [e["message"] for e in seen if e["type"] == "warning"]
    assert len(warnings) == 1
    assert "without lastConsumedClientMessageIndex" in warnings[0]
    assert "sent again from its start" in warnings[0]
    for got in server.per_connection[1:]:
        assert '"activityStart"' in got[0]


@pytest.mark.timeout(30)
def test_an_idle_reconnect_waits_for_the_answered_inputs_acknowledgement(tmp_path: Path) -> None:
    """The goAway comes with the first reply and the acknowledgement of its last messages 0.3 s later: the
    reconnect before the second input waits for it instead of resending them (the server would answer the first
    input again, into the second input's turn)."""
    server = TransparentServer([Plan(late_ack_s=0.3, ack_every=5), Plan()])  # 30 of 32 acknowledged first
    status, seen, _ = run_against(server, tmp_path, inputs=2)
    assert status == 0
    assert len(server.setups) == 2
    assert [len(got) for got in server.per_connection] == [CHUNKS + 2, CHUNKS + 2]  # nothing of input 1 resent
    assert server.audio_chunks() == list(range(1, CHUNKS + 1)) * 2
    assert server.markers() == ["activityStart", "activityEnd"] * 2
    assert len([e for e in seen if e["type"] == "turn_complete"]) == 2
