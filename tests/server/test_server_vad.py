"""The energy VAD on the server's clock: paced pauses split turns, bursts do not; sensitivities; durations."""

from __future__ import annotations

import asyncio

import pytest
from helpers import LocalServer

from livecli.server.probe import Probe, audio_frame, speechlike
from livecli.server.vad import EnergyVad, VadParams

CHUNK = 1280  # 40 ms at 16 kHz


def _silence(seconds: float) -> bytes:
    return bytes(2 * int(16000 * seconds))


def _pause_file() -> bytes:
    """Speech, a one-second pause, speech, then 1.5 s of trailing silence (like `send --turn-end silence`)."""
    return speechlike(0.8, seed=1) + _silence(1.0) + speechlike(0.8, seed=2) + _silence(1.5)


def _run(vad: EnergyVad, pcm: bytes, *, paced: bool, after_s: float = 3.0) -> tuple[list[str], list[bytes]]:
    """Feed 40 ms chunks; paced: the clock advances 40 ms per chunk, burst: it stands still. Then wait."""
    events: list[str] = []
    turns: list[bytes] = []
    now = 100.0

    def collect(new: list[str]) -> None:
        for event in new:
            events.append(event)
            if event == "end":
                turns.append(vad.take_turn())

    for offset in range(0, len(pcm), CHUNK):
        collect(vad.feed(pcm[offset : offset + CHUNK], now))
        if paced:
            now += 0.04
    end = now + after_s
    while (due := vad.deadline()) is not None and due <= end:
        collect(vad.poll(due))
    return events, turns


def test_pause_gives_two_turns_paced_and_one_as_a_burst() -> None:
    paced, turns = _run(EnergyVad(VadParams()), _pause_file(), paced=True)
    assert paced == ["start", "end", "start", "end"]
    assert [round(len(t) / 32000, 1) for t in turns] == [0.8, 0.8]
    burst, turns = _run(EnergyVad(VadParams()), _pause_file(), paced=False)
    assert burst == ["start", "end"]
    assert 2.5 < len(turns[0]) / 32000 < 2.7  # both utterances and the pause between them


def test_burst_end_waits_for_the_silence_duration_on_the_clock() -> None:
    vad = EnergyVad(VadParams(silence_duration_ms=800))
    assert vad.feed(speechlike(0.5) + _silence(1.5), 10.0) == ["start"]
    assert vad.deadline() == pytest.approx(10.8)
    assert vad.poll(10.79) == []
    assert vad.poll(10.8) == ["end"]


def test_no_trailing_silence_means_no_end_until_audio_stream_end() -> None:
    events, _ = _run(EnergyVad(VadParams()), speechlike(1.0), paced=True)
    assert events == ["start"]
    vad = EnergyVad(VadParams())
    vad.feed(speechlike(1.0), 0.0)
    assert vad.end() == ["end"]
    assert len(vad.take_turn()) == 32000


def test_silence_duration_setting() -> None:
    pcm = speechlike(0.6) + _silence(0.5) + speechlike(0.6) + _silence(1.0)
    assert _run(EnergyVad(VadParams(silence_duration_ms=300)), pcm, paced=True)[0].count("end") == 2
    assert _run(EnergyVad(VadParams(silence_duration_ms=800)), pcm, paced=True)[0].count("end") == 1
    assert VadParams.from_setup({}).silence_duration_ms == 800


def test_start_sensitivity() -> None:
    quiet = _silence(0.2) + speechlike(0.6, level_dbfs=-36) + _silence(1.2)
    high = VadParams.from_setup({"startOfSpeechSensitivity": "START_SENSITIVITY_HIGH"})
    low = VadParams.from_setup({"startOfSpeechSensitivity": "START_SENSITIVITY_LOW"})
    assert _run(EnergyVad(high), quiet, paced=True)[0] == ["start", "end"]
    assert _run(EnergyVad(low), quiet, paced=True)[0] == []


def test_end_sensitivity() -> None:
    # A loud utterance trailing off into one second of murmur, then silence.
    pcm = speechlike(0.6) + speechlike(1.0, level_dbfs=-47, seed=3) + _silence(1.2)
    high = VadParams.from_setup({"endOfSpeechSensitivity": "END_SENSITIVITY_HIGH"})
    low = VadParams.from_setup({"endOfSpeechSensitivity": "END_SENSITIVITY_LOW"})
    _, turns_high = _run(EnergyVad(high), pcm, paced=True)
    _, turns_low = _run(EnergyVad(low), pcm, paced=True)
    assert len(turns_high[0]) / 32000 == pytest.approx(0.6, abs=0.05)  # the murmur counts as silence
    assert len(turns_low[0]) / 32000 == pytest.approx(1.6, abs=0.05)  # the murmur is still speech


def test_prefix_padding() -> None:
    blip = speechlike(0.1) + _silence(1.2)
    assert _run(EnergyVad(VadParams.from_setup({"prefixPaddingMs": 60})), blip, paced=True)[0] == ["start", "end"]
    assert _run(EnergyVad(VadParams.from_setup({"prefixPaddingMs": 300})), blip, paced=True)[0] == []


async def test_pause_over_real_sockets_paced_vs_burst(live_server: LocalServer) -> None:
    """Real time, kept short: 300 ms silence duration, 0.5 s pause."""
    vad = {"realtimeInputConfig": {"automaticActivityDetection": {"silenceDurationMs": 300}}}
    pcm = speechlike(0.3) + _silence(0.5) + speechlike(0.3, seed=2) + _silence(0.5)

    async def transcripts_heard(paced: bool) -> list[str]:
        probe = await Probe.open(live_server.url)
        await probe.setup(**vad)
        for offset in range(0, len(pcm), CHUNK):
            await probe.send(audio_frame(pcm[offset : offset + CHUNK]))
            if paced:
                await asyncio.sleep(0.04)
        heard = []
        for _ in range(2 if paced else 1):
            heard += (await probe.turn(timeout=3)).input_transcripts
        await probe.close()
        return heard

    assert await transcripts_heard(paced=True) == ["[0.30 s of audio]", "[0.30 s of audio]"]
    assert await transcripts_heard(paced=False) == ["[1.10 s of audio]"]


def test_endless_speech_is_counted_but_only_max_turn_s_is_kept() -> None:
    vad = EnergyVad(VadParams(), max_turn_s=1.0)
    events = vad.feed(speechlike(3.0), 0.0) + vad.end()
    assert events == ["start", "end"]
    assert len(vad.take_turn()) == 32000
    assert vad.turn_s == pytest.approx(3.0, abs=0.05)
    assert VadParams.from_setup({"prefixPaddingMs": 2**31 - 1}).prefix_padding_ms == 10_000
