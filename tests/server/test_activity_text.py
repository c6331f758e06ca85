"""realtimeInput.text inside an open activity belongs to the activity's turn, answered once at activityEnd with
its audio and frames; outside an activity text is a turn of its own, answered at once (docs/wire.md, "Voice
activity"). A raw client over a real WebSocket."""

from __future__ import annotations

import base64

from helpers import LocalServer
from session_harness import NO_VAD

from livecli.server.probe import Probe, speechlike
from livecli.server.session_turns import MAX_ACTIVITY_TEXT_CHARS, Heard, InputTurns
from livecli.server.validate import check_setup


def _audio(seconds: float) -> dict[str, object]:
    pcm = speechlike(seconds)
    return {
        "realtimeInput": {"audio": {"data": base64.b64encode(pcm).decode(), "mimeType": "audio/pcm;rate=16000"}}
    }


async def test_text_inside_an_activity_is_answered_with_its_audio_in_one_turn(live_server: LocalServer) -> None:
    probe = await Probe.open(live_server.url)
    await probe.setup(**NO_VAD)
    await probe.send({"realtimeInput": {"activityStart": {}}})
    await probe.send(_audio(0.5))
    await probe.send({"realtimeInput": {"text": "and this?"}})
    await probe.send(_audio(0.5))
    await probe.send({"realtimeInput": {"activityEnd": {}}})
    turn = await probe.turn()
    assert turn.output_transcripts == ['turn 1: heard 1.00 s of audio and "and this?"']
    await probe.send({"realtimeInput": {"text": "next"}})  # outside any activity: a turn of its own, at once
    following = await probe.turn()
    assert following.output_transcripts == ['turn 2: heard "next"']
    await probe.close()


async def test_an_activity_with_only_text_is_a_text_turn(live_server: LocalServer) -> None:
    probe = await Probe.open(live_server.url)
    await probe.setup(**NO_VAD)
    await probe.send({"realtimeInput": {"activityStart": {}}})
    await probe.send({"realtimeInput": {"text": "one"}})
    await probe.send({"realtimeInput": {"text": "two"}})
    await probe.send({"realtimeInput": {"activityEnd": {}}})
    turn = await probe.turn()
    assert turn.output_transcripts == ['turn 1: heard "one\ntwo"']
    await probe.close()


def test_the_text_kept_from_one_activity_is_bounded() -> None:
    """Many texts inside one activity cannot grow its turn without end: past the bound the rest is dropped."""
    seen: list[Heard] = []
    turns = InputTurns(
        check_setup({"model": "models/gemini-3.8-live", **NO_VAD}),
        on_speech=lambda now: None,
        on_turn=lambda now, heard: seen.append(heard),
    )
    turns.realtime_input({"activityStart": {}}, 0.0)
    for _ in range(3):
        turns.realtime_input({"text": "x" * (MAX_ACTIVITY_TEXT_CHARS // 2 + 1)}, 0.1)
    turns.realtime_input({"activityEnd": {}}, 0.2)
    assert len(seen) == 1
    assert seen[0].text is not None
    assert len(seen[0].text.replace("\n", "")) == MAX_ACTIVITY_TEXT_CHARS
