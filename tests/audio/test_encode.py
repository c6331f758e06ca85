"""Reply files: WAV or FLAC by suffix, written atomically and losslessly, or WAV on stdout."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from livecli.audio.encode import write_reply
from livecli.errors import UsageError


@pytest.mark.parametrize("suffix", [".wav", ".flac", ".WAV"])
def test_write_reply_is_atomic_and_lossless(tmp_path: Path, suffix: str) -> None:
    pcm = np.random.default_rng(2).integers(-32768, 32768, 24000, dtype=np.int16).astype("<i2").tobytes()
    dest = tmp_path / f"reply{suffix}"
    dest.write_bytes(b"old")
    write_reply(str(dest), pcm, 24000)
    data, rate = sf.read(dest, dtype="int16")
    assert rate == 24000
    assert data.astype("<i2").tobytes() == pcm
    assert sorted(p.name for p in tmp_path.iterdir()) == [dest.name]  # no temp file left behind


def test_write_reply_failures_leave_nothing(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="unknown output format"):
        write_reply(str(tmp_path / "reply.mp4"), bytes(100), 24000)
    with pytest.raises(UsageError, match="cannot write"):
        write_reply(str(tmp_path / "no" / "reply.wav"), bytes(100), 24000)
    assert list(tmp_path.iterdir()) == []


def test_write_reply_dash_writes_wav_to_stdout() -> None:
    out = io.BytesIO()
    write_reply("-", b"\x01\x00\xff\x7f", 24000, stdout=out)
    data, rate = sf.read(io.BytesIO(out.getvalue()), dtype="int16")
    assert out.getvalue()[:4] == b"RIFF"
    assert rate == 24000
    assert data.tolist() == [1, 32767]
