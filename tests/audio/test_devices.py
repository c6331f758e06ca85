"""The device layer: the jitter buffer, the microphone's chunks, the speaker's resampling, and device lookup
(through a stand-in sounddevice module: no sound card here)."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from helpers import run_cli

from livecli.audio.devices import CaptureBlock, JitterBuffer, MicChunks, Speaker, block_dbfs
from livecli.audio.virtual_devices import VirtualPlayback
from livecli.errors import UsageError

LOUD = (np.full(240, 8000, "<i2")).tobytes()  # 10 ms at 24 kHz, -12 dBFS


def test_playback_starts_once_the_buffer_time_has_passed() -> None:
    buffer = JitterBuffer(24000, buffer_ms=60)
    buffer.push(LOUD, now=0.0)
    assert buffer.pull(240, now=0.05) == bytes(480)  # still priming
    assert buffer.pull(240, now=0.06) == LOUD


def test_a_short_reply_plays_after_the_buffer_time_even_if_it_never_fills_it() -> None:
    buffer = JitterBuffer(24000, buffer_ms=60)
    buffer.push(LOUD[:100], now=0.0)
    played = buffer.pull(240, now=0.1)
    assert played[:100] == LOUD[:100]
    assert played[100:] == bytes(380)


def test_flush_makes_the_next_block_silent() -> None:
    buffer = JitterBuffer(24000, buffer_ms=0)
    buffer.push(LOUD * 10, now=0.0)
    assert buffer.pull(240, now=0.0) == LOUD
    buffer.flush()
    assert buffer.pull(240, now=0.01) == bytes(480)
    assert not buffer.busy


def test_running_dry_primes_the_next_burst_again() -> None:
    buffer = JitterBuffer(24000, buffer_ms=60)
    buffer.push(LOUD, now=0.0)
    buffer.pull(240, now=0.1)
    buffer.push(LOUD, now=0.2)
    assert buffer.pull(240, now=0.21) == bytes(480)
    assert buffer.pull(240, now=0.26) == LOUD


def test_the_onset_is_the_first_audible_sample_played() -> None:
    buffer = JitterBuffer(24000, buffer_ms=0)
    quiet_then_loud = bytes(240) + LOUD  # 5 ms of silence first
    buffer.push(quiet_then_loud, now=1.0)
    buffer.pull(480, now=2.0)
    assert buffer.take_onsets() == [pytest.approx(2.0 + 120 / 24000)]
    assert buffer.take_onsets() == []


def test_mic_chunks_are_16_khz_mono_in_chunk_ms_pieces() -> None:
    mic = MicChunks(48000, chunk_ms=40)
    stereo = np.zeros((4800, 2), np.float32)  # 100 ms
    stereo[:, 0] = 0.5
    chunks = mic.feed(CaptureBlock(stereo, 0.1))
    assert [len(c) for c in chunks] == [1280, 1280]  # 80 ms out, 20 ms held for the next block
    assert mic.level_dbfs == pytest.approx(block_dbfs(np.full(4800, 0.25, np.float32)))


def test_the_speaker_resamples_to_the_sink_rate() -> None:
    sink = VirtualPlayback(rate=48000, buffer_ms=0)
    speaker = Speaker(sink, clock=lambda: 0.0)
    speaker.sink.start = lambda: None  # type: ignore[method-assign]  (no event loop: nothing pulls)
    speaker.write(LOUD * 10, 24000)  # 100 ms at 24 kHz
    assert 0.09 <= sink.buffer.queued_s <= 0.1


FAKE_SOUNDDEVICE = textwrap.dedent(
    """
    class PortAudioError(Exception):
        pass

    class _Default:
        device = (1, 2)

    default = _Default()

    def query_hostapis():
        return [{"name": "ALSA"}]

    def query_devices():
        return [
            {"index": 0, "name": "HDA Intel: ALC (hw:0,0)", "hostapi": 0, "max_input_channels": 2,
             "max_output_channels": 2, "default_samplerate": 44100.0},
            {"index": 1, "name": "USB mic \\x1b[31m", "hostapi": 0, "max_input_channels": 1,
             "max_output_channels": 0, "default_samplerate": 48000.0},
            {"index": 2, "name": "USB speaker", "hostapi": 0, "max_input_channels": 0,
             "max_output_channels": 2, "default_samplerate": 48000.0},
        ]
    """
)


@pytest.fixture
def fake_sounddevice(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    (tmp_path / "sounddevice.py").write_text(FAKE_SOUNDDEVICE)
    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    # The stand-in must not outlive the test: where the real module is absent (make test-min), a later test's
    # dev_only("sounddevice") would find it and run instead of skipping.
    sys.modules.pop("sounddevice", None)


@pytest.mark.usefixtures("fake_sounddevice")
def test_devices_are_found_by_index_name_or_default() -> None:
    from livecli.audio.sound_device import find_device

    assert find_device(None, "input", "t").index == 1
    assert find_device(None, "output", "t").index == 2
    assert find_device("0", "output", "t").name.startswith("HDA")
    assert find_device("speaker", "output", "t").index == 2
    with pytest.raises(UsageError, match="has no input channels"):
        find_device("2", "input", "t")
    with pytest.raises(UsageError, match="matches several devices"):
        find_device("a", "output", "t")  # "HDA Intel…" and "USB speaker"
    with pytest.raises(UsageError, match="no output device's name contains"):
        find_device("nothing", "output", "t")


@pytest.mark.usefixtures("fake_sounddevice")
def test_livecli_devices_lists_them_escaped_and_as_json() -> None:
    listing = run_cli("devices").stdout
    assert "USB speaker" in listing
    assert "\x1b" not in listing  # a device name cannot reach the terminal raw
    lines = run_cli("devices", "--json").json_lines
    assert [line["index"] for line in lines] == [0, 1, 2]
    assert lines[1]["default_input"] is True
    assert lines[2]["outputs"] == 2
