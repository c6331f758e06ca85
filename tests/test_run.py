"""The runner with an injected Env: preflight, turn ends the session infers, goAway, and partial replies."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import soundfile as sf

from livecli.config import ConnectOptions
from livecli.env import Env
from livecli.errors import ConnectError, NoReplyError, UsageError
from livecli.run import RunRequest, build_setup, run
from tests.conftest import LocalServer
from tests.helpers import SAMPLES

HELLO_WAV = str(SAMPLES / "hello_16k.wav")


def make_env() -> tuple[Env, io.BytesIO, io.StringIO]:
    stdout, stderr = io.BytesIO(), io.StringIO()
    return Env(stdin=io.BytesIO(), stdout=stdout, stderr=stderr, environ={}), stdout, stderr


def request(server: LocalServer, scenario: str | None = None, **kw: object) -> RunRequest:
    return RunRequest(connect=ConnectOptions(endpoint=server.endpoint(scenario)), speed=0.0, **kw)  # type: ignore[arg-type]


def events(stdout: io.BytesIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.getvalue().splitlines()]


def test_build_setup_activity_mode_disables_server_vad() -> None:
    """--turn-end activity turns automatic activity detection off; silence/vad keep it; text keeps it."""
    req = RunRequest(connect=ConnectOptions(), inputs=["a.wav"])
    assert build_setup(req, "models/gemini-3.8-live").automatic_activity_detection is False
    req.turn_end = "vad"
    assert build_setup(req, "models/gemini-3.8-live").automatic_activity_detection is True
    text = build_setup(RunRequest(connect=ConnectOptions(), prompt="hi"), "models/gemini-3.8-live")
    assert text.automatic_activity_detection and not text.input_transcription and text.output_transcription


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"modality": "text"}, "answers only in AUDIO"),
        ({"voice": "Nobody"}, "unknown voice"),
        ({"turn_end": "later"}, "--turn-end"),
    ],
)
def test_preflight_refuses_what_the_model_table_refuses(changes: dict[str, str], needle: str) -> None:
    """Setups the server would close with 1007 are refused before connecting."""
    req = RunRequest(connect=ConnectOptions(), inputs=["a.wav"], **changes)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match=needle):
        build_setup(req, "models/gemini-3.8-live")


def test_text_modality_on_an_unknown_model_prints_text_parts(live_server: LocalServer) -> None:
    """Unknown models may answer TEXT: the text parts go to stdout (the env's, not the process's)."""
    env, stdout, _ = make_env()
    req = request(live_server, prompt="two words", modality="text")
    req.connect.model = "my-test-model"
    assert run(req, env) == 0
    assert stdout.getvalue().strip()


def test_generation_complete_without_turn_complete_still_ends_the_turn(live_server: LocalServer) -> None:
    """A server that never sends turnComplete: the turn ends after the grace, reply kept (inferred)."""
    env, stdout, _ = make_env()
    assert run(request(live_server, "generation-complete-only", inputs=[HELLO_WAV], json=True), env) == 0
    done = [e for e in events(stdout) if e["type"] == "turn_complete"]
    assert done[0]["inferred"] is True and done[0]["end"] == "generationComplete"


def test_interrupted_reply_is_kept(live_server: LocalServer, tmp_path: Path) -> None:
    """An interrupted turn ends the reply; the audio received before it is written."""
    env, stdout, _ = make_env()
    out = tmp_path / "r.wav"
    assert run(request(live_server, "interrupt", inputs=[HELLO_WAV], json=True, output=str(out)), env) == 0
    types = [e["type"] for e in events(stdout)]
    assert "interrupted" in types
    assert sf.info(out).frames > 0


def test_go_away_is_reported(live_server: LocalServer) -> None:
    """goAway shows as an event with its time left."""
    env, stdout, _ = make_env()
    run(request(live_server, "goaway", inputs=[HELLO_WAV], json=True), env)
    go_away = [e for e in events(stdout) if e["type"] == "go_away"]
    assert go_away and go_away[0]["time_left_s"] == 1.0


def test_reply_timeout_still_ends_with_a_summary(live_server: LocalServer, tmp_path: Path) -> None:
    """A stalled reply raises NoReplyError after --timeout, and the JSON stream still ends with the summary."""
    env, stdout, _ = make_env()
    req = request(live_server, "stall", inputs=[HELLO_WAV], output=str(tmp_path / "r.wav"), timeout=0.2, json=True)
    with pytest.raises(NoReplyError):
        run(req, env)
    summary = events(stdout)[-1]
    assert summary["type"] == "summary" and summary["exit_status"] == 5


def test_close_after_setup_is_a_connect_error(live_server: LocalServer) -> None:
    """close-1011 during the reply maps to ServerClosed (a ConnectError) with the reason kept."""
    env, _, _ = make_env()
    with pytest.raises(ConnectError, match=r"1011 Internal error encountered\."):
        run(request(live_server, "close-1011", inputs=[HELLO_WAV]), env)
