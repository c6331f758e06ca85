"""What the decoder says about odd inputs is what happened (issue 10): where a cut-off file really breaks (T6),
sample rates outside the documented range (T7), and silent inputs (T7)."""

from __future__ import annotations

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
