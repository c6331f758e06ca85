"""Every built-in scenario and every scenario-file action, over real sockets."""

from __future__ import annotations

import asyncio
import json
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile
from helpers import LocalServer, local_server
from session_harness import MODEL, NO_VAD, Harness
from websockets.exceptions import InvalidStatus

from livecli.errors import UsageError
from livecli.protocol import close_reasons as cr
from livecli.server.probe import GEMINI_PATH, Probe, audio_frame, speechlike
from livecli.server.replies import OUTPUT_RATE, chime
from livecli.server.scenarios import load_scenario
from livecli.server.session import Close

QUOTA = (
    "You exceeded your current quota, please check your plan and billing details. For more information on this "
    "error, head to: h"
)


async def _text_turn(url: str, path: str = GEMINI_PATH, text: str = "hi", **setup: Any) -> Probe:
    probe = await Probe.open(url, path)
    await probe.setup(**{**NO_VAD, **setup})
    await probe.send({"realtimeInput": {"text": text}})
    return probe


async def _closed_at_turn(url: str, scenario: str) -> tuple[int | None, str | None]:
    return await (await _text_turn(url, f"{GEMINI_PATH}?scenario={scenario}")).closed()


def test_quota_reason_is_the_services_cut_at_123_bytes() -> None:
    assert cr.QUOTA.text == QUOTA
    assert len(QUOTA.encode()) == 123


async def test_close_scenarios(live_server: LocalServer) -> None:
    assert await _closed_at_turn(live_server.url, "close-1008") == (1008, cr.NOT_SUPPORTED.text)
    assert await _closed_at_turn(live_server.url, "close-1011") == (1011, "Internal error encountered.")
    assert await _closed_at_turn(live_server.url, "quota") == (1011, QUOTA)
    assert await _closed_at_turn(live_server.url, "drop") == (None, None)

    async def setup_refused() -> tuple[int | None, str | None]:
        probe = await Probe.open(live_server.url, GEMINI_PATH + "?scenario=close-1007")
        await probe.send({"setup": {"model": "models/gemini-3.8-live"}})
        return await probe.closed()

    assert await setup_refused() == (1007, cr.INVALID_ARGUMENT.text)


def test_quota_also_arrives_a_second_after_setup() -> None:
    """On the session's clock (a timed quota close over the wire: test_file_timed_actions_in_json)."""
    h = Harness("quota")
    h.send({"setup": {"model": MODEL}})
    h.run_until(10)
    assert h.sent[-1] == (1.0, "Close", Close(1011, QUOTA))


@pytest.mark.parametrize(("scenario", "status"), [("http-401", 401), ("http-429", 429)])
async def test_http_scenarios_refuse_the_upgrade(live_server: LocalServer, scenario: str, status: int) -> None:
    with pytest.raises(InvalidStatus) as info:
        await Probe.open(live_server.url, f"{GEMINI_PATH}?scenario={scenario}")
    assert info.value.response.status_code == status
    assert json.loads(info.value.response.body or b"{}")["error"]["code"] == status


async def test_stall_answers_pings_but_never_replies(live_server: LocalServer) -> None:
    probe = await _text_turn(live_server.url, GEMINI_PATH + "?scenario=stall")
    await asyncio.wait_for(await probe.ws.ping(), 2)
    with pytest.raises(TimeoutError):
        await probe.recv(timeout=0.2)
    await probe.close()


def test_stall_never_answers_on_the_sessions_clock() -> None:
    h = Harness("stall", reply_speed=0)
    h.send({"setup": {"model": MODEL, **NO_VAD}})
    h.send({"realtimeInput": {"text": "anyone?"}})
    h.run_until(100)
    assert h.kinds() == ["setupComplete"]


async def test_generation_complete_only(live_server: LocalServer) -> None:
    probe = await _text_turn(live_server.url, GEMINI_PATH + "?scenario=generation-complete-only")
    turn = await probe.turn(until="generationComplete")
    assert turn.audio
    assert "turnComplete" not in turn.kinds()
    with pytest.raises(TimeoutError):
        while True:
            assert "turnComplete" not in (await probe.recv(timeout=0.2)).get("serverContent", {})
    await probe.close()


def test_goaway_then_1008() -> None:
    """On the session's clock (a timed goAway over the wire: test_file_timed_actions_in_json)."""
    h = Harness("goaway")
    h.send({"setup": {"model": MODEL}})
    h.run_until(10)
    assert h.sent[1] == (0.0, "goAway", {"goAway": {"timeLeft": "1s"}})
    assert h.sent[2] == (1.0, "Close", Close(1008, cr.LIFETIME_EXCEEDED.text))


async def test_interrupt_cuts_the_reply(live_server: LocalServer) -> None:
    probe = await _text_turn(
        live_server.url, GEMINI_PATH + "?scenario=interrupt", text="a long enough sentence here"
    )
    turn = await probe.turn()
    assert turn.interrupted
    assert "generationComplete" not in turn.kinds()
    assert len(turn.audio) == OUTPUT_RATE * 2 * 200 // 1000
    await probe.close()


async def test_tool_call_round_trip(live_server: LocalServer) -> None:
    probe = await _text_turn(live_server.url, GEMINI_PATH + "?scenario=tool-call", text="paris")
    call = (await probe.turn(until="toolCall")).messages[-1]["toolCall"]["functionCalls"][0]
    assert call["name"] == "lookup"
    assert call["args"] == {"query": "paris"}
    await probe.send({"toolResponse": {"functionResponses": [{"id": call["id"], "response": {"ok": 1}}]}})
    turn = await probe.turn()
    assert turn.output_transcripts == ['turn 1: heard "paris"; lookup returned {"ok":1}']
    await probe.close()


async def test_malformed_frame(live_server: LocalServer) -> None:
    probe = await _text_turn(live_server.url, GEMINI_PATH + "?scenario=malformed-frame")
    frame = await asyncio.wait_for(probe.ws.recv(), 2)
    while frame.startswith(b'{"session'):
        frame = await asyncio.wait_for(probe.ws.recv(), 2)
    with pytest.raises(ValueError):
        json.loads(frame)
    await probe.close()


async def test_silent_reply(live_server: LocalServer) -> None:
    probe = await _text_turn(live_server.url, GEMINI_PATH + "?scenario=silent")
    turn = await probe.turn()
    assert turn.audio == bytes(OUTPUT_RATE * 2)
    await probe.close()


@pytest.mark.parametrize("scenario", ["echo", "stream-end-ignored"])
async def test_audio_stream_end(live_server: LocalServer, scenario: str) -> None:
    probe = await Probe.open(live_server.url, f"{GEMINI_PATH}?scenario={scenario}")
    await probe.setup()
    await probe.send(audio_frame(speechlike(0.5)))
    await probe.send({"realtimeInput": {"audioStreamEnd": True}})
    try:
        heard = (await probe.turn(timeout=0.3)).input_transcripts
    except TimeoutError:
        heard = None  # no turn: the stream end was ignored
    finally:
        await probe.close()
    assert (heard == ["[0.50 s of audio]"]) is (scenario == "echo")


# -- scenario files ------------------------------------------------------------------------------------------


def _file_server(tmp_path: Path, body: str, suffix: str = ".toml") -> AbstractContextManager[LocalServer]:
    path = tmp_path / f"scenario{suffix}"
    path.write_text(body)
    return local_server(scenario=str(path))


async def test_file_turn_actions(tmp_path: Path) -> None:
    tone = (np.sin(np.arange(8000) / 5) * 9000).astype(np.int16)
    soundfile.write(tmp_path / "answer.wav", tone, 8000)
    body = """
name = "custom"
[[turns]]
delay_ms = 100
audio = "answer.wav"
input_transcript = "what is the weather"
output_transcript = "It is sunny."
text = ["It is sunny."]
generation_complete_only = true
[[turns]]
interrupt_after_ms = 40
[[turns]]
silent = true
[[turns]]
tool_call = { name = "get_weather", args = { city = "Paris" }, expect = { result = "sunny" } }
[[turns]]
tool_call = { name = "get_weather", expect = { result = "sunny" } }
"""
    with _file_server(tmp_path, body) as srv:
        probe = await Probe.open(srv.url + "", GEMINI_PATH + "?scenario=custom")
        await probe.setup(**NO_VAD)
        loop = asyncio.get_running_loop()
        started = loop.time()
        await probe.send({"realtimeInput": {"text": "one"}})
        first = await probe.turn(until="generationComplete")
        assert loop.time() - started >= 0.1
        assert len(first.audio) == 24000 * 2  # 1 s at 8 kHz, sent at 24 kHz
        assert first.input_transcripts == ["what is the weather"]
        assert first.output_transcripts == ["It is sunny."]
        assert first.texts == ["It is sunny."]
        await probe.send({"realtimeInput": {"text": "two"}})
        second = await probe.turn()
        assert second.interrupted
        assert len(second.audio) == 1920
        await probe.send({"realtimeInput": {"text": "three"}})
        assert (await probe.turn()).audio == bytes(48000)
        await probe.send({"realtimeInput": {"text": "four"}})
        call = (await probe.turn(until="toolCall")).messages[-1]["toolCall"]["functionCalls"][0]
        assert call["args"] == {"city": "Paris"}
        await probe.send(
            {"toolResponse": {"functionResponses": [{"id": call["id"], "response": {"result": "sunny"}}]}}
        )
        assert (await probe.turn()).output_transcripts[0].endswith('get_weather returned {"result":"sunny"}')
        await probe.send({"realtimeInput": {"text": "five"}})
        call = (await probe.turn(until="toolCall")).messages[-1]["toolCall"]["functionCalls"][0]
        await probe.send(
            {"toolResponse": {"functionResponses": [{"id": call["id"], "response": {"result": "rain"}}]}}
        )
        code, reason = await probe.closed()
        assert code == 1007
        assert reason is not None
        assert "does not match" in reason


@pytest.mark.parametrize(
    ("turn", "expected"),
    [
        ('close = { code = 4000, reason = "custom close" }', (4000, "custom close")),
        ("drop = true", (None, None)),
        ("quota = true", (1011, QUOTA)),
    ],
)
async def test_file_turn_endings(tmp_path: Path, turn: str, expected: tuple[int | None, str | None]) -> None:
    with _file_server(tmp_path, f"[[turns]]\n{turn}\n") as srv:
        assert await _closed_at_turn(srv.url, "scenario") == expected


@pytest.mark.parametrize(
    ("action", "check"),
    [
        ({"action": "goaway", "time_left_s": 0.1}, "goaway"),
        ({"action": "close", "code": 1011, "reason": "Internal error occurred."}, "close"),
        ({"action": "drop"}, "drop"),
        ({"action": "quota"}, "quota"),
        ({"action": "malformed"}, "malformed"),
        ({"action": "stall"}, "stall"),
    ],
)
async def test_file_timed_actions_in_json(tmp_path: Path, action: dict[str, Any], check: str) -> None:
    body = json.dumps({"name": "timed", "at": [{"t": 0.05, **action}]})
    with _file_server(tmp_path, body, ".json") as srv:
        probe = await Probe.open(srv.url)
        await probe.setup()
        if check == "goaway":
            assert await probe.recv() == {"goAway": {"timeLeft": "0.1s"}}
            assert (await probe.closed())[0] == 1008
        elif check == "close":
            assert await probe.closed() == (1011, "Internal error occurred.")
        elif check == "drop":
            assert await probe.closed() == (None, None)
        elif check == "quota":
            assert await probe.closed() == (1011, QUOTA)
        elif check == "malformed":
            with pytest.raises(ValueError):
                json.loads(await asyncio.wait_for(probe.ws.recv(), 2))
        else:
            await asyncio.sleep(0.1)
            await probe.send({"realtimeInput": {"text": "anyone?"}})
            with pytest.raises(TimeoutError):
                await probe.recv(timeout=0.2)
        await probe.close()


async def test_file_upgrade_and_setup_refusals(tmp_path: Path) -> None:
    with _file_server(tmp_path, 'upgrade = { status = 503, body = "busy" }\n') as srv:
        with pytest.raises(InvalidStatus) as info:
            await Probe.open(srv.url)
        assert info.value.response.status_code == 503
    (tmp_path / "b").mkdir()
    with _file_server(tmp_path / "b", "[setup]\nclose = { code = 1008, reason = 'nope' }\n") as srv:
        probe = await Probe.open(srv.url)
        await probe.send({"setup": {"model": "models/gemini-3.8-live"}})
        assert await probe.closed() == (1008, "nope")


def test_bad_scenario_files_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="unknown scenario"):
        load_scenario("no-such-scenario")
    bad = tmp_path / "bad.toml"
    bad.write_text("[[turns]]\nbogus = 1\n")
    with pytest.raises(UsageError, match="bogus"):
        load_scenario(str(bad))
    bad.write_text('[[at]]\nt = 1\naction = "explode"\n')
    with pytest.raises(UsageError, match="explode"):
        load_scenario(str(bad))
    assert load_scenario("echo").name == "echo"
    assert chime()
