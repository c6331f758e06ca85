"""`send --record DIR` / `text --record DIR` (docs/recording.md): every frame both ways, the audio as WAV sidecars
at the offsets the frames name, the target and setup without secrets, the outcome, connections marked."""

from __future__ import annotations

import json
import wave
from pathlib import Path
from typing import Any

import pytest
from helpers import local_server, recorded_frames, run_cli

from livecli.audio.recording import read_recording
from tests.commands.send_helpers import HELLO_WAV, at, make_env, run, tone

KEY = "SECRET-record-key-0123456789"


def lines(directory: Path) -> list[dict[str, Any]]:
    return recorded_frames(directory)


def meta(directory: Path) -> dict[str, Any]:
    return json.loads((directory / "recording.json").read_text())  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`send hello_16k.wav --record DIR` against a server that requires a key."""
    directory = tmp_path_factory.mktemp("rec") / "session"
    with local_server(require_key=KEY) as server:
        run_cli(
            "send",
            HELLO_WAV,
            "--endpoint",
            server.url,
            "--api-key",
            KEY,
            "--no-pace",
            "--record",
            str(directory),
            "-o",
            str(directory.parent / "reply.wav"),
        )
    return directory


def test_the_directory_holds_the_format_s_files(recorded: Path) -> None:
    names = sorted(path.name for path in recorded.iterdir())
    assert names == ["frames.jsonl", "input.wav", "recording.json", "reply.wav"]


def test_recording_json_has_version_side_target_setup_and_outcome(recorded: Path) -> None:
    info = meta(recorded)
    assert info["format"] == "livecli-recording"
    assert info["version"] == 1
    assert info["side"] == "client"
    assert info["command"] == "send"
    assert info["target"]["headers"]["x-goog-api-key"] == "***"
    assert info["setup"]["model"].startswith("models/")
    assert info["outcome"] == {"exit_status": 0, "error": None, "error_type": None}
    assert info["connections"] == 1


def test_every_frame_both_ways_with_time_direction_and_kind(recorded: Path) -> None:
    seen = lines(recorded)
    kinds = [(line["from"], line["kind"]) for line in seen]
    assert kinds[0] == ("client", "open")
    assert kinds[1] == ("client", "setup.model")
    assert ("server", "setupComplete") in kinds
    assert ("client", "realtimeInput.activityEnd") in kinds
    assert ("server", "serverContent.turnComplete") in kinds
    assert kinds[-1] == ("client", "close")
    times = [line["t"] for line in seen]
    assert times == sorted(times)


def test_the_key_appears_in_no_recorded_file(recorded: Path) -> None:
    for path in recorded.rglob("*"):
        assert KEY.encode() not in path.read_bytes(), path.name


def test_input_audio_is_the_sidecar_and_each_frame_names_its_bytes(recorded: Path) -> None:
    audio = [line for line in lines(recorded) if line["kind"] == "realtimeInput.audio"]
    refs = [line["message"]["realtimeInput"]["audio"]["data"] for line in audio]
    assert {ref["sidecar"] for ref in refs} == {"input.wav"}
    offsets = [ref["offset"] for ref in refs]
    assert offsets == [sum(ref["bytes"] for ref in refs[:i]) for i in range(len(refs))]  # contiguous, in order
    with wave.open(str(recorded / "input.wav")) as sent, wave.open(HELLO_WAV) as original:
        assert sent.getframerate() == 16000
        assert sent.readframes(sent.getnframes()) == original.readframes(original.getnframes())


def test_reply_audio_is_the_reply_sidecar_at_24khz(recorded: Path) -> None:
    refs = [
        part["inlineData"]["data"]
        for line in lines(recorded)
        if line["kind"] == "serverContent.modelTurn"
        for part in line["message"]["serverContent"]["modelTurn"]["parts"]
        if "inlineData" in part
    ]
    with wave.open(str(recorded / "reply.wav")) as reply:
        assert reply.getframerate() == 24000
        assert reply.getnframes() * 2 == sum(ref["bytes"] for ref in refs)


def test_a_frame_read_back_is_the_frame_sent(recorded: Path) -> None:
    recording = read_recording(str(recorded))
    first_audio = next(line for line in recording.frames("client") if line["kind"] == "realtimeInput.audio")
    message = json.loads(recording.frame_text(first_audio))
    assert message["realtimeInput"]["audio"]["mimeType"] == "audio/pcm;rate=16000"
    assert len(message["realtimeInput"]["audio"]["data"]) > 100  # base64 again


def test_text_records_a_failure_s_outcome(tmp_path: Path) -> None:
    """A server close is the outcome's exit status and error (the class, the message)."""
    directory = tmp_path / "failed"
    with local_server() as server:
        run_cli(
            "text",
            "hi",
            "--endpoint",
            server.endpoint("close-1011"),
            "--max-reconnects",
            "0",
            "--record",
            str(directory),
            expect=4,
        )
    outcome = meta(directory)["outcome"]
    assert outcome["exit_status"] == 4
    assert outcome["error_type"] == "ServerClosed"
    assert "1011" in outcome["error"]
    assert [line["kind"] for line in lines(directory) if line["from"] == "server"][-1] == "close"


def test_reconnects_are_one_recording_with_connections_numbered(tmp_path: Path) -> None:
    """A goAway ends the first connection: both connections are in the one recording, each opened and closed."""
    files = [tone(tmp_path / "a.wav", 2.8), tone(tmp_path / "b.wav", 0.4)]
    directory = tmp_path / "two"
    with local_server(max_connection_audio_s=3.5) as server:  # goAway at 1.75 s of audio, in a.wav
        env, _, _ = make_env()
        assert run(at(server.url, inputs=files, speed=0.0, record=str(directory)), env) == 0
    seen = lines(directory)
    assert [line["conn"] for line in seen if line["kind"] == "open"] == [1, 2]
    assert {line["conn"] for line in seen if line["kind"] == "serverContent.turnComplete"} == {1, 2}
    assert [line["kind"] for line in seen if line["conn"] == 1][-1] == "close"
    assert meta(directory)["connections"] == 2
    second_setup = next(line for line in seen if line["conn"] == 2 and line["kind"].startswith("setup"))
    assert second_setup["message"]["setup"]["sessionResumption"]["handle"]


def test_a_directory_holding_other_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    result = run_cli("text", "hi", "--local", "--record", str(tmp_path), expect=2)
    assert "not empty" in result.stderr
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_a_previous_recording_is_replaced(tmp_path: Path) -> None:
    directory = tmp_path / "again"
    for _ in range(2):
        run_cli("text", "hi", "--local", "--no-pace", "--record", str(directory))
    assert [line["kind"] for line in lines(directory)].count("open") == 1


def test_a_key_in_the_url_is_masked_in_the_recording(tmp_path: Path) -> None:
    directory = tmp_path / "query"
    with local_server(require_key=KEY) as server:
        run_cli(
            "text", "hi", "--endpoint", server.url, "--api-key", KEY, "--key-in-query", "--record", str(directory)
        )
    opened = next(line for line in lines(directory) if line["kind"] == "open")
    assert "key=***" in opened["url"]
    assert "key=***" in meta(directory)["target"]["url"]
    for path in directory.rglob("*"):
        assert KEY.encode() not in path.read_bytes(), path.name


def test_a_recording_that_cannot_be_written_stops_without_stopping_the_run(tmp_path: Path) -> None:
    """A full disk: the recorder keeps the first error, records nothing more, and never raises into the link."""
    from livecli.client.record import ClientRecorder
    from livecli.protocol.endpoints import Target

    target = Target("ws://127.0.0.1:1/x", {}, "models/m", "local", (), use_env_proxy=False)
    recorder = ClientRecorder.start(str(tmp_path / "full"), target=target, command="send")

    def full(*args: object, **fields: object) -> None:
        raise OSError(28, "No space left on device")

    recorder.writer.frame = full  # type: ignore[method-assign]
    recorder.connected("ws://127.0.0.1:1/x")
    recorder.sent(['{"setup": {}}'])
    recorder.received(b'{"setupComplete": {}}')
    recorder.finish(0, None)
    assert isinstance(recorder.failure, OSError)
    assert recorder.failure.errno == 28


def test_an_ephemeral_token_appears_in_no_recorded_file(tmp_path: Path) -> None:
    """The token rides in the URL (?access_token=): masked there, and absent from every file, also URL-encoded."""
    token = "auth_tokens/SECRET-ephemeral-0123456789"
    directory = tmp_path / "token"
    with local_server(require_ephemeral=token) as server:
        run_cli("text", "hi", "--endpoint", server.url, "--token", token, "--record", str(directory))
    assert "access_token=***" in meta(directory)["target"]["url"]
    for path in directory.rglob("*"):
        data = path.read_bytes()
        assert token.encode() not in data, path.name
        assert b"SECRET-ephemeral-0123456789" not in data, path.name
