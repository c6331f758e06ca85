"""Per-turn milestones measured from the end of input, on an injected clock."""

from __future__ import annotations

from livecli.client.metrics import TurnTimes, measure
from livecli.protocol.events import AudioChunk, GenerationComplete, InputTranscription
from livecli.protocol.session import Turn


def test_milestones_from_the_end_of_input() -> None:
    """Silence first: TTFA is the first chunk with an audible sample, after TTFB; RTF = audio s / wall s."""
    turn = Turn(index=1, started_at=0.0, input_ended_at=10.0, audio_rate=24000)
    times = TurnTimes()
    quiet, loud = b"\0\0" * 12000, b"\0\0" * 100 + b"\x00\x10" + b"\0\0" * 11899
    times.observe(InputTranscription("hi", finished=False), 10.1)
    for at, data in ((10.5, quiet), (11.0, loud)):
        times.observe(AudioChunk(data, 24000, "audio/pcm;rate=24000"), at)
        turn.audio += data
    turn.first_reply_at, turn.ended_at = 10.5, 11.2
    times.observe(GenerationComplete(), 11.1)
    metrics = measure(turn, times)
    assert metrics.first_input_transcription_s is not None
    assert abs(metrics.first_input_transcription_s - 0.1) < 1e-9
    assert metrics.ttfb_s == 0.5
    assert metrics.ttfa_s == 1.0
    assert abs((metrics.generation_complete_s or 0) - 1.1) < 1e-9
    assert abs((metrics.turn_complete_s or 0) - 1.2) < 1e-9
    assert metrics.realtime_factor == 2.0  # 1 s of audio over 0.5 s
    assert metrics.fields()["ttfa_s"] == 1.0


def test_silent_or_single_chunk_replies_have_no_ttfa_or_rtf() -> None:
    turn = Turn(index=1, started_at=0.0, input_ended_at=0.0, audio_rate=24000)
    times = TurnTimes()
    times.observe(AudioChunk(b"\0\0" * 240, 24000, "audio/pcm;rate=24000"), 0.3)
    turn.audio += b"\0\0" * 240
    turn.first_reply_at = turn.ended_at = 0.3
    metrics = measure(turn, times)
    assert metrics.ttfa_s is None
    assert metrics.realtime_factor is None
    assert metrics.ttfb_s == 0.3
