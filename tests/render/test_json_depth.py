"""--json survives a server value nested deeper than the stack: a hostile usageMetadata ended the reader task with
RecursionError inside json.dumps (an internal error, before that a false "no reply")."""

from __future__ import annotations

import io
import json
from typing import Any

from livecli.protocol.events import Usage
from livecli.render.json_lines import JsonLinesRenderer, terminal_safe_json


def _nested(depth: int) -> list[Any]:
    """A list nested `depth` levels deep, built without recursion."""
    inner: list[Any] = []
    for _ in range(depth):
        inner = [inner]
    return inner


def test_a_record_nested_past_the_recursion_limit_is_one_line_cut_at_a_marker() -> None:
    line = terminal_safe_json({"type": "usage", "raw": {"x": _nested(100_000)}})
    record = json.loads(line)
    assert record["type"] == "usage"
    assert "nested too deeply" in line


def test_the_renderer_reports_a_deep_usage_event_without_raising() -> None:
    out = io.BytesIO()
    renderer = JsonLinesRenderer(out, clock=lambda: 0.0)
    renderer.server_event(Usage(1, 2, 3, {"promptTokenCount": 1, "x": _nested(100_000)}), None)
    (line,) = out.getvalue().decode().splitlines()
    assert json.loads(line)["prompt_tokens"] == 1


def test_records_of_ordinary_depth_are_unchanged() -> None:
    record = {"type": "usage", "raw": {"a": _nested(20)}}
    assert json.loads(terminal_safe_json(record)) == record
