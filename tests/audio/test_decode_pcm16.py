"""16-bit PCM files are read as int16 and scaled by livecli (faster than libsndfile's float conversion): the
16 kHz stream must be exactly what the float read gives. A 24-bit file holding the same values (shifted 8 bits)
is read as floats by libsndfile with the same scale, so both files must decode to the same bytes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from livecli.audio.decode import open_input


@pytest.mark.parametrize(("rate", "channels"), [(48_000, 1), (44_100, 2), (22_050, 3)])
def test_a_16_bit_file_decodes_as_its_24_bit_twin(tmp_path: Path, rate: int, channels: int) -> None:
    samples = np.random.default_rng(rate).integers(-32768, 32768, (rate * 2 + 17, channels)).astype(np.int32)
    sf.write(tmp_path / "in16.wav", samples.astype(np.int16), rate, subtype="PCM_16")
    sf.write(tmp_path / "in24.wav", samples << 16, rate, subtype="PCM_24")  # int32 full scale → top 24 bits
    with open_input(str(tmp_path / "in16.wav")) as sixteen, open_input(str(tmp_path / "in24.wav")) as twin:
        assert sixteen.subtype == "PCM_16"
        assert twin.subtype == "PCM_24"
        assert b"".join(sixteen.pcm16(40)) == b"".join(twin.pcm16(40))
