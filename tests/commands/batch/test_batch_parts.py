"""The batch's parts without sessions: AIMD concurrency, JUnit escaping read back by junitparser, the argument
subset of expected tool calls, lateness percentiles, and the suite's exit-status order."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from livecli.cli.batch import suite_status
from livecli.commands.batch.expectations import args_contain
from livecli.commands.batch.junit import junit_xml, write_junit, xml_text
from livecli.commands.batch.results import lateness_summary
from livecli.commands.batch.runner import Aimd


async def test_a_quota_halves_once_per_generation_and_successes_add_back() -> None:
    limiter = Aimd(8)
    generations = [await limiter.acquire() for _ in range(8)]
    assert limiter.decrease(generations[0]) is True
    assert limiter.current == 4
    assert limiter.decrease(generations[1]) is False  # started before the decrease: no second halving
    assert limiter.current == 4
    for _ in range(8):
        limiter.release()
    later = await limiter.acquire()
    assert limiter.decrease(later) is True
    assert limiter.current == 2
    assert limiter.lowest == 2
    limiter.release()
    for _ in range(40):
        limiter.increase()
    assert limiter.current == 8  # never above --concurrency


async def test_never_below_one_and_a_waiter_gets_the_freed_slot() -> None:
    limiter = Aimd(1)
    generation = await limiter.acquire()
    assert limiter.decrease(generation) is False
    assert limiter.current == 1
    waiting = asyncio.ensure_future(limiter.acquire())
    await asyncio.sleep(0)
    assert not waiting.done()
    limiter.release()
    await asyncio.wait_for(waiting, 1)
    assert limiter.running == 1


def record(**fields: Any) -> dict[str, Any]:
    base = {"id": "c", "status": "pass", "exit_class": 0, "error": None, "failures": [], "duration_s": 0.5,
            "attempts": 1, "inputs": []}  # fmt: skip
    return {**base, **fields}


def test_junit_escapes_markup_controls_and_lone_surrogates(tmp_path: Path) -> None:
    junitparser = pytest.importorskip("junitparser")
    nasty = 'a<b>&"c"\x1b[31m\x00\ud800]]>'
    records = [
        record(id="ok", inputs=[{"kind": "text", "source": nasty, "turns": [{"output_transcript": nasty}]}]),
        record(id="f", status="fail", exit_class=5, failures=[{"message": nasty}]),
        record(id="e", status="error", exit_class=4, error=nasty),
    ]
    path = tmp_path / "j.xml"
    write_junit(str(path), records, "suite<1>")
    xml = junitparser.JUnitXml.fromfile(str(path))
    [suite] = list(xml)
    cases = {case.name: case for case in suite}
    assert suite.name == "suite<1>"
    assert cases["f"].result[0].message == 'a<b>&"c"\\x1b[31m\\x00\\ud800]]>'
    assert isinstance(cases["e"].result[0], junitparser.Error)
    assert "\\x1b[31m" in (cases["ok"].system_out or "")
    assert list(tmp_path.iterdir()) == [path]  # written through a temporary file, renamed


@given(st.text())
def test_xml_text_always_makes_a_parsable_document(text: str) -> None:
    import xml.etree.ElementTree as ET

    document = junit_xml([record(id=text or "x", status="error", exit_class=1, error=text)], text)
    root = ET.fromstring(document)
    assert root.find("testsuite/testcase/error") is not None
    assert xml_text("plain") == "plain"


@pytest.mark.parametrize(
    ("got", "wanted", "contains"),
    [
        ({"city": "Paris", "unit": "C"}, {"unit": "C"}, True),
        ({"city": "Paris"}, {"unit": "C"}, False),
        ({"where": {"city": "Paris", "zip": 1}}, {"where": {"city": "Paris"}}, True),
        ({"where": "Paris"}, {"where": {"city": "Paris"}}, False),
        ({"list": [1, 2]}, {"list": [1, 2]}, True),
        ({"list": [1, 2]}, {"list": [1]}, False),
        ({}, {}, True),
    ],
)
def test_tool_arguments_are_matched_as_a_subset(got: Any, wanted: Any, contains: bool) -> None:
    assert args_contain(got, wanted) is contains


def test_lateness_percentiles_and_histogram() -> None:
    summary = lateness_summary([0.0005] * 98 + [0.015, 0.3])
    assert summary is not None
    assert summary["messages"] == 100
    assert summary["p50"] == 0.5
    assert summary["p99"] == 15.0
    assert summary["max"] == 300.0
    assert summary["histogram"]["1"] == 98
    assert summary["histogram"]["15"] == 1
    assert summary["histogram"]["500"] == 1
    assert lateness_summary([]) is None


@pytest.mark.parametrize(
    ("classes", "status"),
    [
        ([], 0),
        ([5, 4], 4),
        ([5, 6, 4, 7], 7),
        ([5, 3, 7], 3),
        ([5, 1, 3], 1),
        ([1, 130], 130),
        ([143, 130, 1], 143),
        ([6, 5], 6),
    ],
)
def test_the_suite_status_puts_outages_before_failed_expectations(classes: list[int], status: int) -> None:
    records = [record(status="pass")] + [record(status="error", exit_class=c) for c in classes]
    assert suite_status(records) == status


def test_the_terminal_display_shows_progress_concurrency_and_what_failed() -> None:
    import io

    from livecli.commands.batch.progress import RichProgress, make_display
    from livecli.env import Env

    stderr = io.StringIO()
    env = Env(stdin=io.BytesIO(), stdout=io.BytesIO(), stderr=stderr, stderr_isatty=True)
    display = make_display(env, json=False, verbosity=0)
    assert isinstance(display, RichProgress)
    display.started(3, 2, 8)
    display.case_started("a", 1)
    display.concurrency(4, "quota")
    display.case_finished(record(id="a\x1b[2J", status="fail", exit_class=5, failures=[{"message": "too short"}]))
    display.summary({"cases": 3, "passed": 0, "failed": 1, "skipped": 1}, 5)
    shown = stderr.getvalue()
    assert "concurrency 4" in shown
    assert "FAIL a\\x1b[2J" in shown  # a case id cannot move the cursor
    assert "too short" in shown
    assert "3 cases: 1 failed, 1 skipped; exit status 5" in shown
    assert env.stdout.getvalue() == b""  # type: ignore[attr-defined]
