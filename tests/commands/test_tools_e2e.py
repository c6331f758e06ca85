"""Tools end to end against a real local server: the server calls a declared function, livecli runs it (a Python
function, a command), and the server's reply quotes what it got; unknown names, cancellation, timeouts,
NON_BLOCKING with scheduling, usage errors before connecting, and no secret in anything shown."""

from __future__ import annotations

import json
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from helpers import SAMPLES, LocalServer, local_server, recorded_frames, run_cli, ws_server_thread

from livecli.protocol import server_messages as sm

HELLO_WAV = str(SAMPLES / "hello_16k.wav")
SECRET = "AIzaSyTOOLSECRET0123456789abcdefghijk"

PY_TOOLS = '''
import asyncio
import os
import time
from typing import Literal


def get_weather(query: str, unit: Literal["C", "F"] = "C") -> dict:
    """The weather where the user asks."""
    return {"forecast": "sunny", "unit": unit, "heard": query}


async def slow_lookup(query: str) -> str:
    """Looks something up, slowly."""
    await asyncio.sleep(60)
    return "never"


async def pause(seconds: float) -> dict:
    """Takes its time."""
    await asyncio.sleep(seconds)
    return {"waited": seconds}


def stuck(query: str) -> str:
    """Never returns in time (a thread cannot be stopped)."""
    time.sleep(60)
    return "too late"
'''

COMMAND = """
import json, os, sys, time
call = json.load(sys.stdin)
if call["name"] == "sleeper":
    with open(os.environ["PID_FILE"], "w") as handle:
        handle.write(str(os.getpid()))
    time.sleep(60)
print("looking up " + call["args"].get("query", ""), file=sys.stderr)
print(json.dumps({"found": call["args"].get("query", ""), "key": os.environ.get("GEMINI_API_KEY", ""),
                  "scheduling": "SILENT"}))
"""


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def tool_cli(server_url: str, tmp_path: Path, *args: str, expect: int | None = 0, **kw: Any) -> Any:
    return run_cli(
        "send", HELLO_WAV, "--endpoint", server_url, "--speed", "0", "--timeout", "20", *args, expect=expect, **kw
    )


def declarations(tmp_path: Path, behavior: str | None = None) -> str:
    decl: dict[str, Any] = {
        "name": "lookup",
        "description": "Find a thing",
        "parameters": {"type": "OBJECT", "properties": {"query": {"type": "STRING"}}, "required": ["query"]},
    }
    if behavior is not None:
        decl["behavior"] = behavior
    return write(tmp_path, "decls.json", json.dumps([decl, {"name": "sleeper", "description": "Sleeps"}]))


def command(tmp_path: Path) -> str:
    return f"{sys.executable} {write(tmp_path, 'tool.py', COMMAND)}"


def test_a_python_function_round_trip(live_server: LocalServer, tmp_path: Path) -> None:
    tools = write(tmp_path, "tools.py", PY_TOOLS)
    result = tool_cli(live_server.endpoint("tool-call"), tmp_path, "--tools", tools, "--json")
    [response] = result.of_type("tool_response")
    assert response["name"] == "get_weather"
    assert response["error"] is None
    assert response["response"]["forecast"] == "sunny"
    assert response["bytes"] > 0
    assert response["duration_s"] >= 0
    transcript = result.of_type("turn_complete")[0]["output_transcript"]
    assert 'get_weather returned {"forecast":"sunny"' in transcript


def test_a_text_turn_naming_a_function_runs_it(live_server: LocalServer, tmp_path: Path) -> None:
    """The local server calls a declared function the turn names, with arguments from the text."""
    tools = write(tmp_path, "tools.py", PY_TOOLS)
    args = ["--endpoint", live_server.endpoint(), "--tools", tools, "--json", "--speed", "0"]
    result = run_cli("text", "call get_weather unit=F", *args)
    [call] = result.of_type("tool_call")[0]["calls"]
    assert call["name"] == "get_weather"
    assert call["args"]["unit"] == "F"
    assert result.of_type("tool_response")[0]["response"]["unit"] == "F"
    transcript = result.of_type("turn_complete")[0]["output_transcript"]
    assert 'get_weather returned {"forecast":"sunny","unit":"F"' in transcript


def test_a_handler_slower_than_the_reply_timeout_is_not_a_silent_server(
    live_server: LocalServer, tmp_path: Path
) -> None:
    """While a handler works the server is silent because it waits for the answer: --timeout does not run."""
    tools = write(tmp_path, "tools.py", PY_TOOLS)
    args = ["--endpoint", live_server.endpoint(), "--tools", tools, "--json", "--speed", "0", "--timeout", "1"]
    result = run_cli("text", "call pause seconds=1.6", *args)
    assert result.of_type("tool_response")[0]["response"] == {"waited": 1.6}
    assert result.of_type("turn_complete")[0]["reply_bytes"] > 0


def test_a_command_round_trip(live_server: LocalServer, tmp_path: Path) -> None:
    decls, run = declarations(tmp_path), command(tmp_path)
    result = tool_cli(live_server.endpoint("tool-call"), tmp_path, "--tools", decls, "--tool-exec", run, "--json")
    [response] = result.of_type("tool_response")
    assert response["name"] == "lookup"
    assert response["error"] is None
    assert "found" in response["response"]
    assert "lookup returned" in result.of_type("turn_complete")[0]["output_transcript"]


def test_non_blocking_is_declared_and_the_scheduling_reaches_the_server(tmp_path: Path) -> None:
    """The declaration keeps its behavior; the handler's `scheduling` moves to the functionResponse; the run
    waits for a NON_BLOCKING handler still working when the reply ends, and sends its answer."""
    record = tmp_path / "frames.jsonl"
    decls, run = declarations(tmp_path, "NON_BLOCKING"), command(tmp_path)
    with local_server(record=str(record)) as server:
        result = tool_cli(server.endpoint("tool-call"), tmp_path, "--tools", decls, "--tool-exec", run, "--json")
    [response] = result.of_type("tool_response")
    assert response["scheduling"] == "SILENT"
    assert response["cancelled"] is False
    frames = recorded_frames(record)
    [setup] = [f["message"]["setup"] for f in frames if f["from"] == "client" and f["kind"].startswith("setup.")]
    assert setup["tools"][0]["functionDeclarations"][0]["behavior"] == "NON_BLOCKING"
    [answer] = [f["message"]["toolResponse"] for f in frames if f["kind"].startswith("toolResponse")]
    assert answer["functionResponses"][0]["scheduling"] == "SILENT"
    assert "scheduling" not in answer["functionResponses"][0]["response"]


def test_a_command_s_stderr_is_shown_escaped(live_server: LocalServer, tmp_path: Path) -> None:
    result = tool_cli(
        live_server.endpoint("tool-call"),
        tmp_path,
        "--tools",
        declarations(tmp_path),
        "--tool-exec",
        command(tmp_path),
    )
    assert "--tool-exec lookup (id " in result.stderr
    assert "wrote on stderr: looking up" in result.stderr
    assert "tool lookup (id " in result.stderr
    assert "answered in" in result.stderr


def test_an_unknown_function_is_answered_with_an_error_and_the_turn_completes(tmp_path: Path) -> None:
    scenario = write(tmp_path, "nope.toml", 'name = "nope"\n[[turns]]\ntool_call = { name = "nope", args = {} }\n')
    tools = write(tmp_path, "tools.py", PY_TOOLS)
    with local_server(scenario=scenario) as server:
        result = tool_cli(server.endpoint(), tmp_path, "--tools", tools, "--json")
    [response] = result.of_type("tool_response")
    assert response["error"] == "unknown function nope: no --tools, --tool-exec or --mcp source declares it"
    assert result.of_type("turn_complete")[0]["reply_bytes"] > 0


def test_without_tool_options_calls_are_still_answered_with_an_error(live_server: LocalServer) -> None:
    result = run_cli("send", HELLO_WAV, "--endpoint", live_server.endpoint("tool-call"), "--speed", "0", "--json")
    [response] = result.of_type("tool_response")
    assert response["error"] == "livecli cannot run functions: lookup is not available"
    assert result.of_type("turn_complete")[0]["reply_bytes"] > 0


def test_a_handler_past_tool_timeout_is_answered_with_an_error(live_server: LocalServer, tmp_path: Path) -> None:
    scenario = write(tmp_path, "slow.toml", 'name = "slow"\n[[turns]]\ntool_call = { name = "slow_lookup" }\n')
    tools = write(tmp_path, "tools.py", PY_TOOLS)
    with local_server(scenario=scenario) as server:
        result = tool_cli(server.endpoint(), tmp_path, "--tools", tools, "--tool-timeout", "0.3", "--json")
    [response] = result.of_type("tool_response")
    assert response["error"] == "no answer within 0.3 s (--tool-timeout); the call was stopped"
    assert "slow_lookup returned" in result.of_type("turn_complete")[0]["output_transcript"]


@pytest.mark.timeout(30)
def test_a_stuck_synchronous_function_does_not_keep_livecli_from_ending(tmp_path: Path) -> None:
    """Its thread cannot be stopped: the call is answered with an error at --tool-timeout and the run ends."""
    scenario = write(tmp_path, "stuck.toml", 'name = "stuck"\n[[turns]]\ntool_call = { name = "stuck" }\n')
    tools = write(tmp_path, "tools.py", PY_TOOLS)
    with local_server(scenario=scenario) as server:
        result = tool_cli(server.endpoint(), tmp_path, "--tools", tools, "--tool-timeout", "0.3", "--json")
    assert result.of_type("tool_response")[0]["error"].startswith("no answer within 0.3 s")


def test_a_command_past_tool_timeout_is_killed_and_answered_with_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid_file = tmp_path / "pid"
    monkeypatch.setenv("PID_FILE", str(pid_file))
    scenario = write(tmp_path, "sleeper.toml", 'name = "sleeper"\n[[turns]]\ntool_call = { name = "sleeper" }\n')
    args = ["--tools", declarations(tmp_path), "--tool-exec", command(tmp_path), "--tool-timeout", "2", "--json"]
    with local_server(scenario=scenario) as server:
        result = tool_cli(server.endpoint(), tmp_path, *args)
    assert result.of_type("tool_response")[0]["error"].startswith("no answer within 2 s (--tool-timeout)")
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_a_cancelled_call_kills_the_command_and_sends_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server calls `sleeper`, waits until the command runs, withdraws the call and replies: nothing is sent
    for the id, and the command's process is gone."""
    pid_file = tmp_path / "pid"
    monkeypatch.setenv("PID_FILE", str(pid_file))
    received: list[str] = []

    def handle(ws: Any) -> None:
        ws.recv()
        ws.send(b'{"setupComplete": {}}')
        while "activityEnd" not in (message := str(ws.recv())):
            received.append(message)
        ws.send(json.dumps({"toolCall": {"functionCalls": [{"id": "c1", "name": "sleeper", "args": {}}]}}))
        deadline = time.monotonic() + 20
        while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
            time.sleep(0.02)
        ws.send(json.dumps({"toolCallCancellation": {"ids": ["c1"]}}))
        ws.send(sm.audio_content(b"\x00\x01" * 2400))
        ws.send(sm.turn_complete())
        try:
            while True:
                received.append(str(ws.recv()))
        except Exception:
            return

    with ws_server_thread(handle) as url:
        result = tool_cli(
            url, tmp_path, "--tools", declarations(tmp_path), "--tool-exec", command(tmp_path), "--json"
        )
    pid = int(pid_file.read_text())
    [response] = result.of_type("tool_response")
    assert response["cancelled"] is True
    assert result.of_type("tool_call_cancellation")[0]["ids"] == ["c1"]
    assert not any("toolResponse" in message for message in received)
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _alive(pid)


def test_the_api_key_never_appears_in_tool_output(live_server: LocalServer, tmp_path: Path) -> None:
    """The command echoes the key (from its environment) in its answer: the server's transcript, the
    tool_response event and the stderr lines all show it masked."""
    env = {"GEMINI_API_KEY": SECRET}
    args = ["--tools", declarations(tmp_path), "--tool-exec", command(tmp_path)]
    result = tool_cli(live_server.endpoint("tool-call"), tmp_path, *args, "--json", env=env)
    assert SECRET not in result.stdout
    assert SECRET not in result.stderr
    assert result.of_type("tool_response")[0]["response"]["key"] == "***"
    shown = tool_cli(live_server.endpoint("tool-call"), tmp_path, *args, "-v", env=env)
    assert SECRET not in shown.stderr
    assert SECRET not in shown.stdout
    assert "tool lookup (id " in shown.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tools", "{decls}"], "--tools FILE.json declares functions with no handler: add --tool-exec CMD"),
        (["--tool-exec", "true"], "--tool-exec runs the functions of --tools FILE.json"),
        (
            ["--tools", "{decls}", "--tools", "{decls}", "--tool-exec", "true"],
            "the function lookup is declared by",
        ),
        (["--tools", "{bad}"], "importing it failed: ZeroDivisionError: division by zero"),
        (["--tools", "{decls}", "--tool-exec", "no-such-command-x"], "no-such-command-x is not found on PATH"),
        (["--tools", "{txt}"], "give a Python module (.py) or function declarations (.json)"),
    ],
)
def test_bad_tool_options_are_one_line_and_exit_2_before_connecting(
    tmp_path: Path, args: list[str], message: str
) -> None:
    """The endpoint is a closed port: had livecli connected, it would exit 4."""
    paths = {
        "decls": declarations(tmp_path),
        "bad": write(tmp_path, "bad.py", "1 / 0\n"),
        "txt": write(tmp_path, "tools.txt", ""),
    }
    filled = [arg.format(**paths) for arg in args]
    result = tool_cli("ws://127.0.0.1:9", tmp_path, *filled, expect=2)
    lines = [line for line in result.stderr.splitlines() if line.startswith("livecli:")]
    assert len(lines) == 1
    assert message in lines[0]
    assert "connecting" not in result.stderr


def test_dry_run_shows_the_declarations(tmp_path: Path) -> None:
    tools = write(tmp_path, "tools.py", PY_TOOLS)
    result = run_cli("text", "hi", "--local", "--dry-run", "--json", "--tools", tools)
    setup = result.json_lines[0]["setup"]["setup"]
    names = [d["name"] for d in setup["tools"][0]["functionDeclarations"]]
    assert names == ["get_weather", "slow_lookup", "pause", "stuck"]
