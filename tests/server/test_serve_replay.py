"""`serve --replay DIR`: the recording's server side answers whatever client connects, turns matched by order: the
unmodified google-genai SDK, livecli itself (send, replay), a recorded close, a resumed session."""

from __future__ import annotations

import json
import shutil
import ssl
import wave
from pathlib import Path
from typing import Any

import pytest
from helpers import SAMPLES, dev_only, local_server, recorded_frames, run_cli

from tests.commands.send_helpers import at, make_env, run, tone

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "recordings"
TEXT_TURN = FIXTURES / "text-turn"
AUDIO_TURN = FIXTURES / "audio-turn"


def _recorded_transcript(directory: Path) -> str:
    lines = recorded_frames(directory)
    return "".join(
        line["message"]["serverContent"]["outputTranscription"]["text"]
        for line in lines
        if line.get("kind") == "serverContent.outputTranscription"
    )


def _reply_pcm(directory: Path) -> bytes:
    with wave.open(str(directory / "reply.wav")) as reply:
        return reply.readframes(reply.getnframes())


async def test_the_google_genai_sdk_is_answered_with_the_recorded_turn(tls_dir: Path) -> None:
    """A text turn recorded by livecli, served back over wss: the SDK hears the recorded audio and transcript."""
    genai = dev_only("google.genai")
    types = dev_only("google.genai.types")
    with local_server(
        replay=str(TEXT_TURN), tls_cert=str(tls_dir / "cert.pem"), tls_key=str(tls_dir / "key.pem")
    ) as server:
        context = ssl.create_default_context(cafile=str(tls_dir / "cert.pem"))
        options = types.HttpOptions(
            base_url=server.url.replace("wss://", "https://"),
            api_version="v1beta",
            async_client_args={"ssl": context},
        )
        client = genai.Client(api_key="any-key-at-all", http_options=options)
        config = types.LiveConnectConfig(
            response_modalities=[types.Modality.AUDIO], output_audio_transcription=types.AudioTranscriptionConfig()
        )
        audio, outputs, complete = b"", [], False
        async with client.aio.live.connect(model="gemini-3.8-live", config=config) as session:
            await session.send_realtime_input(text="whatever the client says")
            async for message in session.receive():
                audio += message.data or b""
                content: Any = message.server_content
                if content and content.output_transcription and content.output_transcription.text:
                    outputs.append(content.output_transcription.text)
                if content and content.turn_complete:
                    complete = True
                    break
    assert complete
    assert "".join(outputs) == _recorded_transcript(TEXT_TURN)
    assert audio == _reply_pcm(TEXT_TURN)


def test_livecli_replay_against_serve_replay_matches() -> None:
    """The recording replayed against its own server side: no difference."""
    with local_server(replay=str(AUDIO_TURN)) as server:
        result = run_cli("replay", str(AUDIO_TURN), "--endpoint", server.url, "--speed", "0", "--json")
    (report,) = result.json_lines
    assert report["matches"] is True
    assert len(report["replayed"]["turns"]) == 1


def test_send_gets_the_recorded_reply_whatever_it_sends(tmp_path: Path) -> None:
    """Turns are matched by order, not content: another file still gets the recorded reply."""
    reply = tmp_path / "reply.wav"
    with local_server(replay=str(AUDIO_TURN)) as server:
        result = run_cli(
            "send", str(SAMPLES / "pause.wav"), "--endpoint", server.url, "--no-pace", "-o", str(reply), "--json"
        )
    (turn,) = result.of_type("turn_complete")
    assert turn["output_transcript"] == _recorded_transcript(AUDIO_TURN)
    with wave.open(str(reply)) as written:
        assert written.readframes(written.getnframes()) == _reply_pcm(AUDIO_TURN)


def test_a_recorded_close_is_served_again(tmp_path: Path) -> None:
    directory = tmp_path / "closed"
    with local_server() as server:
        run_cli(
            "text", "hi", "--endpoint", server.endpoint("close-1011"), "--max-reconnects", "0",
            "--record", str(directory), expect=4,
        )  # fmt: skip
    with local_server(replay=str(directory)) as server:
        result = run_cli("text", "hi", "--endpoint", server.url, "--max-reconnects", "0", expect=4)
    assert "1011" in result.stderr


def test_a_resumed_session_goes_on_where_the_recording_did(tmp_path: Path) -> None:
    """Two connections recorded (a goAway between the inputs): the client resumes with the recorded handle and the
    second connection's reply is served on it."""
    files = [tone(tmp_path / "a.wav", 2.8), tone(tmp_path / "b.wav", 0.4)]
    directory = tmp_path / "two"
    with local_server(max_connection_audio_s=3.5) as server:  # goAway at 1.75 s of audio, in a.wav
        env, _, _ = make_env()
        assert run(at(server.url, inputs=files, speed=0.0, record=str(directory)), env) == 0
    with local_server(replay=str(directory)) as server:
        result = run_cli("replay", str(directory), "--endpoint", server.url, "--speed", "0", "--json")
    (report,) = result.json_lines
    assert report["matches"] is True
    assert [t["output_transcript"][:6] for t in report["replayed"]["turns"]] == ["turn 1", "turn 2"]


def test_a_directory_that_is_not_a_recording_stops_serve_with_one_line(tmp_path: Path) -> None:
    result = run_cli("serve", "--port", "0", "--replay", str(tmp_path), expect=2)
    assert "not a livecli recording" in result.stderr
    assert result.stderr.strip().count("\n") == 0


@pytest.mark.parametrize("fixture", [TEXT_TURN, AUDIO_TURN], ids=lambda p: p.name)
def test_serve_record_while_replaying_writes_the_same_format(fixture: Path, tmp_path: Path) -> None:
    """serve --record beside --replay: the server's view of the replayed session, readable by replay."""
    copy = tmp_path / "copy"
    shutil.copytree(fixture, tmp_path / "fixture")
    with local_server(replay=str(tmp_path / "fixture"), record=str(copy)) as server:
        run_cli("replay", str(fixture), "--endpoint", server.url, "--speed", "0")
    meta = json.loads((copy / "recording.json").read_text())
    assert meta["side"] == "server"
    assert _recorded_transcript(copy) == _recorded_transcript(fixture)


def test_a_server_recording_of_several_clients_serves_them_in_turn(tmp_path: Path) -> None:
    """serve --record of two clients: the k-th fresh client gets the k-th recorded session, round and round."""
    directory = tmp_path / "two-clients"
    with local_server(record=str(directory)) as server:
        for prompt in ("first client", "second client"):
            run_cli("text", prompt, "--endpoint", server.url, "--no-pace")
    heard = []
    with local_server(replay=str(directory)) as server:
        for _ in range(3):
            result = run_cli("text", "anything", "--endpoint", server.url, "--no-pace", "--json")
            heard.append(result.of_type("turn_complete")[0]["output_transcript"])
    assert heard == [
        'turn 1: heard "first client"',
        'turn 1: heard "second client"',
        'turn 1: heard "first client"',
    ]


def test_record_into_the_recording_being_served_is_refused(tmp_path: Path) -> None:
    served = tmp_path / "served"
    shutil.copytree(TEXT_TURN, served)
    result = run_cli("serve", "--port", "0", "--replay", str(served), "--record", f"{served}/", expect=2)
    assert "would replace the recording" in result.stderr
    assert (served / "frames.jsonl").read_text() == (TEXT_TURN / "frames.jsonl").read_text()


def test_a_recording_that_fails_beside_a_replay_stops_with_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from livecli.audio.recording import read_recording
    from livecli.server.record import GuardedRecorder
    from livecli.server.replay import ReplayServer

    class FullDisk:
        directory = "rec"

        def frame(self, *args: object) -> None:
            raise OSError(28, "No space left on device")

    logger = logging.getLogger("test-replay-record")
    recorder = GuardedRecorder(FullDisk(), logger)  # type: ignore[arg-type]
    server = ReplayServer(read_recording(str(TEXT_TURN)), reply_speed=0, logger=logger, recorder=recorder)
    with caplog.at_level(logging.WARNING, logger="test-replay-record"):
        server.recorder.write("frame", 1, "in", "{}")
        server.recorder.write("frame", 1, "in", "{}")
    assert not server.recorder
    assert [r.getMessage() for r in caplog.records] == ["recording stopped: rec: No space left on device"]
