"""Quiet and guessing clients (issue 12, section 3): a connection past its setup that sends nothing is closed after
the idle limit (docs/wire.md, "Limits of the local server"), and credentials are compared in constant time."""

from __future__ import annotations

import hmac
from typing import Any

import pytest
from bystander import GUARD, bystander
from helpers import local_server

from livecli.server import gate
from livecli.server.probe import Probe


async def test_a_quiet_connection_is_closed_after_the_idle_limit_and_a_talking_one_is_not() -> None:
    now = [0.0]
    with local_server(clock=lambda: now[0], idle_poll_s=0.01, setup_timeout_s=None) as server:
        quiet = await Probe.open(server.url)
        await quiet.setup()
        talking = await Probe.open(server.url)
        await talking.setup()
        now[0] = 400.0
        await talking.send({"realtimeInput": {"text": "still here"}})
        await talking.turn(GUARD)
        now[0] = 700.0  # the quiet one: 700 s since its setup; the talking one: 300 s since its turn
        code, reason = await quiet.closed(GUARD)
        served = await bystander(server.url)
        await talking.send({"realtimeInput": {"text": "and again"}})
        again = await talking.turn(GUARD)
        now[0] = 1400.0
        talking_code, _ = await talking.closed(GUARD)
    assert code == 1011
    assert reason is not None
    assert "(idle)" in reason
    assert "DEADLINE_EXCEEDED" in reason
    assert again.input_transcripts == ["and again"]
    assert served.input_transcripts == ["still served"]
    assert talking_code == 1011


async def test_no_idle_limit_when_it_is_off() -> None:
    now = [0.0]
    with local_server(clock=lambda: now[0], idle_poll_s=0.01, idle_timeout_s=None) as server:
        probe = await Probe.open(server.url)
        await probe.setup()
        now[0] = 10_000.0
        await probe.send({"realtimeInput": {"text": "after a long pause"}})
        turn = await probe.turn(GUARD)
        await probe.close()
    assert turn.input_transcripts == ["after a long pause"]


async def test_keys_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[tuple[Any, Any]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(gate.hmac, "compare_digest", spy)
    with local_server(require_key="RIGHT-KEY") as server:
        probe = await Probe.open(server.url, headers={"x-goog-api-key": "WRONG-KEY"})
        await probe.send({"setup": {"model": "models/gemini-3.8-live"}})
        code, _ = await probe.closed(GUARD)
        served = await bystander(server.url, headers={"x-goog-api-key": "RIGHT-KEY"})
    assert code == 1007
    assert (b"WRONG-KEY", b"RIGHT-KEY") in compared
    assert (b"RIGHT-KEY", b"RIGHT-KEY") in compared
    assert served.input_transcripts == ["still served"]
