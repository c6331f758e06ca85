"""Attacks by volume: a client flooding text turns, or switching audio rates, must not stall the others (issue 12,
section 3). A bystander connected during the attack is served while the attack goes on (checked by order)."""

from __future__ import annotations

import asyncio
import contextlib
import json

from bystander import GUARD, bystander, drain
from helpers import local_server

from livecli.protocol import close_reasons as cr
from livecli.server.probe import Probe
from livecli.server.session import MAX_PENDING

FLOOD = 10_000
WORDS = " ".join(f"word{i}" for i in range(64))


async def test_a_text_flood_does_not_delay_another_clients_setup_and_reply() -> None:
    with local_server() as server:
        attacker = await Probe.open(server.url)
        await attacker.setup()
        counts: dict[str, int] = {}
        reader = asyncio.create_task(drain(attacker, counts))
        sent = 0
        done = asyncio.Event()

        async def flood() -> None:
            nonlocal sent
            frame = json.dumps({"realtimeInput": {"text": WORDS}})
            with contextlib.suppress(Exception):
                while sent < FLOOD and not done.is_set():
                    await attacker.send(frame)
                    sent += 1
                    if sent % 50 == 0:
                        await asyncio.sleep(0)

        flooding = asyncio.create_task(flood())
        while sent < 500:
            await asyncio.sleep(0.001)
        turn = await asyncio.wait_for(bystander(server.url), GUARD)
        answered = counts.get("turnComplete", 0)
        done.set()
        flooding.cancel()  # its send may wait for the server to read: the attack ends now, not when it drains
        with contextlib.suppress(asyncio.CancelledError):
            await flooding
        attacker.ws.transport.abort()  # not a close handshake: that would wait behind the turns still queued
        await reader
    assert turn.input_transcripts == ["still served"]
    assert answered < FLOOD  # the bystander was served while the attacker's turns were still being answered


async def test_a_flood_of_turns_that_cannot_interrupt_is_closed_past_the_queue_and_others_are_served() -> None:
    no_interruption = {"realtimeInputConfig": {"activityHandling": "NO_INTERRUPTION"}}
    with local_server(reply_speed=1) as server:  # paced replies: they queue behind one another
        attacker = await Probe.open(server.url)
        await attacker.setup(**no_interruption)
        for _ in range(MAX_PENDING + 1):
            await attacker.send({"realtimeInput": {"text": WORDS}})
        served = await asyncio.wait_for(bystander(server.url), GUARD)
        code, reason = await attacker.closed(GUARD)
    assert served.input_transcripts == ["still served"]
    assert (code, reason) == (cr.OVERLOADED.code, cr.OVERLOADED.text)
