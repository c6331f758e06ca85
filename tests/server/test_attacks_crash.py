"""Crash paths (issue 12, section 3): what a client sends, a failing recording or a hostile scenario file ends as
the service's close code or a usage error at start-up, never a traceback, a 1011 or a dead server; a client
connected meanwhile is still served."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from bystander import GUARD, bystander
from helpers import local_server, run_cli

from livecli.errors import UsageError
from livecli.server.probe import Probe
from livecli.server.scenarios import load_scenario

DEEP = '{"realtimeInput":' + '{"a":' * 100_000 + "1" + "}" * 100_000 + "}"
LONE_SURROGATE = '{"realtimeInput":{"text":"a\\ud800b"}}'


@pytest.mark.parametrize(
    "frame", [LONE_SURROGATE, DEEP, "[" * 200_000 + "]" * 200_000], ids=["surrogate", "deep", "list"]
)
async def test_hostile_frames_under_record_are_1007_and_others_are_served(tmp_path: Path, frame: str) -> None:
    with local_server(record=str(tmp_path / "rec")) as server:
        waiting = await Probe.open(server.url)
        await waiting.setup()
        attacker = await Probe.open(server.url)
        await attacker.setup()
        await attacker.send(frame)
        code, _ = await attacker.closed(GUARD)
        await waiting.send({"realtimeInput": {"text": "during the attack"}})
        turn = await waiting.turn(GUARD)
        await waiting.close()
        after = await bystander(server.url)
    assert code == 1007
    assert turn.input_transcripts == ["during the attack"]
    assert after.input_transcripts == ["still served"]
    assert "during the attack" in (tmp_path / "rec" / "frames.jsonl").read_text()


async def test_a_full_disk_stops_the_recording_with_one_warning_and_sessions_go_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with local_server(record=str(tmp_path / "rec")) as server:
        running = server.thread.running
        assert running is not None
        assert running.recorder.recorder is not None
        writer = running.recorder.recorder._writer
        writer._frames.close()
        writer._frames = open("/dev/full", "w", encoding="utf-8")  # noqa: SIM115  # every write: ENOSPC
        with caplog.at_level(logging.WARNING, logger="livecli.server"):
            first = await bystander(server.url, "disk full")
            second = await bystander(server.url, "still full")
    assert first.input_transcripts == ["disk full"]
    assert second.input_transcripts == ["still full"]
    stopped = [r for r in caplog.records if "recording stopped" in r.getMessage()]
    assert len(stopped) == 1
    assert "No space left" in stopped[0].getMessage()


def test_unwritable_record_and_tls_places_are_usage_errors_at_start(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    for option in ("--record", "--tls-self-signed"):
        result = run_cli("serve", "--port", "0", option, str(tmp_path / "afile" / "sub"), expect=2)
        assert result.stderr.count("\n") == 1, result.stderr
        assert option in result.stderr
        assert "Traceback" not in result.stderr
    result = run_cli("serve", "--port", "0", "--record", "/dev/full", expect=2)  # a device, not a directory
    assert result.stderr.count("\n") == 1, result.stderr


HOSTILE = {
    "missing audio": ('[[turns]]\naudio = "nope.wav"\n', "turns[1].audio"),
    "audio is a directory": ('[[turns]]\naudio = "."\n', "turns[1].audio"),
    "audio is a device": ('[[turns]]\naudio = "/dev/zero"\n', "turns[1].audio"),
    "audio not audio": ('[[turns]]\naudio = "s.toml"\n', "turns[1].audio"),
    "deep args": (
        "[[turns]]\ntool_call = { args = " + "{ a = " * 40 + "1" + " }" * 40 + " }\n",
        "turns[1].tool_call.args",
    ),
    "deep toml": ("x = " + "[" * 5000 + "]" * 5000 + "\n", "s.toml"),
    "delay a string": ('[[turns]]\ndelay_ms = "soon"\n', "turns[1].delay_ms"),
    "negative delay": ("[[turns]]\ndelay_ms = -5\n", "turns[1].delay_ms"),
    "text a number": ("[[turns]]\ntext = 5\n", "turns[1].text"),
    "turns a table": ("[turns]\ndelay_ms = 1\n", "turns"),
    "close code 999": ("[[turns]]\nclose = { code = 999 }\n", "turns[1].close.code"),
    "close code 5000": ("[setup]\nclose = { code = 5000 }\n", "setup.close.code"),
    "close code 1006": ('[[at]]\nt = 1\naction = "close"\ncode = 1006\n', "at[1].code"),
    "upgrade 999": ("upgrade = { status = 999 }\n", "upgrade.status"),
    "upgrade 101": ("upgrade = { status = 101 }\n", "upgrade.status"),
    "timed t not finite": ('[[at]]\nt = nan\naction = "drop"\n', "at[1].t"),
    "a date in args": (
        "[[turns]]\ntool_call = { args = { when = 1979-05-27 } }\n",
        "turns[1].tool_call.args.when",
    ),
    "bool as int": ("[[turns]]\nstall = 1\n", "turns[1].stall"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_scenario_files_are_one_line_usage_errors_naming_the_key(tmp_path: Path, name: str) -> None:
    body, key = HOSTILE[name]
    path = tmp_path / "s.toml"
    path.write_text(body)
    with pytest.raises(UsageError) as info:
        load_scenario(str(path))
    message = str(info.value)
    assert str(path) in message
    assert key in message
    assert "\n" not in message


def test_a_hostile_scenario_stops_serve_at_start_with_status_2(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"upgrade": {"status": 999}}))
    result = run_cli("serve", "--port", "0", "--scenario", str(path), expect=2)
    assert "upgrade.status" in result.stderr
    assert result.stderr.count("\n") == 1
