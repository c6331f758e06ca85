"""`talk` end to end against the local server, with a virtual microphone and speaker (no sound card).

The microphone plays samples/hello_48k_float.wav (0.95 s) as 48 kHz stereo, the server echoes what it heard (a
chime, then the audio) and interrupts its reply when speech starts during it; both run twice as fast as real time.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from helpers import dev_only, local_server

from tests.commands.talk.talk_helpers import SPEED, Handles, Press, speech, talk

KEY = "talk-test-key-123"


def test_the_echo_reply_is_played_and_the_latency_measured() -> None:
    with local_server(reply_speed=SPEED) as server:
        result = talk(server.endpoint(), speech(0.6))
    assert result.status == 0, result.stderr
    assert result.sink.audible_blocks, "nothing audible was played"
    assert len(result.loop.latencies) == 1
    assert 0 < result.loop.latencies[0] < 5
    assert "you: [0.9" in result.stderr
    assert "model: turn 1" in result.stderr


def test_headphones_barge_in_flushes_playback_within_one_block() -> None:
    """Full duplex: speaking again while the reply plays; the server interrupts and the next block is silent."""
    samples = np.concatenate([speech(0.6), speech(0.6, before=0.0)])
    with local_server(reply_speed=SPEED) as server:
        result = talk(server.endpoint(), samples, headphones=True)
    assert result.status == 0, result.stderr
    interrupted = result.loop.tap.interrupted_at
    assert len(interrupted) == 1
    before = [block for block in result.sink.played if block.at <= interrupted[0]]
    assert any(block.audible for block in before), "the first reply was not playing when it was interrupted"
    after = result.played_after(interrupted[0])
    assert not after[0].audible  # the first block pulled after `interrupted` is silence
    assert result.sink.buffer.flushes >= 1
    assert result.loop.muted_blocks == 0
    assert any(block.audible for block in after), "the reply to the second utterance was not played"


def test_half_duplex_mutes_the_microphone_while_the_model_speaks() -> None:
    """Without --headphones the same second utterance is not sent: no interruption, the reply plays whole."""
    samples = np.concatenate([speech(0.6), speech(0.6, before=0.0)])
    with local_server(reply_speed=SPEED, keep_received_audio=True) as server:
        result = talk(server.endpoint(), samples)
        received = b"".join(server.thread.running.received_audio().values())
    assert result.status == 0, result.stderr
    assert result.loop.tap.interrupted_at == []
    assert result.loop.muted_blocks > 20
    captured_s = sum(len(block.samples) for block in result.capture.delivered) / 48000
    assert len(received) / 32000 < captured_s - 0.4  # what was muted never reached the server
    assert "(interrupted)" not in result.stderr


def test_half_duplex_a_key_stops_playback_and_unmutes() -> None:
    """Enter while the model speaks: playback stops within one block, the microphone is open again, and the next
    utterance interrupts the reply on the server."""
    pressed: list[float] = []

    async def keys(press: Press, handles: Handles) -> None:
        await handles.until(lambda: len(handles.sink.audible_blocks) >= 20)  # 0.4 s into the reply
        assert handles.loop is not None
        assert handles.loop.muted
        pressed.append(handles.sink.clock())
        press("\n")
        await handles.until(lambda: handles.loop is not None and not handles.loop.muted)

    samples = np.concatenate([speech(1.2), speech(0.8, before=0.0)])
    with local_server(reply_speed=SPEED) as server:
        result = talk(server.endpoint(), samples, keys=keys)
    assert result.status == 0, result.stderr
    assert len(pressed) == 1
    assert result.loop.muted_blocks >= 10  # muted before the key
    assert len(result.loop.stopped_at) == 1
    assert result.loop.stopped_at[0] >= pressed[0]
    after = result.played_after(result.loop.stopped_at[0])
    assert not after[0].audible  # the first block pulled once the key was handled is silence
    assert result.loop.tap.interrupted_at, "the second utterance did not reach the server"
    assert "playback stopped" in result.stderr


def test_push_to_talk_brackets_each_turn_with_activity_start_and_end(tmp_path: Path) -> None:
    """Space opens an activity and space closes it; nothing is sent outside it; --record holds the brackets."""

    async def keys(press: Press, handles: Handles) -> None:
        assert handles.loop is not None
        loop = handles.loop
        await handles.until(lambda: len(loop.capture.delivered) >= 5)  # type: ignore[attr-defined]
        press(" ")
        await handles.until(lambda: len(loop.capture.delivered) >= 65)  # type: ignore[attr-defined]  (1.3 s)
        press(" ")

    record = tmp_path / "rec"
    with local_server(reply_speed=SPEED) as server:
        result = talk(server.endpoint(), speech(1.2), push_to_talk=True, keys=keys, record=str(record))
    assert result.status == 0, result.stderr
    assert result.sink.audible_blocks
    assert 55 <= result.loop.sent_blocks <= 62
    frames = [json.loads(line) for line in (record / "frames.jsonl").read_text().splitlines()]
    kinds = [frame["kind"] for frame in frames if frame.get("from") == "client"]
    start, end = kinds.index("realtimeInput.activityStart"), kinds.index("realtimeInput.activityEnd")
    audio = [i for i, kind in enumerate(kinds) if kind == "realtimeInput.audio"]
    assert audio
    assert start < audio[0]
    assert audio[-1] < end
    assert KEY not in (record / "recording.json").read_text()


def test_the_talk_goes_on_across_a_reconnect() -> None:
    """Connections end after 2.5 s of received audio (goAway, then 1008): the talk reconnects and the second
    utterance is answered on the new connection."""
    samples = np.concatenate([speech(1.8), speech(0.6, before=0.0)])
    with local_server(reply_speed=SPEED, max_connection_audio_s=2.5) as server:
        result = talk(server.endpoint(), samples, headphones=True)
    assert result.status == 0, result.stderr
    assert "reconnecting" in result.stderr
    assert len(result.loop.latencies) == 2  # both utterances answered and played
    assert result.stderr.count("model: turn") == 2


def test_json_events_carry_no_key() -> None:
    with local_server(reply_speed=0) as server:
        result = talk(server.endpoint(), speech(0.5), json=True)
    assert result.status == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert any(event["type"] == "turn" for event in events) or events
    assert KEY not in result.stdout
    assert KEY not in result.stderr


def test_an_image_goes_with_the_first_turn(tmp_path: Path) -> None:
    image_module = dev_only("PIL.Image")
    picture = tmp_path / "red.png"
    image_module.new("RGB", (64, 48), (200, 10, 10)).save(picture)
    record = tmp_path / "rec"
    with local_server(reply_speed=0) as server:
        result = talk(server.endpoint(), speech(0.5), images=[str(picture)], record=str(record))
    assert result.status == 0, result.stderr
    frames = [json.loads(line) for line in (record / "frames.jsonl").read_text().splitlines()]
    kinds = [frame["kind"] for frame in frames if frame.get("from") == "client"]
    assert "realtimeInput.video" in kinds
    assert kinds.index("realtimeInput.video") < kinds.index("realtimeInput.audio")
    assert "saw 1 frame (64x48)" in result.stderr  # the server had the image in the first turn


def test_a_goaway_reconnects_at_the_first_quiet_moment_and_cuts_no_reply() -> None:
    """Half duplex: the server counts no audio while its reply plays, so its goAway (after 1.5 s of audio) comes
    once the reply is over; the talk reconnects at once, long before the deadline, and no reply is cut."""
    samples = np.concatenate([speech(1.2), speech(0.6, before=0.0)])
    with local_server(reply_speed=SPEED, max_connection_audio_s=3.0) as server:
        result = talk(server.endpoint(), samples, json=True)
    assert result.status == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    kinds = [event["type"] for event in events]
    assert "go_away" in kinds
    reconnects = [event for event in events if event["type"] == "reconnect"]
    assert len(reconnects) == 1
    assert reconnects[0]["cause"].startswith("goAway")
    ends = [event["end"] for event in events if event["type"] == "turn_complete"]
    assert ends == ["turnComplete", "turnComplete"]  # both replies whole: none cut by the reconnect
    assert len(result.loop.latencies) == 2
    latencies = [event["latency_s"] for event in events if event["type"] == "turn_latency"]
    assert latencies == [round(seconds, 3) for seconds in result.loop.latencies]


def test_a_tool_call_runs_and_shows_in_the_view(tmp_path: Path) -> None:
    tools = tmp_path / "tools.py"
    tools.write_text(
        'def lookup(query: str) -> dict:\n    """Look something up."""\n    return {"found": "sunny"}\n'
    )
    scenario = tmp_path / "tool.toml"
    scenario.write_text('name = "tool"\n[[turns]]\ntool_call = { name = "lookup", args = { query = "x" } }\n')
    with local_server(reply_speed=0, scenario=str(scenario)) as server:
        result = talk(server.endpoint(), speech(0.5), tools=[str(tools)])
    assert result.status == 0, result.stderr
    assert 'tool lookup → {"found":"sunny"}' in result.stderr
    assert result.sink.audible_blocks  # the reply after the tool's answer was played


def test_on_vertex_the_microphone_reaches_the_server_once_across_reconnects() -> None:
    """Transparent resumption: the unacknowledged tail is resent on the new connection, so the server's one session
    receives the microphone's audio whole and nothing twice, however the connections were cut."""
    samples = np.concatenate([speech(1.8), speech(0.6, before=0.0)])
    with local_server(reply_speed=SPEED, max_connection_audio_s=2.5, keep_received_audio=True) as server:
        result = talk(server.url, samples, headphones=True, vertex=True)
        received = server.thread.running.received_audio()
    assert result.status == 0, result.stderr
    assert "reconnecting" in result.stderr
    assert len(received) == 1  # one session, resumed
    sent_s = result.loop.sent_blocks * 0.02  # 20 ms capture blocks, every one sent (full duplex)
    received_s = len(next(iter(received.values()))) / 32000
    assert abs(received_s - sent_s) < 0.05  # (the last chunk's remainder stays in the resampler)
    assert len(result.loop.latencies) == 2


def test_qq_shows_nothing_and_q_only_the_transcripts() -> None:
    with local_server(reply_speed=0) as server:
        silent = talk(server.endpoint(), speech(0.5), verbosity=-2)
        quiet = talk(server.endpoint(), speech(0.5), verbosity=-1)
    assert silent.status == 0
    assert silent.stderr == ""
    assert quiet.stderr.splitlines() == ["you: [0.92 s of audio]", "model: turn 1: heard 0.92 s of audio"]
