"""Where replies go: -o FILE by suffix, -o -, -o DIR/ per input, and the usage errors (before connecting)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from livecli.commands.output import check_stdout_audio, plan_output, write_text
from livecli.errors import UsageError


def test_no_output_prints_the_transcript_unless_json() -> None:
    """Without -o nothing is saved; the transcript goes to stdout except under --json."""
    assert plan_output(None, ["a.wav"], json=False).transcript_to_stdout
    plan = plan_output(None, ["a.wav", "b.wav"], json=True)
    assert not plan.transcript_to_stdout
    assert plan.destinations == (None, None)


def test_single_file_by_suffix(tmp_path: Path) -> None:
    """.wav and .flac are accepted (any case); other suffixes and missing folders are usage errors."""
    for name in ("r.wav", "r.FLAC"):
        assert plan_output(str(tmp_path / name), ["a.wav"], json=False).destination(0) == str(tmp_path / name)
    with pytest.raises(UsageError, match="unknown output format"):
        plan_output(str(tmp_path / "r.xyz"), ["a.wav"], json=False)
    with pytest.raises(UsageError, match="does not exist"):
        plan_output(str(tmp_path / "nowhere" / "r.wav"), ["a.wav"], json=False)
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(UsageError, match="file is not a directory"):
        plan_output(str(tmp_path / "file" / "r.wav"), ["a.wav"], json=False)


def test_stdout_audio_rules() -> None:
    """-o - is WAV on stdout: refused with --json, several inputs, or stdout on a terminal."""
    assert plan_output("-", ["a.wav"], json=False).to_stdout_audio
    with pytest.raises(UsageError, match="--json"):
        plan_output("-", ["a.wav"], json=True)
    with pytest.raises(UsageError, match="one input"):
        plan_output("-", ["a.wav", "b.wav"], json=False)
    with pytest.raises(UsageError, match="terminal"):
        check_stdout_audio("-", stdout_isatty=True)
    check_stdout_audio("-", stdout_isatty=False)
    check_stdout_audio("reply.wav", stdout_isatty=True)


def test_directory_gets_one_wav_per_input_stem(tmp_path: Path) -> None:
    """-o DIR/ is created and gets <stem>.wav per input; equal stems stay distinct; stdin is 'stdin'."""
    plan = plan_output(str(tmp_path / "out") + "/", ["x/a.flac", "y/a.wav", "-"], json=False)
    assert (tmp_path / "out").is_dir()
    assert [Path(d or "").name for d in plan.destinations] == ["a.wav", "a-2.wav", "stdin.wav"]
    existing = plan_output(str(tmp_path), ["b.ogg"], json=False)  # an existing directory without the slash
    assert existing.destination(0) == str(tmp_path / "b.wav")


def test_several_inputs_need_a_directory(tmp_path: Path) -> None:
    """A single file name for several inputs is a usage error."""
    with pytest.raises(UsageError, match="DIR/"):
        plan_output(str(tmp_path / "r.wav"), ["a.wav", "b.wav"], json=False)


def test_write_text_is_one_flushed_line() -> None:
    """Transcripts end with exactly one newline."""
    out = io.BytesIO()
    write_text(out, "héllo\n")
    assert out.getvalue() == "héllo\n".encode()


def test_write_text_survives_a_lone_surrogate() -> None:
    """A lone surrogate from a server's `\\ud800` is written as visible text, and the line stays valid UTF-8."""
    out = io.BytesIO()
    write_text(out, "a\ud800b")
    assert out.getvalue().decode("utf-8") == "a\\ud800b\n"
