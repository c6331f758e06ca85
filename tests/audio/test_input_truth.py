"""What the decoder says about odd inputs is what happened (issue 10): where a cut-off file really breaks (T6),
sample rates outside the documented range (T7), and silent inputs (T7)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from livecli.audio.decode import open_input
from livecli.errors import AudioInputError


def _noise_flac(path: Path, seconds: float, rate: int = 16000) -> bytes:
    rng = np.random.default_rng(7)
    samples = (0.3 * np.sin(2 * np.pi * 440 * np.arange(int(seconds * rate)) / rate)).astype(np.float32)
    samples += rng.normal(0, 0.01, samples.size).astype(np.float32)  # noise: FLAC bytes grow with time
    sf.write(path, samples, rate, subtype="PCM_16")
    return path.read_bytes()


@pytest.mark.parametrize("rate", [16000, 44100])
def test_a_flac_cut_at_0_9_s_names_where_the_audio_breaks(tmp_path: Path, rate: int) -> None:
    """T6: the error says where decoding really stopped (was "after 0.00 s": where the failing block began)."""
    whole = _noise_flac(tmp_path / "whole.flac", 3.0, rate)
    cut = tmp_path / "cut.flac"
    cut.write_bytes(whole[: int(len(whole) * 0.9 / 3.0)])
    with open_input(str(cut)) as audio, pytest.raises(AudioInputError) as caught:
        for _ in audio.pcm16(40):
            pass
    found = re.search(r"after (\d+\.\d+) s of 3\.00 s", str(caught.value))
    assert found is not None, str(caught.value)
    assert 0.5 <= float(found.group(1)) <= 0.9  # within the last whole FLAC frame before the cut


def _aiff_with_rate_field(path: Path, rate_field: bytes) -> str:
    """An 8 kHz AIFF whose COMM chunk's 80-bit sample rate is replaced by `rate_field` (a bogus header)."""
    sf.write(path, np.zeros(8000, np.float32) + 0.1, 8000, subtype="PCM_16")
    data = bytearray(path.read_bytes())
    comm = data.index(b"COMM")
    data[comm + 16 : comm + 26] = rate_field
    path.write_bytes(bytes(data))
    return str(path)


def _wav_at(path: Path, rate: int, seconds: float = 0.05) -> str:
    """A WAV declaring `rate` Hz (soundfile writes any rate into the header)."""
    frames = max(1, int(rate * seconds))
    sf.write(path, np.full(frames, 0.1, np.float32), rate, subtype="PCM_16")
    return str(path)


def test_an_aiff_with_rate_0_is_refused(tmp_path: Path) -> None:
    """T7: rate 0 (read as 1 Hz) is no longer streamed as 4.4 hours of audio: exit 6 before connecting."""
    name = _aiff_with_rate_field(tmp_path / "zero.aiff", bytes(10))
    with pytest.raises(AudioInputError, match=r"unsupported sample rate 1 Hz \(livecli takes 4000–384000 Hz\)"):
        open_input(name)


@pytest.mark.parametrize("rate", [3999, 384_001, 999_983])
def test_rates_outside_the_documented_range_are_refused(tmp_path: Path, rate: int) -> None:
    with pytest.raises(AudioInputError, match=f"unsupported sample rate {rate} Hz"):
        open_input(_wav_at(tmp_path / "odd.wav", rate))


@pytest.mark.parametrize("rate", [4000, 384_000])
def test_the_ends_of_the_range_are_taken(tmp_path: Path, rate: int) -> None:
    with open_input(_wav_at(tmp_path / "edge.wav", rate)) as audio:
        total = sum(len(chunk) for chunk in audio.pcm16(40))
    assert total == 2 * math.ceil(audio.frames * 16000 / rate)  # the exact ratio
