"""Audio in: every format decoded, stdin, mixing, bit-exact 16 kHz path, chunking, bad inputs."""

from __future__ import annotations

import io
import math
import os
import pty
import struct
import threading
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import given, settings
from hypothesis import strategies as st

from livecli.audio import decode as audio
from livecli.audio.chunks import chunk_plan
from livecli.audio.levels import rms_dbfs_pcm16
from livecli.audio.resample import to_int16
from livecli.cli.exit_status import ExitStatus, exit_status_for
from livecli.errors import AudioInputError, UsageError

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def tone(sr: int, seconds: float, freq: float = 440.0, amp: float = 0.5) -> np.ndarray:
    return amp * np.sin(2 * np.pi * freq * np.arange(int(sr * seconds)) / sr)


def decode(path: str | Path, chunk_ms: int = 40) -> np.ndarray:
    with audio.open_input(str(path)) as a:
        return np.frombuffer(b"".join(a.pcm16(chunk_ms)), "<i2")


FORMATS = [
    ("WAV", "PCM_U8", 1 / 64),
    ("WAV", "PCM_16", 1e-3),
    ("WAV", "PCM_24", 1e-3),
    ("WAV", "PCM_32", 1e-3),
    ("WAV", "FLOAT", 1e-3),
    ("WAV", "DOUBLE", 1e-3),
    ("FLAC", "PCM_16", 1e-3),
    ("FLAC", "PCM_24", 1e-3),
    ("OGG", "VORBIS", 0.05),
    ("AIFF", "PCM_16", 1e-3),
]


@pytest.mark.parametrize(("fmt", "subtype", "tolerance"), FORMATS)
def test_every_format_decodes_to_16k_mono(tmp_path: Path, fmt: str, subtype: str, tolerance: float) -> None:
    path = tmp_path / f"in.{fmt.lower()}"
    sf.write(path, np.column_stack([tone(44100, 0.6), tone(44100, 0.6)]), 44100, format=fmt, subtype=subtype)
    with audio.open_input(str(path)) as a:
        assert (a.format, a.samplerate, a.channels, a.frames) == (fmt, 44100, 2, int(44100 * 0.6))
        assert a.duration_s == math.ceil(a.frames * 16000 / 44100) / 16000
        pcm = b"".join(a.pcm16())
    got = np.frombuffer(pcm, "<i2") / 32768
    assert len(got) == math.ceil(a.frames * 16000 / 44100)
    want = tone(16000, 0.6)[: len(got)]
    assert np.max(np.abs(got - want)[400:-400]) < tolerance


def test_stdin_through_a_real_pipe(tmp_path: Path) -> None:
    path = tmp_path / "in.flac"
    sf.write(path, tone(48000, 1.0), 48000)
    data = path.read_bytes()
    read_fd, write_fd = os.pipe()

    def feed() -> None:
        with os.fdopen(write_fd, "wb") as w:
            w.write(data)

    writer = threading.Thread(target=feed)
    writer.start()
    with os.fdopen(read_fd, "rb") as pipe, audio.open_input("-", pipe) as a:
        assert (a.name, a.format, a.frames) == ("stdin", "FLAC", 48000)
        pcm = b"".join(a.pcm16())
    writer.join()
    assert np.array_equal(np.frombuffer(pcm, "<i2"), decode(path))


def test_stdin_from_a_file_object_is_bit_exact_at_16k(tmp_path: Path) -> None:
    samples = np.random.default_rng(3).integers(-32768, 32768, 8000, dtype=np.int16)
    path = tmp_path / "in.wav"
    sf.write(path, samples, 16000, subtype="PCM_16")
    with path.open("rb") as f, audio.open_input("-", f) as a:
        assert b"".join(a.pcm16()) == samples.astype("<i2").tobytes()


@pytest.mark.parametrize("fmt", ["WAV", "FLAC"])
def test_full_scale_16k_16bit_mono_reaches_the_wire_bit_exact(tmp_path: Path, fmt: str) -> None:
    rng = np.random.default_rng(7)
    samples = rng.integers(-32768, 32768, 20000, dtype=np.int16)
    samples[:4] = [-32768, 32767, -32768, 32767]  # full scale both ways
    path = tmp_path / f"in.{fmt.lower()}"
    sf.write(path, samples, 16000, format=fmt, subtype="PCM_16")
    with audio.open_input(str(path)) as a:
        assert a.bypass
        pcm = b"".join(a.pcm16(20))
    assert pcm == samples.astype("<i2").tobytes()


def test_16k_float_file_keeps_samples_with_scale_32768(tmp_path: Path) -> None:
    samples = np.random.default_rng(8).integers(-32768, 32768, 5000, dtype=np.int16)
    path = tmp_path / "in.wav"
    sf.write(path, samples.astype(np.float32) / 32768, 16000, subtype="FLOAT")
    assert np.array_equal(decode(path), samples)


def test_channels_are_averaged_by_matrix_product(tmp_path: Path) -> None:
    frames = np.tile(np.array([[0.5, -0.25, 0.125]], np.float32), (1600, 1))
    path = tmp_path / "three.wav"
    sf.write(path, frames, 16000, subtype="FLOAT")
    assert np.all(decode(path) == round(32768 * (0.5 - 0.25 + 0.125) / 3))
    assert np.allclose(audio.mix_to_mono(frames), (0.5 - 0.25 + 0.125) / 3)


def test_nan_and_inf_are_replaced(tmp_path: Path) -> None:
    path = tmp_path / "bad.wav"
    sf.write(path, np.array([np.nan, np.inf, -np.inf, 0.5, 2.0], np.float32), 16000, subtype="FLOAT")
    assert decode(path).tolist() == [0, 32767, -32768, 16384, 32767]


def test_absurd_float_samples_clip_without_overflow(tmp_path: Path) -> None:
    """±3e38 in a float file (corrupt data) clips to full scale through the filter, with no overflow warning."""
    x = np.zeros(4000, np.float32)
    x[1000:1010], x[3000:3010] = 3e38, -3e38
    path = tmp_path / "huge.wav"
    sf.write(path, x, 44100, subtype="FLOAT")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = decode(path)
    assert y.max() == 32767
    assert y.min() == -32768
    assert y[:300].tolist() == [0] * 300


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(-32768, 32767), max_size=500))
def test_int16_round_trip_through_float(values: list[int]) -> None:
    samples = np.array(values, np.int16)
    assert np.array_equal(to_int16((samples / 32768).astype(np.float32)), samples)


def test_int16_rounds_and_clips() -> None:
    y = np.array([1.5 / 32768, -1.5 / 32768, 0.4 / 32768, 1.0, -1.0, 3.0, -3.0], np.float32)
    assert to_int16(y).tolist() == [2, -2, 0, 32767, -32768, 32767, -32768]


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 9000), st.sampled_from([16000, 22050, 48000]), st.integers(10, 300))
def test_pcm16_chunks_match_the_plan(tmp_path_factory: pytest.TempPathFactory, n: int, sr: int, ms: int) -> None:
    path = tmp_path_factory.mktemp("chunks") / "in.wav"
    sf.write(path, 0.5 * np.sin(np.arange(n) / 10), sr, subtype="PCM_16")
    with audio.open_input(str(path)) as a:
        sizes = [len(c) for c in a.pcm16(ms)]
    assert sizes == chunk_plan(2 * math.ceil(n * 16000 / sr), ms)


@pytest.mark.parametrize("chunk_ms", [0, 9, 1001, -40])
def test_chunk_length_outside_10_to_1000_ms_is_a_usage_error(chunk_ms: int) -> None:
    with audio.open_input(str(SAMPLES / "hello_16k.wav")) as a, pytest.raises(UsageError, match="10–1000 ms"):
        next(a.pcm16(chunk_ms))


def truncated(tmp_path: Path, fmt: str) -> Path:
    path = tmp_path / f"whole.{fmt.lower()}"
    noise = np.random.default_rng(0).uniform(-0.5, 0.5, (48000 * 3, 2))
    sf.write(path, noise, 48000, format=fmt, subtype="PCM_16")
    cut = tmp_path / f"cut.{fmt.lower()}"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return cut


def bad_inputs(tmp_path: Path) -> dict[str, tuple[str, str]]:
    (tmp_path / "text.wav").write_text("this is not audio at all\n" * 40)
    sf.write(tmp_path / "empty.wav", np.zeros((0, 1)), 16000)
    return {
        "missing": (str(tmp_path / "nope.wav"), "no such file"),
        "directory": (str(tmp_path), "is a directory"),
        "not audio": (str(tmp_path / "text.wav"), "not a readable audio file"),
        "zero frames": (str(tmp_path / "empty.wav"), "no audio frames"),
        "truncated wav": (str(truncated(tmp_path, "WAV")), "truncated"),
        "truncated flac": (str(truncated(tmp_path, "FLAC")), "truncated"),
    }


@pytest.mark.parametrize(
    "case", ["missing", "directory", "not audio", "zero frames", "truncated wav", "truncated flac"]
)
def test_bad_input_is_one_clear_audio_input_error(tmp_path: Path, case: str) -> None:
    path, problem = bad_inputs(tmp_path)[case]
    with pytest.raises(AudioInputError) as caught, audio.open_input(path) as a:
        for _ in a.pcm16():
            pass
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert problem in message
    assert "\n" not in message
    assert exit_status_for(caught.value) == ExitStatus.BAD_INPUT


def test_truncated_flac_fails_mid_decode_not_at_open(tmp_path: Path) -> None:
    with audio.open_input(str(truncated(tmp_path, "FLAC"))) as a:
        chunks = a.pcm16(100)
        assert len(next(chunks)) == 3200  # the start decodes fine
        with pytest.raises(AudioInputError, match=r"cut\.flac: corrupt or truncated audio after"):
            list(chunks)


def test_bad_stdin(tmp_path: Path) -> None:
    with pytest.raises(AudioInputError, match=r"^stdin: no data"):
        audio.open_input("-", io.BytesIO(b""))
    with pytest.raises(AudioInputError, match=r"^stdin: not a readable audio file"):
        audio.open_input("-", io.BytesIO(b"plain text, no audio here" * 20))
    read_end, write_end = os.pipe()
    os.close(read_end)
    with os.fdopen(write_end, "rb") as unreadable, pytest.raises(AudioInputError, match=r"^stdin: cannot read"):
        audio.open_input("-", unreadable)  # reading the write end of a pipe fails with EBADF
    main, side = pty.openpty()
    with os.fdopen(side, "rb") as terminal, pytest.raises(AudioInputError, match=r"^stdin: is a terminal"):
        audio.open_input("-", terminal)
    os.close(main)


def test_closed_stdin_and_bad_file_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """fd 0 closed (sys.stdin is None) and a NUL in the name: AudioInputError, not AttributeError/ValueError."""
    monkeypatch.setattr("sys.stdin", None)
    with pytest.raises(AudioInputError, match=r"^stdin: not available"):
        audio.open_input("-")
    with pytest.raises(AudioInputError, match="not a valid file name"):
        audio.open_input("a\0b.wav")


def wav_header(rate: int, frames: int) -> bytes:
    """A 16-bit mono WAV with any (even absurd) sample rate in its header."""
    fmt = struct.pack("<IHHIIHH", 16, 1, 1, rate, (2 * rate) % 2**32, 2, 16)
    body = b"WAVE" + b"fmt " + fmt + b"data" + struct.pack("<I", 2 * frames) + bytes(2 * frames)
    return b"RIFF" + struct.pack("<I", len(body)) + body


@pytest.mark.parametrize("rate", [1_000_001, 2**31 - 1])
def test_absurd_header_sample_rate_is_bad_input(tmp_path: Path, rate: int) -> None:
    """A bogus 2 GHz rate once tried to build a filter of gigabytes (MemoryError) instead of refusing the file."""
    path = tmp_path / "fast.wav"
    path.write_bytes(wav_header(rate, 100))
    with pytest.raises(AudioInputError, match="unsupported sample rate"):
        audio.open_input(str(path))


def test_one_hertz_file_is_refused(tmp_path: Path) -> None:
    """A 1 Hz header is bogus (below the 4 kHz floor): refused, not upsampled into hours of audio."""
    path = tmp_path / "slow.wav"
    path.write_bytes(wav_header(1, 1030))
    with pytest.raises(AudioInputError, match="unsupported sample rate 1 Hz"):
        audio.open_input(str(path))


def test_long_input_is_decoded_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "long.flac"
    with sf.SoundFile(path, "w", 48000, 2, format="FLAC", subtype="PCM_16") as f:
        for _ in range(40):  # 40 s of stereo: 7.7 MB as float32 if decoded whole
            f.write(np.random.default_rng(1).uniform(-0.3, 0.3, (48000, 2)))
    tracemalloc.start()
    try:
        with audio.open_input(str(path)) as a:
            total = sum(len(c) for c in a.pcm16())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert total == 40 * 32000
    assert peak < 3_000_000


def test_samples_decode(tmp_path: Path) -> None:
    expected = {"hello_16k.wav": (16000, 1), "hello.flac": (44100, 2), "hello_48k_float.wav": (48000, 1)}
    for name, (rate, channels) in expected.items():
        with audio.open_input(str(SAMPLES / name)) as a:
            assert (a.samplerate, a.channels) == (rate, channels)
            assert rms_dbfs_pcm16(b"".join(a.pcm16())) > -40
    pause = decode(SAMPLES / "pause.wav")
    zero = np.concatenate(([0], (pause == 0).astype(np.int8), [0]))
    edges = np.diff(zero)
    assert max(np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)) == 16000  # exactly 1 s of silence
