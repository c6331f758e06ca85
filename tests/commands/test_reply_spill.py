"""Reply audio spilled to disk as it arrives (issue 10, L5): each turn keeps at most a window in memory, the
rest in one nameless temporary file beside the output, and the reply file written from it is the reply."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from helpers import local_server, run_cli

from livecli.audio.encode import wav_header, write_reply
from livecli.commands.reply_spill import WINDOW_BYTES, ReplySpill, SpilledAudio, spill_directory
from livecli.errors import OutputError
from livecli.protocol.client_messages import SetupConfig
from livecli.protocol.reply_audio import JoinedAudio, ReplyAudio
from livecli.protocol.session import ClientSession

RATE = 24000


def pcm(n_bytes: int, seed: int = 0) -> bytes:
    return np.random.default_rng(seed).integers(0, 256, n_bytes, dtype=np.uint8).tobytes()


def test_a_spilled_turn_keeps_at_most_the_window_in_memory(tmp_path: Path) -> None:
    data = pcm(5 * WINDOW_BYTES + 12345)
    with ReplySpill(str(tmp_path)) as spill:
        audio = spill.new_audio()
        peak = 0
        for start in range(0, len(data), 9600):  # 0.2 s messages
            audio += data[start : start + 9600]
            peak = max(peak, audio.in_memory)
        assert peak <= WINDOW_BYTES
        assert len(audio) == len(data)
        assert b"".join(audio.blocks(size=7777)) == data
        assert audio == data


def test_the_spill_file_has_no_name(tmp_path: Path) -> None:
    with ReplySpill(str(tmp_path)) as spill:
        audio = spill.new_audio()
        audio += pcm(3 * WINDOW_BYTES)
        assert spill.size == 3 * WINDOW_BYTES
        assert list(tmp_path.iterdir()) == []


def test_turns_share_one_spill_file_in_order(tmp_path: Path) -> None:
    first, second = pcm(2 * WINDOW_BYTES + 3, seed=1), pcm(WINDOW_BYTES + 5, seed=2)
    with ReplySpill(str(tmp_path)) as spill:
        a, b = spill.new_audio(), spill.new_audio()
        for start in range(0, max(len(first), len(second)), 4800):  # interleaved, as two turns may arrive
            a += first[start : start + 4800]
            b += second[start : start + 4800]
        assert bytes(a) == first
        assert bytes(b) == second
        assert b"".join(JoinedAudio([a, b]).blocks()) == first + second


def test_the_session_keeps_reply_audio_where_it_is_told(tmp_path: Path) -> None:
    session = ClientSession(SetupConfig("gemini-3.8-live"))
    with ReplySpill(str(tmp_path)) as spill:
        session.new_reply_audio = spill.new_audio
        session.start()
        session.receive(json.dumps({"setupComplete": {}}))
        data = pcm(WINDOW_BYTES + 2)
        blob = {"mimeType": "audio/pcm;rate=24000", "data": base64.b64encode(data).decode()}
        session.receive(json.dumps({"serverContent": {"modelTurn": {"parts": [{"inlineData": blob}]}}}))
        (turn,) = session.turns
        assert isinstance(turn.audio, SpilledAudio)
        assert spill.size == WINDOW_BYTES + 2
        assert turn.audio == data


def test_an_unusable_spill_directory_is_an_output_error(tmp_path: Path) -> None:
    audio = ReplySpill(str(tmp_path / "gone")).new_audio()
    with pytest.raises(OutputError, match="cannot keep the reply audio in a temporary file"):
        audio += pcm(WINDOW_BYTES)


def test_a_full_disk_while_spilling_is_an_output_error(tmp_path: Path) -> None:
    """RLIMIT_FSIZE makes the write fail with EFBIG, as a full disk fails it with ENOSPC."""
    script = f"""
import resource, signal
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, ({WINDOW_BYTES}, {WINDOW_BYTES}))
from livecli.commands.reply_spill import ReplySpill
from livecli.errors import OutputError
audio = ReplySpill({str(tmp_path)!r}).new_audio()
audio += bytes({WINDOW_BYTES})
try:
    audio += bytes({WINDOW_BYTES})
except OutputError as exc:
    print(exc)
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30, check=True)
    assert out.stdout.startswith(f"cannot keep the reply audio in a temporary file in {tmp_path}: File too large")


def test_spill_directory_is_beside_the_first_reply_file() -> None:
    assert spill_directory((None, "out/b.wav")) == "out"
    assert spill_directory(("reply.wav",)) == "."
    assert spill_directory(("-",)) is None
    assert spill_directory((None,)) is None


def test_memory_store_is_what_it_holds() -> None:
    audio = ReplyAudio()
    audio += b"\x01\x02"
    audio += b"\x03"
    assert audio == b"\x01\x02\x03"
    assert audio != b"\x01\x02"
    assert bytes(audio) == b"\x01\x02\x03"
    assert audio.in_memory == 3


@pytest.mark.parametrize("suffix", [".wav", ".flac"])
def test_a_reply_read_in_odd_blocks_is_written_whole(tmp_path: Path, suffix: str) -> None:
    samples = np.random.default_rng(3).integers(-30000, 30000, 48001, dtype=np.int16)
    data = samples.astype("<i2").tobytes()
    parts = []
    for piece in (data[:1001], data[1001:50001], data[50001:]):  # cut inside samples
        part = ReplyAudio()
        part += piece
        parts.append(part)
    write_reply(str(tmp_path / f"r{suffix}"), JoinedAudio(parts), RATE)
    read, rate = sf.read(str(tmp_path / f"r{suffix}"), dtype="int16")
    assert rate == RATE
    assert np.array_equal(read, samples)


def test_wav_header_states_the_sizes() -> None:
    header = wav_header(RATE, 4800)
    assert len(header) == 44
    assert header[4:8] == (36 + 4800).to_bytes(4, "little")
    assert header[40:44] == (4800).to_bytes(4, "little")
    assert wav_header(RATE, 2**32)[40:44] == b"\xff\xff\xff\xff"  # more than WAV can count: unknown


def test_a_long_reply_reaches_the_file_through_the_spill(tmp_path: Path) -> None:
    minute = (0.2 * np.sin(2 * np.pi * 330 * np.arange(60 * RATE) / RATE) * 32767).astype(np.int16)
    sf.write(str(tmp_path / "answer.wav"), minute, RATE, subtype="PCM_16")  # 2.9 MB: spilled
    scenario = tmp_path / "long.toml"
    scenario.write_text('name = "long"\n[[turns]]\naudio = "answer.wav"\n', encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    with local_server(scenario=str(scenario)) as server:
        run_cli("text", "hi", "--endpoint", server.url, "-o", str(out / "reply.wav"), "-q")
    read, rate = sf.read(str(out / "reply.wav"), dtype="int16")
    assert rate == RATE
    assert np.array_equal(read, minute)
    assert os.listdir(out) == ["reply.wav"]  # no spill file left beside it
