"""Scenario turns and `[[at]]` times count per session, across resumptions (issue 10, "Inputs longer than a
connection"): the README's `flaky.toml` walkthrough reaches its turns 2 and 3 (it used to replay turn 1 after
every goAway-driven resumption, forever)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

from session_harness import MODEL, NO_VAD, Harness

from livecli.server.resumption import HandleStore
from livecli.server.scenarios import Scenario, TimedAction, load_scenario
from livecli.server.session import Close

ROOT = Path(__file__).resolve().parents[2]


def readme_scenario(tmp_path: Path) -> Scenario:
    """The `flaky.toml` of the README's walkthrough, next to its `answer.wav`, loaded as `serve` loads it."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```toml\n(.*?)```", readme, flags=re.S)
    (toml,) = [b for b in blocks if 'name = "flaky"' in b]
    shutil.copy(ROOT / "samples" / "hello_16k.wav", tmp_path / "answer.wav")
    path = tmp_path / "flaky.toml"
    path.write_text(toml, encoding="utf-8")
    return load_scenario(str(path))


def setup(handle: str | None = None) -> dict[str, Any]:
    resumption = {"handle": handle} if handle else {}
    return {"setup": {"model": MODEL, "sessionResumption": resumption, **NO_VAD}}


def last_handle(h: Harness) -> str:
    updates = [m["sessionResumptionUpdate"] for m in h.messages("sessionResumptionUpdate")]
    return [u["newHandle"] for u in updates if u["resumable"]][-1]


def closes(h: Harness) -> list[Close]:
    return [action for _, kind, action in h.sent if kind == "Close"]


def test_readme_walkthrough_reaches_turns_2_and_3_across_resumptions(tmp_path: Path) -> None:
    scenario = readme_scenario(tmp_path)
    store = HandleStore(7200)
    first = Harness(scenario, store=store, reply_speed=0)
    first.send(setup())
    first.send({"realtimeInput": {"text": "one"}})  # turn 1: the scripted answer
    first.run_until(10.0)  # the [[at]] goAway at 5 s, close 1008 at 7 s
    assert first.messages("goAway") == [{"goAway": {"timeLeft": "2s"}}]
    assert [c.code for c in closes(first)] == [1008]
    first.session.connection_closed(first.now)

    second = Harness(scenario, store=store, reply_speed=0)
    second.now = first.now
    second.send(setup(last_handle(first)))
    second.send({"realtimeInput": {"text": "two"}})
    calls = second.messages("toolCall")  # turn 2 (was: turn 1's answer again)
    assert [c["toolCall"]["functionCalls"][0]["name"] for c in calls] == ["get_weather"]
    call_id = calls[0]["toolCall"]["functionCalls"][0]["id"]
    response = {"id": call_id, "name": "get_weather", "response": {"error": "no tools"}}
    second.send({"toolResponse": {"functionResponses": [response]}})
    second.send({"realtimeInput": {"text": "three"}})  # turn 3: the scripted close
    second.run_until(second.now + 30.0)
    assert [(c.code, c.reason) for c in closes(second)] == [(1011, "Internal error encountered.")]
    assert second.messages("goAway") == []  # the goAway at 5 s is the session's, not re-armed per connection
    second.session.connection_closed(second.now)

    third = Harness(scenario, store=store, reply_speed=0)
    third.now = second.now
    third.send(setup(last_handle(second)))
    third.send({"realtimeInput": {"text": "three again"}})  # turn 4: past the list, the echo
    third.run_until(third.now + 30.0)
    assert third.transcripts() == ['turn 3: heard "three again"']
    assert closes(third) == []


def test_timed_actions_count_from_the_sessions_first_setup_complete() -> None:
    scenario = Scenario("timed", at=(_goaway(5.0), _goaway(20.0)))
    store = HandleStore(7200)
    first = Harness(scenario, store=store, reply_speed=0)
    first.send(setup())
    first.run_until(3.0)
    handle = last_handle(first)
    first.session.connection_closed(first.now)  # gone before the first goAway

    second = Harness(scenario, store=store, reply_speed=0)
    second.now = 4.0
    second.send(setup(handle))
    second.run_until(30.0)
    times = [t for t, kind, _ in second.sent if kind == "goAway"]
    assert times == [5.0]  # the session's 5 s (not 4 + 5); the close at 6 s ends it before 20 s


def test_a_new_session_starts_its_scenario_from_turn_1(tmp_path: Path) -> None:
    scenario = readme_scenario(tmp_path)
    store = HandleStore(7200)
    for _ in range(2):
        h = Harness(scenario, store=store, reply_speed=0)
        h.send(setup())
        h.send({"realtimeInput": {"text": "hello"}})
        h.run_until(h.now + 3.0)  # the scripted delay_ms, before the goAway at 5 s
        assert h.messages("toolCall") == []
        assert [m["serverContent"]["outputTranscription"]["text"] for m in h.messages("outputTranscription")] == [
            "It is sunny."
        ]


def _goaway(t: float) -> TimedAction:
    return TimedAction(t, "goaway", time_left_s=1.0)
