"""--mcp / --mcp-url end to end: livecli starts a real MCP server (tests/tools/mcp_demo_server.py), declares its
tools, the local server calls the ones a turn names, and its reply quotes what the MCP server answered; a server
that does not start, a missing extra, and no secret in anything shown or handed to the server."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import LocalServer, dev_only, mcp_demo_command, mcp_http_demo, run_cli

dev_only("mcp")

SECRET = "AIzaSyMCPSECRET0123456789abcdefghijklmn"


def test_mcp_tools_round_trip_through_the_local_server(live_server: LocalServer) -> None:
    result = run_cli(
        "text",
        "call add a=2 b=40 then fail and env_names",
        "--endpoint",
        live_server.endpoint(),
        "--mcp",
        mcp_demo_command(),
        "--json",
        "--timeout",
        "20",
        env={"GEMINI_API_KEY": SECRET},
    )
    responses = {event["name"]: event for event in result.of_type("tool_response")}
    assert sorted(responses) == ["add", "env_names", "fail"]
    assert responses["add"]["response"] == {"result": 42}
    assert responses["add"]["error"] is None
    assert "failed on purpose" in responses["fail"]["error"]
    transcript = result.of_type("turn_complete")[0]["output_transcript"]
    assert 'add returned {"result":42}' in transcript
    server_environment = responses["env_names"]["response"]["result"]
    assert "PATH" in server_environment
    assert "GEMINI_API_KEY" not in server_environment  # livecli's credentials are not handed to the server
    assert SECRET not in result.stdout
    assert SECRET not in result.stderr


def test_the_declarations_reach_the_setup() -> None:
    result = run_cli("text", "hi", "--local", "--mcp", mcp_demo_command(), "--dry-run")
    lines = result.stdout.splitlines()
    setup = json.loads(lines[lines.index("setup (sent as the first frame):") + 1])["setup"]
    [tool] = [t for t in setup["tools"] if "functionDeclarations" in t]
    add = next(d for d in tool["functionDeclarations"] if d["name"] == "add")
    assert add["parameters"]["properties"] == {"a": {"type": "INTEGER"}, "b": {"type": "INTEGER"}}


def test_a_call_past_the_tool_timeout_is_cancelled_on_the_mcp_server(
    live_server: LocalServer, tmp_path: Path
) -> None:
    result = run_cli(
        "text",
        "call slow seconds=60",
        "--endpoint",
        live_server.endpoint(),
        "--mcp",
        mcp_demo_command("--marker-dir", str(tmp_path)),
        "--tool-timeout",
        "0.5",
        "--json",
        "--timeout",
        "20",
    )
    [response] = result.of_type("tool_response")
    assert response["name"] == "slow"
    assert "--tool-timeout" in response["error"]
    assert (tmp_path / "slow-started").exists()
    assert (tmp_path / "slow-cancelled").exists()  # the tool stopped on the server: nothing is left running


@pytest.fixture(scope="module")
def http_demo() -> Iterator[str]:
    with mcp_http_demo() as url:
        yield url


def test_an_mcp_server_over_http_round_trip(live_server: LocalServer, http_demo: str) -> None:
    result = run_cli(
        "text",
        "call text.upper please",
        "--endpoint",
        live_server.endpoint(),
        "--mcp-url",
        http_demo,
        "--json",
        "--timeout",
        "20",
    )
    [response] = result.of_type("tool_response")
    assert response["name"] == "text.upper"
    assert response["response"] == {"result": "CALL TEXT.UPPER PLEASE"}


def test_a_server_that_does_not_start_is_one_line_before_connecting() -> None:
    result = run_cli("text", "hi", "--local", "--mcp", mcp_demo_command("--fail-at-start"), expect=2)
    [line] = result.stderr.strip().splitlines()
    assert "the MCP server did not start" in line
    assert "(stderr: demo server: cannot open its database (on purpose))" in line


def test_a_missing_mcp_extra_names_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "mcp.client.client", None)
    result = run_cli("text", "hi", "--local", "--mcp", mcp_demo_command(), expect=2)
    assert "pip install 'livecli[mcp]'" in result.stderr
    assert "--mcp needs the optional mcp extra" in result.stderr
