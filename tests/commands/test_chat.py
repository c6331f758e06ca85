"""`chat`, the use case, over a pipe against livecli's own server: one session, each line a turn.

The local server's echo numbers the turns of a session ("turn 2: heard ..."), so a second reply that names
turn 2 shows both lines went into one session. Lines come from an in-memory stdin (a pipe, for the use case).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
import soundfile as sf
from helpers import SAMPLES, LocalServer, RawFrameServer, dev_only, local_server

from livecli.auth.target import ConnectOptions
from livecli.cli.exit_status import exit_status_for
from livecli.commands.chat import ChatRequest, run
from livecli.commands.chat.lines import history_path
from livecli.commands.request import RunRequest
from livecli.commands.session_setup import SessionOptions
from livecli.env import Env
from livecli.errors import AudioInputError, UsageError

HELLO_WAV = str(SAMPLES / "hello_16k.wav")
SECRET = "AIzaSyCHAT-SECRET-0123456789abcdefghij"


def chat_at(url: str, *, save_dir: str | None = None, **kw: Any) -> ChatRequest:
    """A chat request to the server at `url`, unpaced, /audio turns ended by server VAD after silence."""
    options = {"speed": 0.0, "turn_end": "silence", "settle_ms": 100, **kw}
    return ChatRequest(RunRequest(connect=ConnectOptions(endpoint=url, api_key=SECRET), **options), save_dir)


def talk(request: ChatRequest, lines: str, *, tty: bool = False) -> tuple[int, str, str]:
    """Run the conversation with `lines` on stdin; its status, stdout and stderr."""
    stdout, stderr = io.BytesIO(), io.StringIO()
    env = Env(stdin=io.BytesIO(lines.encode()), stdout=stdout, stderr=stderr, environ={}, stdout_isatty=tty)
    status = run(request, env, exit_status_for)
    return status, stdout.getvalue().decode(), stderr.getvalue()


def events(stdout: str, kind: str) -> list[dict[str, Any]]:
    return [event for line in stdout.splitlines() if (event := json.loads(line))["type"] == kind]


def test_two_lines_are_two_turns_of_one_session(live_server: LocalServer) -> None:
    status, out, _err = talk(chat_at(live_server.endpoint()), "hello\nwhat did I just say?\n")
    assert status == 0
    assert out.splitlines() == ['turn 1: heard "hello"', 'turn 2: heard "what did I just say?"']


def test_json_events_name_each_turn_and_the_summary_counts_them(live_server: LocalServer) -> None:
    _status, out, _err = talk(chat_at(live_server.endpoint(), json=True), "one\ntwo\nthree\n")
    completed = events(out, "turn_complete")
    assert [event["input"] for event in completed] == ["turn 1", "turn 2", "turn 3"]
    assert completed[2]["output_transcript"] == 'turn 3: heard "three"'
    summary = events(out, "summary")[0]
    assert summary["inputs"] == 3
    assert summary["exit_status"] == 0


def test_save_dir_writes_each_turns_reply(live_server: LocalServer, tmp_path: Path) -> None:
    folder = tmp_path / "replies"
    talk(chat_at(live_server.endpoint(), save_dir=str(folder)), "hello\nagain\n")
    assert sorted(p.name for p in folder.iterdir()) == ["turn-1.wav", "turn-2.wav"]
    info = sf.info(folder / "turn-2.wav")
    assert info.samplerate == 24000
    assert info.duration > 0.1


def test_audio_is_a_turn_of_its_own(live_server: LocalServer) -> None:
    _status, out, _err = talk(chat_at(live_server.endpoint()), f"hi\n/audio {HELLO_WAV}\n")
    lines = out.splitlines()
    assert lines[0] == 'turn 1: heard "hi"'
    assert lines[1].startswith("turn 2: heard 1.8")


def test_an_image_goes_with_the_next_turn_only(live_server: LocalServer, tmp_path: Path) -> None:
    image = dev_only("PIL.Image")
    picture = tmp_path / "pic.png"
    image.new("RGB", (64, 48), (200, 10, 10)).save(picture)
    _status, out, _err = talk(chat_at(live_server.endpoint()), f"/image {picture}\nwhat is it?\nand now?\n")
    lines = out.splitlines()
    assert lines[0] == 'turn 1: saw 1 frame (64x48), heard "what is it?"'
    assert lines[1] == 'turn 2: heard "and now?"'


def test_system_is_a_context_update_before_the_next_turn(tmp_path: Path) -> None:
    with local_server(record=str(tmp_path / "rec")) as server:
        _status, out, _err = talk(chat_at(server.endpoint()), "/system Be brief.\nhello\n")
    log = next((tmp_path / "rec").rglob("frames.jsonl"))
    frames = [json.loads(line) for line in log.read_text().splitlines()]
    sent = [frame["kind"] for frame in frames if frame.get("from") == "client" and "message" in frame]
    assert sent == ["setup.model", "contextUpdate.systemInstruction", "realtimeInput.text"]
    assert out.splitlines() == ['turn 1: heard "hello"']


def test_save_writes_the_last_reply(live_server: LocalServer, tmp_path: Path) -> None:
    target = tmp_path / "last.flac"
    talk(chat_at(live_server.endpoint()), f"first\nsecond\n/save {target}\n")
    assert sf.info(target).format == "FLAC"


def test_from_a_pipe_a_bad_audio_file_fails_the_run(live_server: LocalServer, tmp_path: Path) -> None:
    with pytest.raises(AudioInputError, match="no such file"):
        talk(chat_at(live_server.endpoint()), f"hello\n/audio {tmp_path / 'missing.wav'}\nnever sent\n")


def test_from_a_pipe_an_unknown_command_is_a_usage_error(live_server: LocalServer) -> None:
    with pytest.raises(UsageError, match="/help lists the commands"):
        talk(chat_at(live_server.endpoint()), "/frobnicate\n")


def test_quit_ends_the_conversation_before_the_lines_after_it(live_server: LocalServer) -> None:
    status, out, _err = talk(chat_at(live_server.endpoint()), "one\n/quit\ntwo\n")
    assert status == 0
    assert out.splitlines() == ['turn 1: heard "one"']


def test_a_double_slash_sends_the_line_as_text(live_server: LocalServer) -> None:
    _status, out, _err = talk(chat_at(live_server.endpoint()), "//etc is a folder\n")
    assert out.splitlines() == ['turn 1: heard "/etc is a folder"']


def test_server_text_is_escaped_on_a_terminal() -> None:
    hostile = '{"serverContent": {"outputTranscription": {"text": "red\\u001b[31m\\u009b2J"}}}'
    frames = [
        hostile.encode(),
        b'{"serverContent": {"modelTurn": {"parts": [{"text": "x"}]}, "turnComplete": true}}',
    ]
    with RawFrameServer(frames) as server:
        _status, out, _err = talk(chat_at(server.url), "hello\n", tty=True)
    assert "red" in out
    assert "\x1b" not in out
    assert "\x9b" not in out


def test_the_api_key_is_in_no_output(live_server: LocalServer) -> None:
    for json_events in (False, True):
        _status, out, err = talk(chat_at(live_server.endpoint(), json=json_events, verbosity=2), "hello\n")
        assert SECRET not in out
        assert SECRET not in err


def test_the_history_file_is_under_the_state_directory() -> None:
    assert history_path({"XDG_STATE_HOME": "/s", "HOME": "/h"}) == "/s/livecli/chat_history"
    assert history_path({"HOME": "/h"}) == "/h/.local/state/livecli/chat_history"
    assert history_path({"XDG_STATE_HOME": "relative", "HOME": "/h"}) == "/h/.local/state/livecli/chat_history"
    assert history_path({}) is None


TOOLS = '''
def get_weather(city: str) -> dict:
    """The weather in a city."""
    return {"forecast": "sunny", "city": city}
'''


def test_a_turn_that_names_a_tool_runs_it(live_server: LocalServer, tmp_path: Path) -> None:
    tools = tmp_path / "tools.py"
    tools.write_text(TOOLS)
    request = chat_at(live_server.endpoint(), tools=[str(tools)])
    _status, out, _err = talk(request, "hello\ncall get_weather city=Paris\n")
    lines = out.splitlines()
    assert lines[0] == 'turn 1: heard "hello"'
    assert 'get_weather returned {"forecast":"sunny","city":"Paris"}' in lines[1]


def test_system_is_refused_in_one_line_where_the_model_takes_none() -> None:
    from livecli.commands.chat.run import _system_refusal

    request = RunRequest(connect=ConnectOptions())
    assert "takes no system instruction" in (_system_refusal(request, "gemini-3.5-live-translate-preview") or "")
    assert _system_refusal(request, "gemini-3.8-live") is None


def test_with_modality_text_the_text_parts_stream_to_stdout() -> None:
    parts = [b'{"serverContent": {"modelTurn": {"parts": [{"text": "Hello"}]}}}']
    parts.append(b'{"serverContent": {"modelTurn": {"parts": [{"text": ", world"}]}, "turnComplete": true}}')
    request = chat_at("", modality="text", session=SessionOptions(preflight=False))
    with RawFrameServer(parts) as server:
        request.run.connect = ConnectOptions(endpoint=server.url, api_key=SECRET)
        _status, out, _err = talk(request, "hi\n")
    assert out == "Hello, world\n"


def test_client_content_turns(live_server: LocalServer) -> None:
    _status, out, _err = talk(chat_at(live_server.endpoint(), client_content=True), "hello\nagain\n")
    assert out.splitlines() == ['turn 1: heard "hello"', 'turn 2: heard "again"']


def test_play_sends_each_reply_to_the_speaker_and_lets_the_last_play_out(live_server: LocalServer) -> None:
    from livecli.audio.devices import Speaker
    from livecli.audio.virtual_devices import VirtualPlayback

    sink = VirtualPlayback(speed=20)  # a speaker without a sound card, playing 20x faster than real time
    request = chat_at(live_server.endpoint(), json=True)
    request.run.play = True
    stdout, stderr = io.BytesIO(), io.StringIO()
    env = Env(stdin=io.BytesIO(b"hello\nagain\n"), stdout=stdout, stderr=stderr, environ={})
    assert run(request, env, exit_status_for, speaker=Speaker(sink, env.clock)) == 0
    received = sum(event["bytes"] for event in events(stdout.getvalue().decode(), "reply_audio"))
    audible = [index for index, block in enumerate(sink.played) if block.audible]
    played_span = (audible[-1] - audible[0] + 1) * sink.block_frames * 2  # bytes from the first sound to the last
    assert played_span >= 0.9 * received
    assert not sink.buffer.busy  # the last reply played out before the conversation closed


def test_earlier_replies_leave_memory_and_the_summary_still_counts_them(live_server: LocalServer) -> None:
    _status, out, _err = talk(chat_at(live_server.endpoint(), json=True), "one\ntwo\nthree\n")
    received = sum(event["bytes"] for event in events(out, "reply_audio"))
    assert events(out, "summary")[0]["reply_bytes"] == received


def test_help_is_shown_on_stderr_even_under_q(live_server: LocalServer) -> None:
    _status, out, err = talk(chat_at(live_server.endpoint(), verbosity=-1), "/help\n")
    assert "/audio FILE" in err
    assert out == ""


def test_the_image_option_goes_with_the_first_turn(live_server: LocalServer, tmp_path: Path) -> None:
    image = dev_only("PIL.Image")
    picture = tmp_path / "first.jpg"
    image.new("RGB", (80, 60), (0, 0, 200)).save(picture)
    request = chat_at(live_server.endpoint(), images=[str(picture)])
    _status, out, _err = talk(request, "look\nand again\n")
    assert out.splitlines() == ['turn 1: saw 1 frame (80x60), heard "look"', 'turn 2: heard "and again"']
