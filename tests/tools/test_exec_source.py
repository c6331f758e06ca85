"""--tool-exec: a real subprocess per call; its stdout JSON is the answer, anything else an error saying why,
and a cancelled call kills the command's whole process group."""

from __future__ import annotations

import asyncio
import re
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from livecli.errors import UsageError
from livecli.tools.base import ToolFailed
from livecli.tools.exec_source import MAX_STDOUT_BYTES, ExecSource

# The tool command the tests run: it does what the function name says.
TOOL = textwrap.dedent(
    """
    import json, os, subprocess, sys, time
    call = json.load(sys.stdin)
    name, args = call["name"], call["args"]
    if name == "echo":
        print(json.dumps({"call": call, "env_name": os.environ["LIVECLI_TOOL_NAME"]}))
    elif name == "plain":
        print(json.dumps(args["value"]))
    elif name == "fail":
        print("first line", file=sys.stderr)
        print("the backend is down", file=sys.stderr)
        sys.exit(3)
    elif name == "garbage":
        print("this is not json")
    elif name == "silent":
        pass
    elif name == "flood":
        sys.stdout.write("x" * (args["bytes"]))
    elif name == "chatty":
        print("working on it", file=sys.stderr)
        print("{}")
    elif name == "sleep":
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        with open(args["pids"], "w") as handle:
            handle.write(f"{os.getpid()} {child.pid}")
        time.sleep(60)
    """
)


def alive(pid: int) -> bool:
    """Whether a process runs (a zombie left for a parent that is gone does not count)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def source(tmp_path: Path, **kw: Any) -> ExecSource:
    script = tmp_path / "tool.py"
    script.write_text(TOOL)
    return ExecSource(f"{sys.executable} {script}", [], environ={"PATH": "/usr/bin:/bin"}, **kw)


async def test_the_call_arrives_as_json_on_stdin_and_stdout_json_is_the_response(tmp_path: Path) -> None:
    response = await source(tmp_path).call("echo", {"city": "Zürich"}, call_id="c7")
    assert response == {"call": {"id": "c7", "name": "echo", "args": {"city": "Zürich"}}, "env_name": "echo"}


async def test_json_that_is_not_an_object_answers_result(tmp_path: Path) -> None:
    assert await source(tmp_path).call("plain", {"value": [1, 2]}, call_id="c1") == {"result": [1, 2]}


async def test_a_non_zero_exit_is_an_error_with_its_status_and_last_stderr_line(tmp_path: Path) -> None:
    seen: list[tuple[str, str, str]] = []
    with pytest.raises(ToolFailed) as caught:
        await source(tmp_path, on_stderr=lambda *a: seen.append(a)).call("fail", {}, call_id="c1")
    assert str(caught.value) == "the command exited with status 3 (the backend is down)"
    assert seen == [("fail", "c1", "first line\nthe backend is down\n")]


async def test_stdout_that_is_not_json_is_an_error_quoting_its_start(tmp_path: Path) -> None:
    with pytest.raises(ToolFailed, match=re.escape("it began 'this is not json\\n'")):
        await source(tmp_path).call("garbage", {}, call_id="c1")


async def test_no_output_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ToolFailed, match="wrote nothing on stdout"):
        await source(tmp_path).call("silent", {}, call_id="c1")


async def test_output_past_the_cap_is_an_error_not_memory(tmp_path: Path) -> None:
    with pytest.raises(ToolFailed, match="more than 4 MiB"):
        await source(tmp_path).call("flood", {"bytes": MAX_STDOUT_BYTES + 10}, call_id="c1")


async def test_stderr_of_a_successful_call_is_passed_on(tmp_path: Path) -> None:
    seen: list[tuple[str, str, str]] = []
    assert await source(tmp_path, on_stderr=lambda *a: seen.append(a)).call("chatty", {}, call_id="c2") == {}
    assert seen == [("chatty", "c2", "working on it\n")]


async def test_cancelling_a_call_kills_its_process_group(tmp_path: Path) -> None:
    pids_file = tmp_path / "pids"
    task = asyncio.create_task(source(tmp_path).call("sleep", {"pids": str(pids_file)}, call_id="c1"))
    async with asyncio.timeout(20):
        while not pids_file.exists() or not pids_file.read_text():
            await asyncio.sleep(0.02)
    pids = [int(pid) for pid in pids_file.read_text().split()]
    assert all(alive(pid) for pid in pids)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with asyncio.timeout(10):  # the grandchild is reaped by whoever adopted it
        while any(alive(pid) for pid in pids):
            await asyncio.sleep(0.02)
    assert not any(alive(pid) for pid in pids)


async def test_a_command_that_cannot_be_found_is_a_usage_error_before_any_call(tmp_path: Path) -> None:
    missing = ExecSource("no-such-tool-command --flag", [], environ={"PATH": str(tmp_path)})
    with pytest.raises(UsageError, match="--tool-exec: no-such-tool-command is not found on PATH"):
        await missing.start()


@pytest.mark.parametrize(("command", "message"), [("", "the command is empty"), ("tool 'open", "quotation")])
def test_a_command_that_does_not_split_is_a_usage_error(command: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        ExecSource(command, [], environ={})


async def test_declarations_are_the_ones_given(tmp_path: Path) -> None:
    decls = [{"name": "echo"}]
    assert ExecSource("true", decls, environ={}).declarations() == decls
