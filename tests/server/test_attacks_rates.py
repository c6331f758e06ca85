"""Rate switching (issue 12, section 3): audio whose declared rate keeps changing made the server build a resampler
plan per switch on its event loop. Filters are now built in a thread and kept per rate, and a connection may use
MAX_INPUT_RATES rates besides 16 kHz (one more: 1007); a bystander is served while connections attack."""

from __future__ import annotations

import asyncio
import contextlib
import json

from bystander import GUARD, bystander
from helpers import local_server
from session_harness import NO_VAD

from livecli.server.inbound_audio import PLANS, InboundAudio, RatePlans
from livecli.server.limits import MAX_INPUT_RATES, TOO_MANY_RATES
from livecli.server.probe import Probe, audio_frame, speechlike
from livecli.server.validate import Refusal

# Rates near 48 kHz, each a plan of its own (the attack cycled ten such rates); a fresh set per connection.
POOL = [47981 - 2 * i for i in range(60)]


def _tiny(rate: int) -> str:
    return json.dumps({"realtimeInput": {"audio": {"data": "AAAAAA==", "mimeType": f"audio/pcm;rate={rate}"}}})


async def test_rate_switching_connections_are_refused_and_a_bystander_is_served() -> None:
    closes: list[tuple[int | None, str | None]] = []
    done = asyncio.Event()
    with local_server() as server:

        async def attack() -> None:
            for start in range(0, len(POOL), MAX_INPUT_RATES + 1):
                if done.is_set():
                    return
                attacker = await Probe.open(server.url)
                await attacker.setup()
                for rate in POOL[start : start + MAX_INPUT_RATES + 1] * 8:  # 40 messages, switching each time
                    with contextlib.suppress(Exception):
                        await attacker.send(_tiny(rate))
                closes.append(await attacker.closed(GUARD))

        attacking = asyncio.create_task(attack())
        while not closes:
            await asyncio.sleep(0.001)
        served = await asyncio.wait_for(bystander(server.url), GUARD)
        attacks_then = len(closes)
        done.set()
        await attacking
    assert served.input_transcripts == ["still served"]
    assert attacks_then < len(POOL) // (MAX_INPUT_RATES + 1)  # served while connections were still attacking
    assert closes[0] == (TOO_MANY_RATES.code, TOO_MANY_RATES.text)


async def test_a_client_may_switch_between_a_few_rates_and_is_answered() -> None:
    rates = [44100, 48000, 22050, 8000]
    with local_server() as server:
        probe = await Probe.open(server.url)
        await probe.setup(**NO_VAD)
        await probe.send({"realtimeInput": {"activityStart": {}}})
        for _ in range(5):
            for rate in [*rates, 16000]:
                await probe.send(audio_frame(speechlike(0.04, rate=rate), rate))
        await probe.send({"realtimeInput": {"activityEnd": {}}})
        turn = await probe.turn(GUARD)
        await probe.close()
    assert turn.output_transcripts == ["turn 1: heard 1.00 s of audio"]
    assert all(rate in PLANS for rate in rates)


def test_unbuilt_rates_names_only_new_rates_within_the_allowance() -> None:
    plans = RatePlans()
    plans.build(44100)
    inbound = InboundAudio(plans)
    frame = '{"mediaChunks":[' + ",".join(f'{{"mimeType":"audio/pcm;rate={r}"}}' for r in POOL[:9]) + "]}"
    assert inbound.unbuilt_rates(frame) == POOL[:MAX_INPUT_RATES]
    assert inbound.unbuilt_rates(_tiny(44100)) == []  # built already
    assert inbound.unbuilt_rates(_tiny(16000)) == []  # needs no filter
    assert inbound.unbuilt_rates(_tiny(96000)) == []  # refused anyway (above 48 kHz)
    assert inbound.unbuilt_rates(b'{"no":"rates"}') == []


def test_a_connection_past_its_rate_allowance_is_refused_with_1007() -> None:
    inbound = InboundAudio(RatePlans())
    for rate in POOL[:MAX_INPUT_RATES]:
        inbound.convert(b"\0\0" * 4, rate)
    inbound.convert(b"\0\0" * 4, POOL[0])  # one of its own again: fine
    try:
        inbound.convert(b"\0\0" * 4, POOL[MAX_INPUT_RATES])
    except Refusal as refusal:
        assert refusal.code == 1007
    else:
        raise AssertionError("a fifth rate was taken")


def test_the_plan_cache_stays_within_its_bytes() -> None:
    plans = RatePlans(max_bytes=8 << 20)
    for rate in POOL[:6]:
        plans.build(rate)
    kept = [rate for rate in POOL[:6] if rate in plans]
    assert kept[-1] == POOL[5]  # the newest is always kept
    assert len(kept) < 6
    assert plans.stream(POOL[0]).process([0.0] * 480).size > 0
