"""`livecli replay DIR`: a session recorded against the local server replays against it with no difference (exit
0); a changed reply, a missing turn or a different end is exit 5 with the difference in --json; the key never
shows."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from helpers import SAMPLES, LocalServer, dev_only, local_server, recorded_frames, run_cli

KEY = "SECRET-replay-key-0123456789"
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "recordings"


@pytest.fixture(scope="module")
def server() -> Any:
    with local_server(require_key=KEY) as running:
        yield running


@pytest.fixture(scope="module")
def recording(server: LocalServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two audio turns recorded against the local server."""
    directory = tmp_path_factory.mktemp("rec") / "two-turns"
    out = tmp_path_factory.mktemp("out")
    inputs = [str(SAMPLES / "hello_16k.wav"), str(SAMPLES / "pause.wav")]
    run_cli(
        "send", *inputs, "--endpoint", server.url, "--api-key", KEY, "--no-pace", "-o", f"{out}/",
        "--record", str(directory),
    )  # fmt: skip
    return directory


def replay(directory: Path, server: LocalServer, *args: str, expect: int | None = 0) -> Any:
    return run_cli(
        "replay", str(directory), "--endpoint", server.url, "--api-key", KEY, "--speed", "0", *args, expect=expect
    )


def test_a_recording_replays_against_the_same_server_with_no_difference(
    recording: Path, server: LocalServer
) -> None:
    result = replay(recording, server)
    assert "2 turn(s) recorded, 2 replayed" in result.stdout
    assert "the replay matches the recording" in result.stdout


def test_json_reports_both_sides_turn_by_turn(recording: Path, server: LocalServer) -> None:
    (report,) = replay(recording, server, "--json").json_lines
    assert report["matches"] is True
    assert report["differences"] == []
    assert [t["input_transcript"] for t in report["replayed"]["turns"]] == [
        t["input_transcript"] for t in report["recorded"]["turns"]
    ]
    assert report["replayed"]["exit_status"] == 0


def _change_reply(directory: Path, old: str, new: str) -> None:
    frames = directory / "frames.jsonl"
    text = frames.read_text()
    assert old in text
    frames.write_text(text.replace(old, new))


def test_a_changed_reply_is_exit_5_with_the_difference(
    recording: Path, server: LocalServer, tmp_path: Path
) -> None:
    changed = tmp_path / "changed"
    shutil.copytree(recording, changed)
    _change_reply(changed, "turn 2: ", "turn 2 (changed): ")
    result = replay(changed, server, "--json", expect=5)
    (report,) = result.json_lines
    assert report["matches"] is False
    (difference,) = report["differences"]
    assert difference["what"] == "output_transcript"
    assert difference["turn"] == 2
    assert difference["recorded"].startswith("turn 2 (changed): ")
    assert difference["replayed"].startswith("turn 2: ")
    assert "differs from the recording in 1 place(s); first: turn 2 output_transcript" in result.stderr


def test_a_shorter_reply_is_a_duration_difference(recording: Path, server: LocalServer, tmp_path: Path) -> None:
    """The recorded reply said to be twice as long (its sidecar bytes doubled in each frame's reference)."""
    changed = tmp_path / "longer"
    shutil.copytree(recording, changed)
    lines = [json.loads(line) for line in (changed / "frames.jsonl").read_text().splitlines()]
    for line in lines:
        if line.get("kind") == "serverContent.modelTurn" and line["conn"] == 1:
            line["message"]["serverContent"]["modelTurn"]["parts"][0]["inlineData"]["data"]["bytes"] *= 2
    (changed / "frames.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    (report,) = replay(changed, server, "--json", expect=5).json_lines
    assert {d["what"] for d in report["differences"]} == {"reply_s"}
    assert report["differences"][0]["recorded"] > report["differences"][0]["replayed"]


def test_a_server_that_closes_is_an_exit_status_difference(recording: Path, server: LocalServer) -> None:
    result = run_cli(
        "replay", str(recording), "--endpoint", server.endpoint("close-1011"), "--api-key", KEY, "--speed", "0",
        "--json", expect=5,
    )  # fmt: skip
    (report,) = result.json_lines
    by_what = {d["what"]: d for d in report["differences"]}
    assert by_what["exit_status"]["recorded"] == 0
    assert by_what["exit_status"]["replayed"] == 4
    assert by_what["turns"]["replayed"] < by_what["turns"]["recorded"]


def test_the_key_never_shows(recording: Path, server: LocalServer) -> None:
    for args in ((), ("--json",)):
        result = replay(recording, server, *args)
        assert KEY not in result.stdout
        assert KEY not in result.stderr
    refused = run_cli(
        "replay", str(recording), "--endpoint", server.url, "--api-key", KEY + "x", "--speed", "0", expect=3
    )
    assert KEY not in refused.stderr


def test_not_a_recording_is_one_usage_line(tmp_path: Path) -> None:
    result = run_cli("replay", str(tmp_path), "--local", expect=2)
    assert result.stderr.strip().count("\n") == 0
    assert "not a livecli recording" in result.stderr


def test_a_newer_format_version_is_refused(recording: Path, tmp_path: Path) -> None:
    newer = tmp_path / "newer"
    shutil.copytree(recording, newer)
    meta = json.loads((newer / "recording.json").read_text())
    (newer / "recording.json").write_text(json.dumps({**meta, "version": 99}))
    result = run_cli("replay", str(newer), "--local", expect=2)
    assert "format version 99" in result.stderr


@pytest.mark.parametrize("name", sorted(path.name for path in FIXTURES.iterdir()) if FIXTURES.exists() else [])
def test_committed_fixtures_replay_against_the_local_server(name: str) -> None:
    """The recordings under tests/fixtures/recordings (made with the local server) still replay unchanged."""
    run_cli("replay", str(FIXTURES / name), "--local", "--speed", "0")


TOOLS = '''
def get_weather(query: str, unit: str = "C") -> dict:
    """The weather where the user asks."""
    return {"forecast": "sunny", "unit": unit}
'''


def test_a_tool_call_session_replays_with_the_replay_s_own_call_ids(tmp_path: Path) -> None:
    """The recorded toolResponse goes back with the id of the replay's call, so the server quotes the result."""
    tools = tmp_path / "tools.py"
    tools.write_text(TOOLS)
    directory = tmp_path / "tool"
    with local_server() as server:
        run_cli(
            "text", "call get_weather unit=F", "--endpoint", server.url, "--tools", str(tools), "--no-pace",
            "--record", str(directory),
        )  # fmt: skip
    lines = recorded_frames(directory)
    assert any(line["kind"].startswith("toolResponse") for line in lines)
    with local_server() as server:
        (report,) = replay(directory, server, "--json").json_lines
    assert report["matches"] is True
    (turn,) = report["replayed"]["turns"]
    assert turn["tool_calls"] == ["get_weather"]
    assert 'get_weather returned {"forecast":"sunny","unit":"F"}' in turn["output_transcript"]


def test_an_image_is_a_media_sidecar_and_replays(tmp_path: Path) -> None:
    image_module = dev_only("PIL.Image")
    picture = tmp_path / "green.jpg"
    image_module.new("RGB", (64, 48), (20, 180, 40)).save(picture, "JPEG")
    directory = tmp_path / "image"
    with local_server() as server:
        run_cli(
            "text", "what is it", "--image", str(picture), "--endpoint", server.url, "--record", str(directory)
        )
        (report,) = replay(directory, server, "--json").json_lines
    assert (directory / "media" / "client-00001.jpg").read_bytes() == picture.read_bytes()
    assert report["matches"] is True


def test_a_server_side_recording_replays_too(tmp_path: Path) -> None:
    """One format on both sides: what serve --record wrote, livecli replay sends again."""
    directory = tmp_path / "server-view"
    with local_server(record=str(directory)) as server:
        run_cli(
            "send",
            str(SAMPLES / "hello_16k.wav"),
            "--endpoint",
            server.url,
            "--no-pace",
            "-o",
            str(tmp_path / "r.wav"),
        )
    assert json.loads((directory / "recording.json").read_text())["side"] == "server"
    with local_server() as server:
        result = run_cli("replay", str(directory), "--endpoint", server.url, "--speed", "0", "--json")
    (report,) = result.json_lines
    assert report["matches"] is True
    assert len(report["replayed"]["turns"]) == 1


def test_a_recorded_close_code_no_client_may_send_becomes_1000() -> None:
    from livecli.commands.replay_session import _sendable

    assert [_sendable(code) for code in (1000, 1001, 1006, 1011, 1015, 4001, 999)] == [
        1000, 1001, 1000, 1011, 1000, 4001, 1000,
    ]  # fmt: skip


def test_server_text_in_the_report_is_escaped(recording: Path, server: LocalServer, tmp_path: Path) -> None:
    """A recorded transcript with terminal controls (ESC, the C1 CSI) reaches neither report raw."""
    hostile = tmp_path / "hostile"
    shutil.copytree(recording, hostile)
    _change_reply(hostile, "turn 2: ", "turn 2: \\u001b[2J\\u009b31m ")
    for args in ((), ("--json",)):
        result = replay(hostile, server, *args, expect=5)
        assert "\x1b" not in result.stdout
        assert "\x9b" not in result.stdout


def test_a_refused_setup_replays_as_its_exit_status(server: LocalServer, tmp_path: Path) -> None:
    """A wrong key (the server closes before setupComplete): the replay matches when the endpoint refuses it too,
    and differs (exit 5) when it lets the client in, without waiting for a close that does not come."""
    directory = tmp_path / "refused"
    wrong = "WRONG-replay-key-0123456789"
    run_cli("text", "hi", "--endpoint", server.url, "--api-key", wrong, "--record", str(directory), expect=3)
    same = run_cli("replay", str(directory), "--endpoint", server.url, "--api-key", wrong, "--json")
    assert same.json_lines[0]["matches"] is True
    assert wrong not in same.stdout
    (report,) = replay(directory, server, "--json", expect=5).json_lines
    assert report["differences"] == [{"what": "exit_status", "recorded": 3, "replayed": 0, "error": None}]


def test_a_refused_upgrade_replays_as_its_exit_status(server: LocalServer, tmp_path: Path) -> None:
    """An upgrade refused with HTTP 401 leaves no frame: the recorded exit status is compared with this
    endpoint's answer to an upgrade."""
    directory = tmp_path / "http-401"
    run_cli(
        "text",
        "hi",
        "--endpoint",
        server.endpoint("http-401"),
        "--api-key",
        KEY,
        "--record",
        str(directory),
        expect=3,
    )
    assert (directory / "frames.jsonl").read_text() == ""
    refused = run_cli(
        "replay", str(directory), "--endpoint", server.endpoint("http-401"), "--api-key", KEY, "--json"
    )
    assert refused.json_lines[0]["matches"] is True
    (report,) = replay(directory, server, "--json", expect=5).json_lines
    assert report["differences"] == [{"what": "exit_status", "recorded": 3, "replayed": 0, "error": None}]
