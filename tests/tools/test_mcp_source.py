"""--mcp / --mcp-url: McpSource against a real MCP server (tests/tools/mcp_demo_server.py), over stdio and HTTP."""

from __future__ import annotations

import asyncio
import logging
import os
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import dev_only, mcp_demo_command, mcp_http_demo
from hypothesis import given
from hypothesis import strategies as st

from livecli.errors import ConnectError, MissingExtra, UsageError
from livecli.tools.api_schema import NAME_PATTERN
from livecli.tools.base import ToolFailed
from livecli.tools.mcp_source import McpSource, api_function_name, declare_tools, result_response

mcp_types = dev_only("mcp.types")


async def _wait_for(path: Path) -> None:
    """Until the server has written `path` (generous: the guard is against a hang, not a speed check)."""
    for _ in range(1000):
        if path.exists():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{path.name} never appeared")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_a_stdio_server_is_declared_called_cancelled_and_closed(tmp_path: Path) -> None:
    warnings: list[str] = []
    # A line that is not JSON-RPC comes first: the SDK's complaint is a warning line, not a traceback.
    noisy = shlex.join(
        ["sh", "-c", f"echo not-json; exec {mcp_demo_command('--weird-tools', '--marker-dir', str(tmp_path))}"]
    )
    source = McpSource(command=noisy, warn=warnings.append)
    await source.start()
    try:
        declarations = {d["name"]: d for d in source.declarations()}
        assert sorted(declarations) == [
            "_1st-tool_",
            "add",
            "convert",
            "env_names",
            "exit_now",
            "fail",
            "logo",
            "slow",
            "text.upper",
        ]
        assert declarations["add"]["parameters"] == {
            "type": "OBJECT",
            "properties": {"a": {"type": "INTEGER"}, "b": {"type": "INTEGER"}},
            "required": ["a", "b"],
        }
        assert declarations["add"]["description"] == "Add two integers."
        assert declarations["convert"]["parameters"]["properties"]["unit"]["enum"] == ["celsius", "fahrenheit"]
        assert "parameters" not in declarations["logo"]

        assert await source.call("add", {"a": 2, "b": 5}, call_id="c1") == {"result": 7}
        assert await source.call("text.upper", {"text": "hi"}, call_id="c2") == {"result": "HI"}
        assert await source.call("_1st-tool_", {}, call_id="c3") == {"result": "first"}  # called by its MCP name
        assert await source.call("logo", {}, call_id="c4") == {"result": "the logo\n[image image/png, 66 bytes]"}
        with pytest.raises(ToolFailed, match="failed on purpose: why"):
            await source.call("fail", {"reason": "why"}, call_id="c5")

        slow = asyncio.create_task(source.call("slow", {"seconds": 60}, call_id="c6"))
        await _wait_for(tmp_path / "slow-started")
        slow.cancel()
        with pytest.raises(asyncio.CancelledError):
            await slow
        await _wait_for(tmp_path / "slow-cancelled")  # the server was told: the request is cancelled there too
        assert await source.call("add", {"a": 1, "b": 1}, call_id="c7") == {"result": 2}

        with pytest.raises(ToolFailed) as crashed:  # a server that dies answers the call, and every later one
            await source.call("exit_now", {}, call_id="c8")
        assert "(stderr: demo server: crashing (on purpose))" in str(crashed.value)
        with pytest.raises(ToolFailed):
            await source.call("add", {"a": 1, "b": 1}, call_id="c9")
    finally:
        await source.aclose()
    await source.aclose()  # safe twice
    assert not _alive(int((tmp_path / "pid").read_text()))
    with pytest.raises(ToolFailed, match="closed"):
        await source.call("add", {"a": 1, "b": 1}, call_id="c10")
    assert len(warnings) == 2
    assert "the MCP SDK: Failed to parse JSONRPC message from server (ValidationError)" in warnings
    [left_out] = [w for w in warnings if "left out" in w]
    assert "tool 'free_form' left out" in left_out
    assert "at /properties/data" in left_out
    assert logging.getLogger("mcp").propagate  # the SDK's logger is given back


def _tool(name: str, schema: dict[str, Any] | None = None) -> Any:
    return mcp_types.Tool(name=name, input_schema=schema or {"type": "object"})


def test_two_tools_mapped_to_one_name_are_a_usage_error() -> None:
    with pytest.raises(
        UsageError, match="'1st-tool!' and '_1st-tool_' both become the function name '_1st-tool_'"
    ):
        declare_tools([_tool("1st-tool!"), _tool("_1st-tool_")], "--mcp demo", print)


def test_an_optional_parameter_that_cannot_be_said_is_left_out_with_a_warning() -> None:
    schema = {
        "type": "object",
        "properties": {"q": {"type": "string"}, "filters": {"type": "object", "additionalProperties": True}},
        "required": ["q"],
    }
    warnings: list[str] = []
    declarations, _ = declare_tools([_tool("search", schema)], "--mcp demo", warnings.append)
    assert declarations[0]["parameters"]["properties"] == {"q": {"type": "STRING"}}
    [warning] = warnings
    assert "tool 'search': optional parameter left out" in warning
    assert "at /properties/filters" in warning


def test_declared_tools_keep_their_mcp_names_for_the_calls() -> None:
    schema = {"type": "object", "properties": {"q": {"type": "string"}}}
    declarations, names = declare_tools([_tool("web search", schema), _tool("ok")], "--mcp demo", print)
    assert declarations == [
        {"name": "web_search", "parameters": {"type": "OBJECT", "properties": {"q": {"type": "STRING"}}}},
        {"name": "ok"},
    ]
    assert names == {"web_search": "web search", "ok": "ok"}


async def test_a_server_that_exits_at_start_is_a_usage_error_with_its_stderr() -> None:
    source = McpSource(command=mcp_demo_command("--fail-at-start"))
    with pytest.raises(UsageError) as caught:
        await source.start()
    await source.aclose()
    assert "the MCP server did not start" in str(caught.value)
    assert "(stderr: demo server: cannot open its database (on purpose))" in str(caught.value)


async def test_a_credential_in_the_command_is_masked_in_the_label_and_the_stderr_tail() -> None:
    command = "env LEAKY_TOKEN=tok-supersecret sh -c 'echo using $LEAKY_TOKEN >&2; exit 3'"
    source = McpSource(command=command)
    with pytest.raises(UsageError) as caught:
        await source.start()
    await source.aclose()
    assert "tok-supersecret" not in str(caught.value)
    assert "(stderr: using ...)" in str(caught.value)
    assert source.label.startswith("--mcp 'env LEAKY_TOKEN=... sh -c")


async def test_a_command_that_does_not_exist_is_one_line() -> None:
    source = McpSource(command="no-such-mcp-server-xyz --flag")
    with pytest.raises(UsageError, match="cannot run no-such-mcp-server-xyz: No such file or directory"):
        await source.start()
    await source.aclose()


@pytest.mark.parametrize(("command", "words"), [("'unbalanced", "cannot split the command"), ("  ", "is empty")])
async def test_a_command_that_cannot_be_split_is_a_usage_error(command: str, words: str) -> None:
    with pytest.raises(UsageError, match=words):
        await McpSource(command=command).start()


async def test_a_server_that_never_answers_times_out_and_is_stopped(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    silent = f"import os, sys; open({str(pid_file)!r}, 'w').write(str(os.getpid())); sys.stdin.read()"
    source = McpSource(command=shlex.join([sys.executable, "-c", silent]), start_timeout_s=0.5)
    with pytest.raises(UsageError, match=r"did not start: no answer within 0.5 s"):
        await source.start()
    await source.aclose()
    assert not _alive(int(pid_file.read_text()))


async def test_a_missing_extra_names_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "mcp.client.client", None)
    with pytest.raises(
        MissingExtra, match=r"--mcp-url needs the optional mcp extra.*pip install 'livecli\[mcp\]'"
    ):
        await McpSource(url="http://127.0.0.1:9/mcp").start()


@pytest.fixture(scope="module")
def http_demo() -> Iterator[str]:
    with mcp_http_demo() as url:
        yield url


async def test_a_streamable_http_server_is_declared_and_called(http_demo: str) -> None:
    source = McpSource(url=http_demo)
    await source.start()
    try:
        assert "add" in [d["name"] for d in source.declarations()]
        assert await source.call("add", {"a": 20, "b": 22}, call_id="c1") == {"result": 42}
    finally:
        await source.aclose()
    await source.aclose()


async def test_an_http_server_that_cannot_be_reached_is_a_connect_error_without_credentials(
    http_demo: str,
) -> None:
    url = http_demo.replace("127.0.0.1", "user:s3cret@127.0.0.1").replace("/mcp", "/nowhere?key=QUERYSECRET")
    source = McpSource(url=url)
    with pytest.raises(ConnectError) as caught:
        await source.start()
    await source.aclose()
    assert "the MCP server did not answer" in str(caught.value)
    assert "s3cret" not in str(caught.value)
    assert "QUERYSECRET" not in str(caught.value)
    assert source.label.endswith("/nowhere?...")


@pytest.mark.parametrize("url", ["ftp://example.com/mcp", "127.0.0.1:8000/mcp", "http://"])
async def test_a_url_that_is_not_http_is_a_usage_error(url: str) -> None:
    with pytest.raises(UsageError, match="not an http:// or https:// URL"):
        await McpSource(url=url).start()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("add", "add"),
        ("text.upper", "text.upper"),
        ("get weather!", "get_weather_"),
        ("1st", "_1st"),
        ("-x", "_-x"),
        ("", "_"),
        ("名前", "__"),
    ],
)
def test_function_names_are_mapped_to_what_the_api_takes(name: str, expected: str) -> None:
    assert api_function_name(name) == expected


@given(st.text(max_size=100))
def test_every_name_maps_to_one_the_api_takes_and_valid_names_stay(name: str) -> None:
    mapped = api_function_name(name)
    assert NAME_PATTERN.fullmatch(mapped)
    assert api_function_name(mapped) == mapped


def test_long_names_keep_their_start_and_stay_apart() -> None:
    first = api_function_name("x" * 80 + "a")
    second = api_function_name("x" * 80 + "b")
    assert NAME_PATTERN.fullmatch(first)
    assert first != second
    assert first.startswith("x" * 50)


def _result(*content: Any, structured: Any = None, is_error: bool = False) -> Any:
    return mcp_types.CallToolResult(content=list(content), structured_content=structured, is_error=is_error)


def test_results_become_function_responses() -> None:
    text = mcp_types.TextContent(type="text", text="hello")
    assert result_response(_result(text), "f") == {"result": "hello"}
    assert result_response(_result(text, structured={"n": 1}), "f") == {"n": 1}
    assert result_response(_result(text, structured=[1, 2]), "f") == {"result": [1, 2]}
    assert result_response(_result(), "f") == {"result": ""}


def test_resources_and_audio_are_summarised() -> None:
    audio = mcp_types.AudioContent(type="audio", data="AAAA", mime_type="audio/wav")
    link = mcp_types.ResourceLink(type="resource_link", uri="file:///a.txt", name="a")
    embedded_text = mcp_types.EmbeddedResource(
        type="resource", resource=mcp_types.TextResourceContents(uri="file:///b.txt", text="inside b")
    )
    embedded_blob = mcp_types.EmbeddedResource(
        type="resource",
        resource=mcp_types.BlobResourceContents(uri="file:///c.bin", blob="AAAAAA==", mime_type="x/y"),
    )
    response = result_response(_result(audio, link, embedded_text, embedded_blob), "f")
    assert response["result"].splitlines() == [
        "[audio audio/wav, 3 bytes]",
        "[resource file:///a.txt]",
        "inside b",
        "[resource file:///c.bin x/y, 4 bytes]",
    ]


def test_an_error_result_is_a_tool_failure_with_its_text() -> None:
    with pytest.raises(ToolFailed, match=r"^no such city$"):
        result_response(_result(mcp_types.TextContent(type="text", text="no such city"), is_error=True), "f")
