"""`livecli serve --workers 2` as a user runs it: one URL, connections on both workers (each names itself in the
upgrade's Server header), and what a session meets on the other worker is shared: its resumption handle, the
ephemeral token it came with and the token's uses, what it received. No test here depends on speed: a test
reconnects until the kernel hands it the other worker (it spreads connections over both)."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from helpers import run_cli, serve_subprocess

from livecli.protocol import close_reasons as cr
from livecli.protocol.endpoints import EPHEMERAL_VERSION, gemini_path
from livecli.server.config import ServerConfig
from livecli.server.probe import Probe, audio_frame
from livecli.server.workers import WorkerPool

KEY = "WORKERS-KEY-42"
HEADERS = {"x-goog-api-key": KEY}
CONSTRAINED = gemini_path(EPHEMERAL_VERSION, constrained=True)
RESUMABLE: dict[str, Any] = {"sessionResumption": {}}
ATTEMPTS = 200  # connections tried to land on a given worker (the kernel spreads them: a handful suffice)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, subprocess.Popen[str]]]:
    proc = serve_subprocess("--workers", "2", "--port", "0", "--reply-speed", "0", "--require-key", KEY)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.kill()  # its workers follow it (their lifeline closes)
            proc.communicate(timeout=30)


def worker_of(probe: Probe) -> str:
    """The worker a connection landed on, from the upgrade's `Server: livecli (worker N)`."""
    response = probe.ws.response
    assert response is not None
    return response.headers["Server"]


async def open_on(url: str, path: str, *, want: str | None = None, avoid: str | None = None) -> Probe:
    """A connection on worker `want`, or on any worker but `avoid`."""
    for _ in range(ATTEMPTS):
        probe = await Probe.open(url, path, headers=HEADERS)
        worker = worker_of(probe)
        if (want is None or worker == want) and worker != avoid:
            return probe
        await probe.close()
    raise AssertionError(f"no connection landed on {want or 'another worker than ' + str(avoid)}")


async def resumable_turn(probe: Probe, text: str, **setup: Any) -> str:
    """Setup (resumable), one text turn; the newest handle."""
    await probe.setup(**RESUMABLE, **setup)
    await probe.send({"realtimeInput": {"text": text}})
    await probe.turn()
    return await next_handle(probe)


async def next_handle(probe: Probe) -> str:
    """The handle of the next resumable update (the one after a reply trails its turnComplete)."""
    while True:
        update = (await probe.recv()).get("sessionResumptionUpdate", {})
        if update.get("newHandle"):
            return str(update["newHandle"])


async def setup_outcome(probe: Probe, **setup: Any) -> str:
    await probe.send({"setup": {"model": "models/gemini-3.8-live", **setup}})
    try:
        message = await probe.recv()
    except Exception:
        code, reason = await probe.closed()
        return f"close {code} {reason}"
    await probe.close()
    return "ok" if "setupComplete" in message else f"unexpected {message}"


async def test_one_url_and_connections_on_both_workers(served: tuple[str, subprocess.Popen[str]]) -> None:
    url, _ = served
    seen = set()
    for _ in range(ATTEMPTS):
        probe = await Probe.open(url, headers=HEADERS)
        seen.add(worker_of(probe))
        await probe.close()
        if len(seen) == 2:
            break
    assert url.startswith("ws://127.0.0.1:")
    assert seen == {"livecli (worker 1)", "livecli (worker 2)"}


async def test_a_handle_issued_by_one_worker_resumes_on_the_other(
    served: tuple[str, subprocess.Popen[str]],
) -> None:
    url, _ = served
    first = await open_on(url, gemini_path("v1beta"))
    handle = await resumable_turn(first, "one")
    await first.close()
    second = await open_on(url, gemini_path("v1beta"), avoid=worker_of(first))
    await second.setup(sessionResumption={"handle": handle})
    await second.send({"realtimeInput": {"text": "two"}})
    turn = await second.turn()
    await second.close()
    assert worker_of(second) != worker_of(first)
    assert turn.output_transcripts == ['turn 2: heard "two"']  # the session went on: its second turn


async def test_a_tampered_handle_is_1007_on_every_worker(served: tuple[str, subprocess.Popen[str]]) -> None:
    url, _ = served
    first = await open_on(url, gemini_path("v1beta"))
    handle = await resumable_turn(first, "one")
    await first.close()
    tampered = handle[:-2] + ("AA" if not handle.endswith("AA") else "BB")
    outcomes = set()
    for worker in ("livecli (worker 1)", "livecli (worker 2)"):
        probe = await open_on(url, gemini_path("v1beta"), want=worker)
        outcomes.add(await setup_outcome(probe, sessionResumption={"handle": tampered}))
    assert outcomes == {f"close 1007 {cr.INVALID_ARGUMENT.text}"}


def _mint(url: str, body: dict[str, Any]) -> str:
    request = urllib.request.Request(
        url.replace("ws://", "http://") + "/v1alpha/auth_tokens",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", **HEADERS},
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=10) as reply:
        return str(json.loads(reply.read())["name"])


async def test_a_token_minted_on_one_worker_is_used_up_on_the_other(
    served: tuple[str, subprocess.Popen[str]],
) -> None:
    # The mint landed on one worker and the two uses on both: whichever minted it, one worker that did not
    # admitted or refused a session with it, and the second use was counted against the first.
    url, _ = served
    path = CONSTRAINED + "?access_token=" + await asyncio.to_thread(_mint, url, {"uses": 1})
    first = await open_on(url, path)
    first_outcome = await setup_outcome(first)
    second = await open_on(url, path, avoid=worker_of(first))
    second_outcome = await setup_outcome(second)
    assert first_outcome == "ok"
    assert second_outcome == f"close 1008 {cr.TOKEN_USED_UP.text}"


def test_sigterm_stops_every_worker_and_prints_nothing_more(served: tuple[str, subprocess.Popen[str]]) -> None:
    _, proc = served
    time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert out == ""  # the URL, already read, was the only line
    assert "worker 1: listening on" in err
    assert "worker 2: listening on" in err
    assert KEY not in err


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkerPool]:
    config = ServerConfig(port=0, reply_speed=0, keep_received_audio=True, handle_ttl_s=0.5)
    with WorkerPool(config, 2) as running:
        yield running


async def test_an_expired_handle_is_1007_on_the_other_worker(pool: WorkerPool) -> None:
    first = await open_on(pool.url, gemini_path("v1beta"))
    handle = await resumable_turn(first, "one")
    await first.close()
    await asyncio.sleep(1.5)  # three times the handles' 0.5 s of validity after the session ended
    second = await open_on(pool.url, gemini_path("v1beta"), avoid=worker_of(first))
    assert await setup_outcome(second, sessionResumption={"handle": handle}) == (
        f"close 1007 {cr.INVALID_ARGUMENT.text}"
    )


async def test_what_a_session_received_is_read_over_both_workers(pool: WorkerPool) -> None:
    no_vad = {"realtimeInputConfig": {"automaticActivityDetection": {"disabled": True}}}
    first = await open_on(pool.url, gemini_path("v1beta"))
    await first.setup(**RESUMABLE, **no_vad)
    await first.send({"realtimeInput": {"activityStart": {}}})
    await first.send(audio_frame(b"\x01\x00" * 640))
    await first.send({"realtimeInput": {"activityEnd": {}}})
    await first.turn()
    handle = await next_handle(first)
    await first.close()
    second = await open_on(pool.url, gemini_path("v1beta"), avoid=worker_of(first))
    await second.setup(sessionResumption={"handle": handle}, **no_vad)
    await second.send({"realtimeInput": {"activityStart": {}}})
    await second.send(audio_frame(b"\x02\x00" * 640))
    await second.send({"realtimeInput": {"activityEnd": {}}})
    await second.turn()
    await second.close()
    received = await asyncio.to_thread(pool.received_audio)
    assert list(received.values()) == [b"\x01\x00" * 640 + b"\x02\x00" * 640]


def test_options_workers_cannot_honour_are_usage_errors(tmp_path: Any) -> None:
    record = run_cli("serve", "--port", "0", "--workers", "2", "--record", str(tmp_path / "rec"), expect=2)
    loop = run_cli("serve", "--port", "0", "--loop", "libuv", expect=2)
    assert "--record works with one server process" in record.stderr
    assert "--loop must be one of auto, asyncio, uvloop" in loop.stderr
