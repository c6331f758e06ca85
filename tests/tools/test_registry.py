"""The registry: one owner per function name, calls routed to it, sources closed even when one fails."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from livecli.errors import UsageError
from livecli.tools.exec_source import ExecSource
from livecli.tools.python_source import PythonSource
from livecli.tools.registry import ToolRegistry


class Recorded:
    """A source that records what happens to it."""

    def __init__(self, label: str, names: list[str], fail_close: bool = False) -> None:
        self.label = label
        self.names = names
        self.fail_close = fail_close
        self.events: list[str] = []

    async def start(self) -> None:
        self.events.append("start")

    def declarations(self) -> list[dict[str, Any]]:
        return [{"name": name, "behavior": "NON_BLOCKING"} for name in self.names]

    async def call(self, name: str, args: dict[str, Any], *, call_id: str) -> dict[str, Any]:
        return {"by": self.label, "name": name, "args": args, "id": call_id}

    async def aclose(self) -> None:
        self.events.append("close")
        if self.fail_close:
            raise RuntimeError("stuck")


async def test_calls_go_to_the_source_that_declared_the_name() -> None:
    a, b = Recorded("a", ["f"]), Recorded("b", ["g", "h"])
    registry = ToolRegistry([a, b], timeout_s=5)
    await registry.start()
    assert registry.handles("g")
    assert not registry.handles("nope")
    assert await registry.call("g", {"x": 1}, call_id="c1") == {
        "by": "b",
        "name": "g",
        "args": {"x": 1},
        "id": "c1",
    }
    assert [d["name"] for d in registry.declarations()] == ["f", "g", "h"]


async def test_the_setup_gets_one_function_declarations_entry_with_behavior_kept() -> None:
    registry = ToolRegistry([Recorded("a", ["f"])])
    await registry.start()
    assert registry.setup_tools() == [{"functionDeclarations": [{"name": "f", "behavior": "NON_BLOCKING"}]}]


async def test_the_same_name_from_two_sources_is_a_usage_error_and_both_are_closed() -> None:
    a, b = Recorded("--tools a.py", ["f"]), Recorded("--tools b.json", ["f"])
    registry = ToolRegistry([a, b])
    with pytest.raises(
        UsageError, match=re.escape("the function f is declared by --tools a.py and by --tools b.json")
    ):
        await registry.start()
    assert a.events == ["start", "close"]
    assert b.events == ["start", "close"]


async def test_a_source_failing_to_close_is_reported_and_the_others_still_close() -> None:
    a, b = Recorded("a", ["f"]), Recorded("b", ["g"], fail_close=True)
    registry = ToolRegistry([a, b])
    await registry.start()
    assert await registry.aclose() == ["b: closing it failed: RuntimeError: stuck"]
    assert a.events == ["start", "close"]


async def test_real_sources_conflict_by_name(tmp_path: Path) -> None:
    module = tmp_path / "tools.py"
    module.write_text("def lookup(q: str) -> str:\n    return q\n")
    command = ExecSource("true", [{"name": "lookup"}], environ={"PATH": "/usr/bin:/bin"})
    with pytest.raises(
        UsageError, match=re.escape(f"lookup is declared by --tools {module} and by --tool-exec true")
    ):
        await ToolRegistry([PythonSource(str(module)), command]).start()
