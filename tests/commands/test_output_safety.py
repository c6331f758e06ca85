"""Outputs that cannot lose anything: an output that is an input is refused, a long legal name works, an
unwritable output fails before connecting, and every write error is one OutputError with its errno."""

from __future__ import annotations

import errno
import os
import shutil
import socket
import sys
from pathlib import Path

import pytest
import soundfile as sf
from helpers import LocalServer, run_cli

from livecli.audio import encode
from livecli.audio.encode import prove_writable, temp_path, write_reply
from livecli.errors import OutputError
from tests.commands.send_helpers import HELLO_WAV


def _refused_endpoint() -> str:
    """A loopback URL nothing listens on: a run that connects exits 4 there, one refused before exits 2."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"ws://127.0.0.1:{s.getsockname()[1]}"


def _refused(*args: str) -> str:
    """Run `send` against a dead endpoint; assert exit 2 (refused before connecting); return the one line."""
    result = run_cli("send", *args, "--endpoint", _refused_endpoint(), "--speed", "0", expect=2)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "connecting" not in result.stderr
    return lines[0]


# --- L1: an output that is an input ---------------------------------------------------------------------------


def test_output_that_is_the_input_is_refused_before_connecting(tmp_path: Path) -> None:
    """`send in.wav -o in.wav` used to replace the input with the reply and exit 0."""
    source = tmp_path / "in.wav"
    shutil.copy(HELLO_WAV, source)
    before = source.read_bytes()
    line = _refused(str(source), "-o", str(source))
    assert "is the input" in line
    assert source.read_bytes() == before


def test_a_directory_holding_the_inputs_is_refused(tmp_path: Path) -> None:
    """`send d/a.wav d/b.wav -o d/` would write d/a.wav and d/b.wav: both inputs."""
    folder = tmp_path / "d"
    folder.mkdir()
    inputs = [folder / "a.wav", folder / "b.wav"]
    for source in inputs:
        shutil.copy(HELLO_WAV, source)
    before = [p.read_bytes() for p in inputs]
    line = _refused(*map(str, inputs), "-o", f"{folder}/")
    assert f"is the input {inputs[0]}" in line
    assert [p.read_bytes() for p in inputs] == before


@pytest.mark.parametrize("link", ["symbolic", "hard", "directory"])
def test_an_input_reached_through_a_link_is_refused(tmp_path: Path, link: str) -> None:
    """A symbolic or hard link to the output, or a linked directory, is the same file."""
    source = tmp_path / "in.wav"
    shutil.copy(HELLO_WAV, source)
    if link == "symbolic":
        (tmp_path / "link.wav").symlink_to(source)
        given, output = tmp_path / "link.wav", source
    elif link == "hard":
        os.link(source, tmp_path / "link.wav")
        given, output = source, tmp_path / "link.wav"
    else:
        (tmp_path / "alias").symlink_to(tmp_path)
        given, output = source, tmp_path / "alias" / "in.wav"
    assert "is the input" in _refused(str(given), "-o", str(output))


# --- L2: long names and unwritable outputs ---------------------------------------------------------------------


def test_temporary_names_fit_wherever_the_name_fits(tmp_path: Path) -> None:
    """A temporary name always fits NAME_MAX; near the limit it is no longer than the name itself; a short name
    stays whole in it (a leftover says whose it was)."""
    assert os.path.basename(temp_path(str(tmp_path / "reply.wav"))).startswith(".reply.wav.")
    for length in (200, 240, 244, 255):
        name = "r" * (length - 4) + ".wav"
        temp = os.path.basename(temp_path(str(tmp_path / name)))
        assert len(os.fsencode(temp)) <= 255
        if length > 255 - 15:  # the whole name and its 15-character tag would not fit
            assert len(temp) <= length
    multibyte = "é" * 125 + ".wav"  # 254 bytes
    assert len(os.fsencode(os.path.basename(temp_path(str(tmp_path / multibyte))))) <= 254


def test_a_244_character_output_name_gets_the_reply(live_server: LocalServer, tmp_path: Path) -> None:
    """A legal name of 244 characters failed after the whole session ("File name too long"): the reply was lost."""
    output = tmp_path / ("r" * 240 + ".wav")
    run_cli("send", HELLO_WAV, "--endpoint", live_server.endpoint(), "--speed", "0", "-q", "-o", str(output))
    info = sf.info(str(output))
    assert info.samplerate == 24000
    assert info.frames > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [output.name]  # no temporary file left


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc is Linux's")
def test_an_unwritable_directory_fails_before_connecting() -> None:
    """/proc/self/ takes no new files, even for root: exit 2 before the session, not the reply lost after it."""
    assert "cannot write" in _refused(HELLO_WAV, "-o", "/proc/self/")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes into read-only directories")
def test_a_read_only_directory_fails_before_connecting(tmp_path: Path) -> None:
    """A directory without write permission is found out before connecting."""
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        assert "Permission denied" in _refused(HELLO_WAV, "-o", f"{folder}/")
    finally:
        folder.chmod(0o700)


def test_prove_writable_leaves_nothing_behind(tmp_path: Path) -> None:
    """Proving an output writable creates its temporary file and removes it again."""
    prove_writable(str(tmp_path / "reply.wav"))
    assert list(tmp_path.iterdir()) == []


# --- L4: every write error is an OutputError with its errno ----------------------------------------------------


def test_a_full_disk_is_an_output_error_with_its_errno(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ENOSPC from the write itself is OutputError (its OSError kept as the cause) and leaves no file behind."""

    def full(fd: int, data: bytes) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", full)
    dest = tmp_path / "reply.wav"
    with pytest.raises(OutputError, match="No space left on device") as info:
        write_reply(str(dest), b"\x01\x00" * 2400, 24000)
    assert isinstance(info.value.__cause__, OSError)
    assert info.value.__cause__.errno == errno.ENOSPC
    assert list(tmp_path.iterdir()) == []


def test_short_writes_are_continued_not_mistaken_for_the_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write that takes only some bytes is continued until all are written."""
    real_write = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: real_write(fd, bytes(data[:7])))
    pcm = bytes(range(256)) * 40
    dest = tmp_path / "reply.wav"
    write_reply(str(dest), pcm, 24000)
    monkeypatch.undo()
    assert dest.read_bytes() == encode.encode_reply(pcm, 24000)
