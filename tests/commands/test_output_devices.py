"""An output that exists and is not a regular file (a FIFO, a device) is written in place, never replaced by a
temporary file renamed over it: the FIFO stays a FIFO and its reader gets the reply; a write error is one line,
exit 2; a device has no suffix, so its format is --format's or WAV (commands/output, audio/encode)."""

from __future__ import annotations

import errno
import os
import stat
import threading
from pathlib import Path

import pytest
from helpers import SAMPLES, LocalServer, Result, run_cli

from livecli.audio.encode import is_stream_target, reply_format, write_reply
from livecli.commands.output import check_destinations, plan_output
from livecli.commands.reply_spill import spill_directory
from livecli.errors import OutputError
from tests.commands.send_helpers import make_env

HELLO_WAV = str(SAMPLES / "hello_16k.wav")


class FifoReader:
    """Reads everything written to a FIFO in a thread (opening it for writing waits for a reader)."""

    def __init__(self, path: Path) -> None:
        self.data = b""
        self._thread = threading.Thread(target=self._read, args=(path,), daemon=True)
        self._thread.start()

    def _read(self, path: Path) -> None:
        with open(path, "rb") as handle:
            self.data = handle.read()

    def wait(self) -> bytes:
        self._thread.join(10)
        return self.data


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "p"
    os.mkfifo(path)
    return path


def _send(server: LocalServer, output: Path, *args: str, expect: int = 0) -> Result:
    return run_cli(
        "send", HELLO_WAV, "--endpoint", server.endpoint(), "--speed", "0", "-o", str(output), *args, expect=expect
    )


def test_a_fifo_gets_the_reply_and_stays_a_fifo(live_server: LocalServer, fifo: Path) -> None:
    reader = FifoReader(fifo)
    result = _send(live_server, fifo, "--format", "wav")
    assert reader.wait().startswith(b"RIFF")
    assert len(reader.data) > 1000
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert f"reply written to {fifo}" in result.stderr
    assert [p.name for p in fifo.parent.iterdir()] == ["p"]  # no temporary file left beside it


def test_a_fifo_is_streamed_into_as_the_reply_arrives(live_server: LocalServer, fifo: Path) -> None:
    """As `-o -` streams to stdout: a WAV header with unknown lengths, then each chunk; `--format raw` too."""
    reader = FifoReader(fifo)
    result = _send(live_server, fifo)
    assert reader.wait()[4:8] == b"\xff\xff\xff\xff"
    assert f"streaming the reply to {fifo} (WAV, 24000 Hz)" in result.stderr
    reader = FifoReader(fifo)
    raw = _send(live_server, fifo, "--format", "raw")
    assert not reader.wait().startswith(b"RIFF")
    assert len(reader.data) % 2 == 0
    assert f"reply written to {fifo}" in raw.stderr


def test_a_fifo_without_format_gets_wav(live_server: LocalServer, fifo: Path) -> None:
    reader = FifoReader(fifo)
    _send(live_server, fifo)
    assert reader.wait().startswith(b"RIFF")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_a_fifo_takes_another_format(live_server: LocalServer, fifo: Path) -> None:
    reader = FifoReader(fifo)
    _send(live_server, fifo, "--format", "flac")
    assert reader.wait().startswith(b"fLaC")


def _full_fifos(monkeypatch: pytest.MonkeyPatch) -> None:
    """A full device, simulated: a write to a FIFO fails with ENOSPC (other writes go through)."""
    real_write = os.write

    def write(fd: int, data: bytes) -> int:
        if stat.S_ISFIFO(os.fstat(fd).st_mode):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write)


def test_a_full_device_is_one_line_exit_2(
    live_server: LocalServer, fifo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reader = FifoReader(fifo)
    _full_fifos(monkeypatch)
    result = _send(live_server, fifo, expect=2)
    reader.wait()
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert errors == [f"livecli: error: {fifo}: cannot write: No space left on device"]
    assert "reply written" not in result.stderr
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_write_reply_into_a_full_fifo_is_an_output_error(fifo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reader = FifoReader(fifo)
    _full_fifos(monkeypatch)
    with pytest.raises(OutputError) as info:
        write_reply(str(fifo), b"\x00\x01" * 100, 24000)
    reader.wait()
    assert isinstance(info.value.__cause__, OSError)
    assert info.value.__cause__.errno == errno.ENOSPC
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_dev_null_is_a_device_written_as_wav_by_default() -> None:
    """Planned only: nothing here writes to the real /dev/null."""
    assert is_stream_target(os.devnull)
    assert plan_output(os.devnull, ["in.wav"], json=False).stream_path == os.devnull
    assert reply_format(os.devnull).name == "wav"
    assert reply_format(os.devnull, "flac").name == "flac"


def test_a_device_is_proved_writable_without_a_temporary_file(fifo: Path) -> None:
    plan = plan_output(str(fifo), ["in.wav"], json=False)
    check_destinations(plan, ["in.wav"], make_env()[0], json=False)
    assert [p.name for p in fifo.parent.iterdir()] == ["p"]


def test_the_spill_file_never_goes_beside_a_device(fifo: Path, tmp_path: Path) -> None:
    assert spill_directory((os.devnull,)) is None
    assert spill_directory((str(fifo), str(tmp_path / "out" / "r.wav"))) == str(tmp_path / "out")
