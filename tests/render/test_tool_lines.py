"""How a function call's end is shown: duration, size, a short escaped result, errors and cancellations."""

from __future__ import annotations

import io
import json

from livecli.protocol.report import ToolOutcome
from livecli.render.console import RichRenderer
from livecli.render.json_lines import JsonLinesRenderer


def shown(outcome: ToolOutcome, verbosity: int = 0) -> str:
    out = io.StringIO()
    RichRenderer(out, is_tty=False, verbosity=verbosity).tool_finished(outcome)
    return out.getvalue()


def test_an_answer_shows_its_duration_size_and_result() -> None:
    line = shown(ToolOutcome("c1", "lookup", 0.012, '{"result":"sunny"}', scheduling="WHEN_IDLE"))
    assert (
        line == '  tool lookup (id c1): answered in 12 ms (18 bytes, scheduling WHEN_IDLE): {"result":"sunny"}\n'
    )


def test_a_long_result_is_cut_unless_verbose() -> None:
    long = json.dumps({"result": "x" * 500})
    assert len(shown(ToolOutcome("c1", "f", 1.5, long))) < 200
    assert long in shown(ToolOutcome("c1", "f", 1.5, long), verbosity=1)


def test_errors_and_cancellations_say_so() -> None:
    assert shown(ToolOutcome("c1", "f", 2.0, '{"error":"down"}', error="down")) == (
        "  tool f (id c1): error after 2.00 s: down\n"
    )
    assert shown(ToolOutcome("c2", "f", 0.5, "", cancelled="toolCallCancellation")) == (
        "  tool f (id c2): cancelled after 500 ms (toolCallCancellation); nothing sent\n"
    )


def test_tool_text_reaches_the_terminal_escaped() -> None:
    evil = "\x1b[31mred\x1b]0;title\x07"
    line = shown(ToolOutcome("c\x1b1", "f", 0.1, json.dumps({"r": evil}, ensure_ascii=False), error=None))
    assert "\x1b" not in line
    assert "\x07" not in line
    assert "\\x1b" in line


def test_json_lines_carry_the_outcome() -> None:
    out = io.BytesIO()
    JsonLinesRenderer(out, lambda: 0.0).tool_finished(
        ToolOutcome("c1", "f", 0.1234, "", cancelled="the connection closed")
    )
    record = json.loads(out.getvalue())
    assert record == {
        "type": "tool_response",
        "t": 0.0,
        "id": "c1",
        "name": "f",
        "duration_s": 0.123,
        "bytes": 0,
        "error": None,
        "cancelled": True,
        "scheduling": None,
        "response": None,
    }
