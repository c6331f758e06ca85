"""The parts a ServerSession is built from, each on its own: InputTurns, ToolCalls, reply_frames."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from livecli.server.probe import speechlike
from livecli.server.replies import Reply
from livecli.server.reply_frames import reply_frames
from livecli.server.scenarios import TurnSpec
from livecli.server.session_tools import ToolCalls
from livecli.server.session_turns import Heard, InputTurns
from livecli.server.validate import Refusal, check_setup

LOG = logging.getLogger("test")


def _turns(**setup: Any) -> tuple[InputTurns, list[tuple[str, float, Heard | None]]]:
    """InputTurns for a setup, and what it called back: ("speech", now, None) / ("turn", now, heard)."""
    seen: list[tuple[str, float, Heard | None]] = []
    parts = InputTurns(
        check_setup({"model": "models/gemini-3.8-live", **setup}),
        on_speech=lambda now: seen.append(("speech", now, None)),
        on_turn=lambda now, heard: seen.append(("turn", now, heard)),
    )
    return parts, seen


MANUAL = {"realtimeInputConfig": {"automaticActivityDetection": {"disabled": True}}}


def test_activity_brackets_make_one_turn_of_the_audio_between_them() -> None:
    turns, seen = _turns(**MANUAL)
    pcm = speechlike(0.5)
    turns.realtime_input({"activityStart": {}}, 1.0)
    turns.realtime_input({"audio": {"data": pcm, "mimeType": "audio/pcm;rate=16000"}}, 1.2)
    turns.realtime_input({"activityEnd": {}}, 1.6)
    assert seen == [("speech", 1.0, None), ("turn", 1.6, Heard(pcm, 0.5))]


def test_a_text_input_is_speech_then_a_turn() -> None:
    turns, seen = _turns(**MANUAL)
    turns.realtime_input({"text": "hello"}, 2.0)
    assert seen == [("speech", 2.0, None), ("turn", 2.0, Heard(text="hello"))]


def test_activity_signals_are_refused_under_automatic_detection() -> None:
    turns, seen = _turns()
    with pytest.raises(Refusal):
        turns.realtime_input({"activityStart": {}}, 0.0)
    assert seen == []


def test_the_vad_ends_a_turn_once_its_silence_has_lasted_on_the_clock() -> None:
    turns, seen = _turns(realtimeInputConfig={"automaticActivityDetection": {"silenceDurationMs": 200}})
    turns.realtime_input({"audio": {"data": speechlike(0.4) + bytes(16000), "mimeType": "audio/pcm"}}, 0.0)
    assert [kind for kind, _, _ in seen] == ["speech"]
    due = turns.deadline()
    assert due is not None
    assert due == pytest.approx(0.2)
    turns.poll(due)
    assert [kind for kind, _, _ in seen] == ["speech", "turn"]
    heard = seen[-1][2]
    assert heard is not None
    assert heard.seconds == pytest.approx(0.4, abs=0.05)


def test_tool_calls_are_matched_by_id_and_cancelled_together() -> None:
    tools = ToolCalls(LOG)
    answers: list[dict[str, Any]] = []
    first = json.loads(tools.call("f", {"q": 1}, lambda now, response: answers.append(response)))
    second = json.loads(tools.call("g", {}, lambda now, response: answers.append(response)))
    first_id = first["toolCall"]["functionCalls"][0]["id"]
    second_id = second["toolCall"]["functionCalls"][0]["id"]
    assert first_id != second_id
    assert len(tools) == 2
    tools.respond({"functionResponses": [{"id": first_id, "response": {"ok": True}}]}, 1.0)
    assert answers == [{"id": first_id, "response": {"ok": True}}]
    assert tools.cancel() == [second_id]
    assert not tools


@pytest.mark.parametrize(("speed", "last_audio_at"), [(1.0, 0.16), (2.0, 0.08), (0.0, 0.0)])
def test_reply_frames_are_paced_from_the_start_time(speed: float, last_audio_at: float) -> None:
    reply = Reply("heard", "said", audio=bytes(24000 * 2 * 200 // 1000), texts=[], usage={"totalTokenCount": 5})
    frames, end = reply_frames(reply, TurnSpec(), 10.0, chunk_ms=40, speed=speed)
    audio = [frame.when for frame in frames if frame.kind == "audio"]
    assert len(audio) == 5
    assert audio[0] == 10.0
    assert audio[-1] == pytest.approx(10.0 + last_audio_at)
    assert [frame.kind for frame in frames][-2:] == ["generationComplete", "turnComplete"]
    assert end == pytest.approx(10.0 + last_audio_at + (0.04 / speed if speed else 0.0))  # one chunk later
