"""`livecli talk` through the real PortAudio path with no sound card: PortAudio → ALSA → PulseAudio null sinks.

A private PulseAudio server (its own socket in the test's directory) has two null sinks, paced by its own clock:
`livecli_mic_in`, whose monitor is the microphone (the test plays speech into it with paplay), and `livecli_out`,
the speaker (parecord records its monitor to a WAV file). An ALSA configuration in the test's $HOME names them as
PCMs of type pulse, which is how PortAudio (ALSA host API) sees them. `livecli talk --local` holds a real
conversation for a few seconds and the echo reply must come out of the speaker. The system packages come from
.ci/audio-packages.sh (CI runs it); without them the test is skipped, except under CI, where it fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from helpers import SAMPLES, cli_command, dev_only, subprocess_env

ASOUNDRC = """
pcm.livecli_mic {
    type pulse
    device "livecli_mic_in.monitor"
    hint.description "livecli test microphone"
}
pcm.livecli_speaker {
    type pulse
    device "livecli_out"
    hint.description "livecli test speaker"
}
pcm.!default {
    type pulse
    device "livecli_out"
}
"""
TOOLS = ("pulseaudio", "paplay", "parecord")


def _require_system_audio() -> None:
    dev_only("sounddevice")
    absent = [tool for tool in TOOLS if shutil.which(tool) is None]
    if absent and os.environ.get("CI"):
        pytest.fail(f"{', '.join(absent)} missing: .ci/audio-packages.sh installs them")
    if absent:
        pytest.skip(f"{', '.join(absent)} not installed (run .ci/audio-packages.sh)")


@pytest.fixture
def pulse(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A private PulseAudio server with the two null sinks; yields the environment that reaches it."""
    _require_system_audio()
    socket = tmp_path / "pulse.sock"
    env = subprocess_env(
        {"HOME": str(tmp_path), "XDG_RUNTIME_DIR": str(tmp_path), "PULSE_SERVER": f"unix:{socket}"}
    )
    (tmp_path / ".asoundrc").write_text(ASOUNDRC)
    server = subprocess.Popen(
        [
            "pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--disable-shm=yes", "--use-pid-file=no",
            "-L", f"module-native-protocol-unix socket={socket} auth-anonymous=1",
            "-L", "module-null-sink sink_name=livecli_mic_in rate=48000 channels=1",
            "-L", "module-null-sink sink_name=livecli_out rate=24000 channels=1",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(200):
            if subprocess.run(["pactl", "info"], env=env, capture_output=True).returncode == 0:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the private PulseAudio server did not start")
        # the default device (PortAudio's "default" and "pulse") is the speaker, never the microphone's sink
        subprocess.run(["pactl", "set-default-sink", "livecli_out"], env=env, check=True)
        yield env
    finally:
        server.terminate()
        server.wait(10)


def _audible(wav: Path) -> bool:
    """Whether the recorded speaker (parecord's s16le WAV, header skipped) holds a sample above -40 dBFS."""
    data = wav.read_bytes()[44:] if wav.exists() else b""
    samples = np.frombuffer(data[: len(data) // 2 * 2], "<i2")
    return bool(samples.size) and int(np.abs(samples.astype(np.int32)).max()) > 328


def _wait_until_audible(wav: Path, seconds: float = 20.0) -> bool:
    """Whether `wav` holds sound within `seconds` (a generous guard: the reply is a ~2 s echo after a chime)."""
    for _ in range(int(seconds / 0.05)):
        if _audible(wav):
            return True
        time.sleep(0.05)
    return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(10)


def _record_speaker(pulse: dict[str, str], wav: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(["parecord", "--device=livecli_out.monitor", "--file-format=wav", str(wav)], env=pulse)


@pytest.mark.parametrize(
    "args", [["send", str(SAMPLES / "hello_16k.wav")], ["text", "hello there"]], ids=["send", "text"]
)
def test_play_sends_the_reply_to_the_speaker_as_it_arrives(
    pulse: dict[str, str], tmp_path: Path, args: list[str]
) -> None:
    """send/text --play through the default output device (here the ALSA default, the null sink)."""
    speaker = tmp_path / "speaker.wav"
    recorder = _record_speaker(pulse, speaker)
    try:
        done = subprocess.run(
            cli_command(*args, "--local", "--play", "--speed", "4"), env=pulse, capture_output=True, timeout=60
        )
        _wait_until_audible(speaker)  # parecord writes what it records in blocks
    finally:
        _stop(recorder)
    assert done.returncode == 0, done.stderr.decode()
    assert _audible(speaker), done.stderr.decode()


def test_talk_holds_a_real_conversation_through_portaudio(pulse: dict[str, str], tmp_path: Path) -> None:
    speaker = tmp_path / "speaker.wav"
    recorder = _record_speaker(pulse, speaker)
    record = tmp_path / "rec"
    args = ["talk", "--local", "--input-device", "livecli_mic", "--output-device", "livecli_speaker"]
    args += ["--record", str(record)]
    talk = subprocess.Popen(
        cli_command(*args, "--vad-silence-ms", "300", "--headphones"),
        env=pulse,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert talk.stderr is not None
        ready = talk.stderr.readline().decode()  # the line mode's first line: the talk is listening
        assert "listening" in ready, ready + talk.stderr.read().decode() if talk.poll() is not None else ready
        # "listening" is printed as the microphone's stream starts: on a loaded machine its first blocks may come
        # later than that, so the user says hello again (up to 4 times) until the reply is heard.
        hello = ["paplay", "--device=livecli_mic_in", str(SAMPLES / "hello.flac")]
        for _ in range(4):
            subprocess.run(hello, env=pulse, check=True)
            if _wait_until_audible(speaker, seconds=8.0):
                break
        talk.send_signal(signal.SIGINT)  # the user ends the conversation
        _out, err = talk.communicate(timeout=20)
    finally:
        _stop(talk)
        _stop(recorder)
    stderr = ready + err.decode()
    assert _audible(speaker), stderr
    assert talk.returncode == 0, stderr
    assert "you: [" in stderr
    assert "Traceback" not in stderr
    # Ctrl-C closed the socket cleanly (1000) and the recording holds the user's end as status 0
    events = [json.loads(line) for line in (record / "frames.jsonl").read_text().splitlines()]
    closes = [event for event in events if event["kind"] == "close"]
    assert closes[-1]["from"] == "client"
    assert closes[-1]["code"] == 1000
    assert json.loads((record / "recording.json").read_text())["outcome"]["exit_status"] == 0
