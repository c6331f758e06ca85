"""Reply formats by suffix or `--format`: WAV, FLAC, OGG/Vorbis, Opus and MP3 where the installed libsndfile
writes them; an unknown one is a usage error (exit 2) before connecting."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import soundfile as sf
from helpers import LocalServer, run_cli

from livecli.audio.encode import REPLY_FORMATS, reply_format, write_reply
from livecli.commands.output import plan_output
from livecli.errors import UsageError
from tests.commands.send_helpers import HELLO_WAV

WRITABLE = [f for f in REPLY_FORMATS if f.writable()]
API_KEY = "AIzaSyOutputFormats-0123456789-secret-KEY"


def _dead_endpoint() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"ws://127.0.0.1:{s.getsockname()[1]}"


def test_the_formats_the_issue_names_are_in_the_table() -> None:
    assert [f.name for f in REPLY_FORMATS] == ["wav", "flac", "ogg", "opus", "mp3"]


@pytest.mark.parametrize("kind", WRITABLE, ids=lambda f: f.name)
def test_each_writable_format_by_suffix_reads_back(tmp_path: Path, kind: object) -> None:
    fmt = next(f for f in WRITABLE if f is kind)
    dest = tmp_path / f"reply{fmt.suffixes[0]}"
    write_reply(str(dest), b"\x00\x10\x00\xf0" * 12000, 24000)
    info = sf.info(str(dest))
    assert info.samplerate == 24000
    assert info.format == fmt.container
    assert info.frames > 20000  # lossy codecs may pad or trim a little
    assert sorted(p.name for p in tmp_path.iterdir()) == [dest.name]


def test_format_flag_overrides_the_suffix(tmp_path: Path) -> None:
    dest = tmp_path / "reply.audio"
    write_reply(str(dest), b"\x00\x10" * 24000, 24000, kind="flac")
    assert sf.info(str(dest)).format == "FLAC"


def test_unknown_format_or_suffix_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown output format"):
        reply_format("reply.xyz")
    with pytest.raises(UsageError, match="--format aiff: unknown output format"):
        reply_format("reply.wav", "aiff")


def test_a_format_the_library_cannot_write_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import soundfile

    monkeypatch.setattr(soundfile, "check_format", lambda container, subtype=None, endian=None: subtype != "OPUS")
    with pytest.raises(UsageError, match="installed libsndfile cannot write it"):
        reply_format("reply.opus")


def test_a_directory_takes_the_formats_suffix(tmp_path: Path) -> None:
    plan = plan_output(str(tmp_path) + "/", ["a.wav", "b.wav"], json=False, kind="flac")
    assert plan.destinations == (str(tmp_path / "a.flac"), str(tmp_path / "b.flac"))


@pytest.mark.parametrize("args", [["-o", "reply.xyz"], ["-o", "reply.wav", "--format", "aiff"]])
def test_unknown_format_exits_2_before_connecting(tmp_path: Path, args: list[str]) -> None:
    result = run_cli(
        "send", HELLO_WAV, "--endpoint", _dead_endpoint(), *args, expect=2, env={"GEMINI_API_KEY": API_KEY}
    )
    assert "unknown output format" in result.stderr
    assert "connecting" not in result.stderr
    assert API_KEY not in result.stderr


@pytest.mark.skipif(not any(f.name == "ogg" for f in WRITABLE), reason="libsndfile without Vorbis")
def test_send_writes_an_ogg_reply_end_to_end(tmp_path: Path, live_server: LocalServer) -> None:
    out = tmp_path / "reply.ogg"
    run_cli("send", HELLO_WAV, "--endpoint", live_server.endpoint(), "--speed", "0", "-o", str(out))
    info = sf.info(str(out))
    assert info.format == "OGG"
    assert info.subtype == "VORBIS"
    assert info.duration > 0.5
