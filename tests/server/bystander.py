"""The well-behaved client of the attack tests (tests/server/test_attacks_*.py): while one client attacks the
local server, another connects, sets up and asks one turn; it must be served while the attack goes on.

Checked by order, never by speed: the attacker keeps attacking until the bystander is done (or it runs out of
attack), and the test asserts the bystander finished first. GUARD only stops a broken server from hanging the
test; it is far above any time a served bystander needs.
"""

from __future__ import annotations

import contextlib

from websockets.exceptions import ConnectionClosed

from livecli.server.probe import Probe, Turn

__all__ = ["GUARD", "bystander", "drain"]

GUARD = 60.0


async def bystander(url: str, text: str = "still served", headers: dict[str, str] | None = None) -> Turn:
    """One session: setupComplete, a text turn, its whole reply to turnComplete, a normal close."""
    probe = await Probe.open(url, headers=headers)
    await probe.send({"setup": {"model": "models/gemini-3.8-live"}})
    first = await probe.recv(GUARD)
    assert "setupComplete" in first, first
    await probe.send({"realtimeInput": {"text": text}})
    turn = await probe.turn(GUARD)
    await probe.close()
    return turn


async def drain(probe: Probe, counts: dict[str, int]) -> None:
    """Read everything the server sends the attacker until it closes, counting frames and turnComplete."""
    with contextlib.suppress(ConnectionClosed):
        async for frame in probe.ws:
            counts["frames"] = counts.get("frames", 0) + 1
            if isinstance(frame, bytes) and b'"turnComplete"' in frame:
                counts["turnComplete"] = counts.get("turnComplete", 0) + 1
