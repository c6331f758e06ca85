"""Levels and silence: one family for client and server, every unit in the name (ms, pcm16 bytes, dBFS)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from livecli.audio.levels import first_audible_byte_offset, frame_rms_dbfs, rms_dbfs_pcm16, silence_pcm16
from livecli.protocol.wire import INPUT_RATE, OUTPUT_RATE

SQUARE = np.array([32767, -32768] * 500, "<i2").tobytes()  # full scale: 0 dBFS


def half_scale_sine() -> bytes:
    t = np.arange(16000) / 16000
    return (0.5 * np.sin(2 * np.pi * 440 * t) * 32768).astype("<i2").tobytes()


def test_silence_is_zeros_of_the_right_length() -> None:
    assert silence_pcm16(100, rate=INPUT_RATE) == bytes(3200)
    assert silence_pcm16(10, rate=OUTPUT_RATE) == bytes(480)
    assert silence_pcm16(1000, rate=OUTPUT_RATE) == bytes(48000)  # the local server's silent reply
    assert silence_pcm16(-5, rate=INPUT_RATE) == b""


def test_rms_of_known_signals() -> None:
    assert rms_dbfs_pcm16(SQUARE) == pytest.approx(0.0, abs=0.001)
    assert rms_dbfs_pcm16(half_scale_sine()) == pytest.approx(-9.03, abs=0.01)


def test_rms_of_silence_and_of_nothing_is_minus_infinity() -> None:
    assert rms_dbfs_pcm16(bytes(100)) == -math.inf
    assert rms_dbfs_pcm16(b"") == -math.inf


def test_rms_of_a_buffer_longer_than_one_measuring_block() -> None:
    long_quiet = bytes(2 * 150_000) + np.array([0, -32768], "<i2").tobytes()
    assert rms_dbfs_pcm16(long_quiet) == pytest.approx(20 * math.log10(math.sqrt(1 / 150_002)), abs=1e-9)


def test_first_audible_byte_offset() -> None:
    quiet_then_loud = np.array([0, 3, -5, 200, 0], "<i2").tobytes()
    assert first_audible_byte_offset(quiet_then_loud, -50.0) == 6  # 200 is above -50 dBFS (104), 5 is not
    assert first_audible_byte_offset(bytes(64), -50.0) is None
    long_quiet = bytes(2 * 150_000) + np.array([0, -32768], "<i2").tobytes()  # past the first measuring blocks
    assert first_audible_byte_offset(long_quiet, -50.0) == 2 * 150_001


def test_frame_levels_measure_each_row() -> None:
    frames = np.frombuffer(SQUARE[:640] + bytes(640), "<i2").reshape(2, 320)
    levels = frame_rms_dbfs(frames)
    assert levels[0] == pytest.approx(0.0, abs=0.001)
    assert levels[1] == pytest.approx(-120.0)  # digital silence sits at the floor, not at -inf


@given(st.lists(st.integers(-32768, 32767), min_size=1, max_size=400).filter(any))
def test_one_frame_measures_like_the_whole_buffer(samples: list[int]) -> None:
    """The server's per-frame level and the client's whole-buffer level are the same measure."""
    frame = np.array(samples, "<i2")
    assert float(frame_rms_dbfs(frame[np.newaxis, :])[0]) == pytest.approx(
        rms_dbfs_pcm16(frame.tobytes()), abs=0.01
    )
