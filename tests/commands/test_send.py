"""The send use case with an injected Env: preflight, turn ends, timeouts, CI assertions, metrics, Ctrl-C.

Resumption has its own file (test_send_resumption.py), so do the failure paths (test_send_failures.py).
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from helpers import LocalServer, RawFrameServer, cli_command, run_cli, subprocess_env

from livecli.auth.target import ConnectOptions
from livecli.commands.request import RunRequest, build_setup
from livecli.errors import ConnectError, NoReplyError, UsageError
from livecli.protocol import server_messages as sm
from livecli.protocol import turn_tracker as session_module  # where the grace is (TURN_GRACE_S)
from tests.commands.send_helpers import HELLO_WAV, at, events, make_env, run


def request(server: LocalServer, scenario: str | None = None, **kw: object) -> RunRequest:
    return RunRequest(connect=ConnectOptions(endpoint=server.endpoint(scenario)), speed=0.0, **kw)  # type: ignore[arg-type]


def test_build_setup_activity_mode_disables_server_vad() -> None:
    """--turn-end activity turns automatic activity detection off; silence/vad keep it; text keeps it."""
    req = RunRequest(connect=ConnectOptions(), inputs=["a.wav"])
    assert build_setup(req, "models/gemini-3.8-live").automatic_activity_detection is False
    req.turn_end = "vad"
    assert build_setup(req, "models/gemini-3.8-live").automatic_activity_detection is True
    text = build_setup(RunRequest(connect=ConnectOptions(), prompt="hi"), "models/gemini-3.8-live")
    assert text.automatic_activity_detection
    assert not text.input_transcription
    assert text.output_transcription


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


def test_silence_tail_counts_in_progress_totals_and_the_dry_run_plan(live_server: LocalServer) -> None:
    """--turn-end silence: the appended silence is part of the input's total and of the dry run's chunk plan."""
    env, stdout, _ = make_env()
    req = request(live_server, inputs=[HELLO_WAV], json=True, turn_end="silence", silence_ms=1000, chunk_ms=40)
    req.settle_ms = 100  # no second reply to wait for
    assert run(req, env) == 0
    final = [e for e in events(stdout) if e["type"] == "input_progress"][-1]
    assert final["done"] is True
    assert final["bytes"] == final["total_bytes"]
    env, stdout, _ = make_env()
    req = request(live_server, inputs=[HELLO_WAV], turn_end="silence", silence_ms=1000, chunk_ms=40, dry_run=True)
    assert run(req, env) == 0
    assert f"{final['chunks']} chunks, {final['total_bytes']} B" in stdout.getvalue().decode()


def test_server_vad_turns_within_one_file_all_land_in_its_reply(live_server: LocalServer, tmp_path: Path) -> None:
    """Server VAD: two utterances 2 s apart in one file (paced at 2x: the server's VAD hears a pause only in real
    time) are two turns; the run waits for both and the reply file holds both replies in order. The input ends
    with audioStreamEnd (--turn-end vad), which ends the second turn without a second real-time pause."""
    t = np.arange(4800) / 16000
    blip = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    two = tmp_path / "two.wav"
    sf.write(two, np.concatenate([blip, np.zeros(32000, np.float32), blip]), 16000, subtype="PCM_16")
    env, stdout, _ = make_env()
    req = request(live_server, inputs=[str(two)], json=True, turn_end="vad", settle_ms=300,
                  output=str(tmp_path / "r.wav"))  # fmt: skip
    req.speed = 2.0
    assert run(req, env) == 0
    done = [e for e in events(stdout) if e["type"] == "turn_complete"]
    assert [e["turn"] for e in done] == [1, 2]
    assert all(e["input"] == str(two) for e in done)
    assert (tmp_path / "r.wav").stat().st_size == 44 + sum(int(str(e["reply_bytes"])) for e in done)


def test_generation_complete_without_turn_complete_still_ends_the_turn(
    live_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that never sends turnComplete: the turn ends after the grace, reply kept (inferred). The grace's
    length is the session's (tests/protocol/test_session.py, on a fake clock): here it is short."""
    monkeypatch.setattr(session_module, "TURN_GRACE_S", 0.1)
    env, stdout, _ = make_env()
    assert run(request(live_server, "generation-complete-only", inputs=[HELLO_WAV], json=True), env) == 0
    done = [e for e in events(stdout) if e["type"] == "turn_complete"]
    assert done[0]["inferred"] is True
    assert done[0]["end"] == "generationComplete"


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
    assert go_away
    assert go_away[0]["time_left_s"] == 1.0


def test_reply_timeout_still_ends_with_a_summary(live_server: LocalServer, tmp_path: Path) -> None:
    """A stalled reply raises NoReplyError after --timeout, and the JSON stream still ends with the summary."""
    env, stdout, _ = make_env()
    req = request(live_server, "stall", inputs=[HELLO_WAV], output=str(tmp_path / "r.wav"), timeout=0.2, json=True)
    with pytest.raises(NoReplyError):
        run(req, env)
    summary = events(stdout)[-1]
    assert summary["type"] == "summary"
    assert summary["exit_status"] == 5


def test_reply_stalling_midway_exits_5_with_the_part_received_written(tmp_path: Path) -> None:
    """The server streams part of a reply, then goes quiet (pings still answered): after --timeout of silence
    the run fails with exit 5 and the bytes received so far are written, marked partial."""
    part = bytes(range(256)) * 15
    out = tmp_path / "r.wav"
    with RawFrameServer([sm.audio_content(part)]) as server:
        env, stdout, _ = make_env()
        req = at(server.url, inputs=[HELLO_WAV], speed=0.0, timeout=0.3, output=str(out))
        with pytest.raises(NoReplyError, match=r"the reply stalled after 3840 bytes: the server sent nothing"):
            run(req, env)
    assert out.read_bytes()[44:] == part
    (written,) = [e for e in events(stdout) if e["type"] == "reply_written"]
    assert written["partial"] is True
    assert events(stdout)[-1]["exit_status"] == 5


def test_close_after_setup_is_a_connect_error(live_server: LocalServer) -> None:
    """close-1011 during the reply maps to ServerClosed (a ConnectError) with the reason kept."""
    env, _, _ = make_env()
    with pytest.raises(ConnectError, match=r"1011 Internal error encountered\."):
        run(request(live_server, "close-1011", inputs=[HELLO_WAV], resume=False), env)


# --- CI assertions, metrics, hints -------------------------------------------------------------------------


def test_expect_transcript_and_min_reply_seconds_pass(live_server: LocalServer) -> None:
    """The echo reply says "turn 1: heard …" and lasts over a second."""
    env, _, _ = make_env()
    req = request(live_server, inputs=[HELLO_WAV], expect_transcript=r"turn \d+: heard", min_reply_s=1.0)
    assert run(req, env) == 0


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"expect_transcript": "weather in Paris"}, r"--expect-transcript 'weather in Paris' matched no reply"),
        ({"min_reply_s": 60.0}, r"--min-reply-seconds 60: the reply to .*hello_16k.wav is \d"),
    ],
)
def test_ci_assertions_fail_with_exit_5(live_server: LocalServer, changes: dict[str, Any], needle: str) -> None:
    """A transcript that does not match, or a reply shorter than asked: NoReplyError (exit 5), summary says 5."""
    env, stdout, _ = make_env()
    with pytest.raises(NoReplyError, match=needle):
        run(request(live_server, inputs=[HELLO_WAV], json=True, **changes), env)
    assert events(stdout)[-1]["exit_status"] == 5


def test_bad_expect_transcript_is_a_usage_error(live_server: LocalServer) -> None:
    """An invalid regex is refused before connecting."""
    with pytest.raises(UsageError, match="not a valid regular expression"):
        run(request(live_server, inputs=[HELLO_WAV], expect_transcript="(unclosed"), make_env()[0])


def test_json_turn_complete_has_the_latency_breakdown_and_raw_usage(live_server: LocalServer) -> None:
    """--json: TTFB, TTFA, first transcription, completion and real-time factor; usage raw, said per turn."""
    env, stdout, _ = make_env()
    assert run(request(live_server, inputs=[HELLO_WAV], json=True), env) == 0
    seen = events(stdout)
    (done,) = [e for e in seen if e["type"] == "turn_complete"]
    for key in ("first_input_transcription_s", "ttfb_s", "ttfa_s", "generation_complete_s", "turn_complete_s"):
        assert isinstance(done[key], float), key
        assert done[key] >= 0, key
    assert "realtime_factor" in done
    assert done["ttfa_s"] >= done["ttfb_s"]
    usage = done["usage"]
    assert isinstance(usage, dict)
    assert usage["raw"]["totalTokenCount"] == usage["total_tokens"]
    assert "per turn" in str(seen[-1]["usage"])


def test_rich_turn_line_shows_ttfa_and_the_cli_options_reach_the_runner(live_server: LocalServer) -> None:
    """The CLI: --expect-transcript failing exits 5 with its message; the turn line names TTFB and TTFA."""
    result = run_cli(
        "send", HELLO_WAV, "--endpoint", live_server.endpoint(), "--speed", "0", "--max-reconnects", "1",
        "--no-resume", "--expect-transcript", "nothing like this", expect=5,
    )  # fmt: skip
    assert "TTFB" in result.stderr
    assert "TTFA" in result.stderr
    assert "matched no reply" in result.stderr


class MuteAfterUpgrade(RawFrameServer):
    """Upgrades, then never answers the setup (the socket stays open)."""

    def _handle(self, ws: Any) -> None:
        with contextlib.suppress(Exception):
            while True:
                ws.recv()


@pytest.mark.timeout(30)
@pytest.mark.parametrize("phase", ["setup", "waiting"])
def test_ctrl_c_while_waiting_for_the_server_exits_130_and_keeps_the_reply_so_far(
    phase: str, tmp_path: Path
) -> None:
    """SIGINT while waiting for setupComplete, or mid-reply while the server is quiet: exit 130 at once (not
    after a timeout), the summary says 130, and the part of the reply received is written, marked partial."""
    part = b"\x07\x00" * 1200
    server = MuteAfterUpgrade([]) if phase == "setup" else RawFrameServer([sm.audio_content(part)])
    out = tmp_path / "r.wav"
    trigger = "connected" if phase == "setup" else "reply_audio"
    with server:
        args = ["send", HELLO_WAV, "--endpoint", server.url, "--speed", "0", "-o", str(out), "--json"]
        proc = subprocess.Popen(cli_command(*args, "--timeout", "60", "--connect-timeout", "60"),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=subprocess_env())  # fmt: skip
        assert proc.stdout is not None
        for line in proc.stdout:
            if json.loads(line)["type"] == trigger:
                break
        proc.send_signal(signal.SIGINT)
        rest, stderr = proc.communicate(timeout=15)
    assert proc.returncode == 130, stderr
    seen = [json.loads(line) for line in rest.splitlines()]
    assert seen[-1]["type"] == "summary"
    assert seen[-1]["exit_status"] == 130
    if phase == "waiting":
        assert out.read_bytes()[44:] == part
        assert [e["partial"] for e in seen if e["type"] == "reply_written"] == [True]
    else:
        assert not out.exists()


def test_local_server_warnings_are_the_clients_warning_lines() -> None:
    """--local: the in-process server's log warnings reach stderr as "warning: local server: …" lines."""
    result = run_cli("text", "hi", "--local", "--speed", "0", "--model", "my-test-model")
    assert "warning: local server: unknown model 'my-test-model'" in result.stderr


def test_dry_run_prints_the_setup_frame_exactly_as_sent() -> None:
    """The dry run's setup is the very text the server receives first (non-ASCII kept as UTF-8, not escaped)."""
    args = ["text", "hi", "--system", "Réponds en français ✓", "--speed", "0"]
    with RawFrameServer([b'{"serverContent":{"turnComplete":true}}']) as server:
        dry = run_cli(*args, "--endpoint", server.url, "--dry-run", "--json").json_lines[0]
        run_cli(*args, "--endpoint", server.url, expect=None)
        assert server.received_setup == dry["setup_frame"]
