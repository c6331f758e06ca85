"""The report's HTML: everything from the results escaped (a hostile transcript stays text), charts as SVG data
images drawn by matplotlib with text as paths, audio linked relative to the report or embedded, a missing file
said, nothing loaded from anywhere."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from helpers import dev_only
from report_helpers import HOSTILE, record, run_suite, write_results

from livecli.commands.report.results_reader import read_suite

dev_only("jinja2")  # the report extra: absent only under `make test-min`
dev_only("matplotlib")

from livecli.commands.report.charts import timeline_rows  # noqa: E402
from livecli.commands.report.html import render_report  # noqa: E402


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One batch run for the module: its output directory."""
    return run_suite(tmp_path_factory.mktemp("suite"))


@pytest.fixture(scope="module")
def linked(out: Path) -> tuple[str, list[str]]:
    """The report of `out`, written beside it (audio linked), and the warnings it gave."""
    return _render(out.parent, str(out))


def _render(tmp_path: Path, *arguments: str, embed_audio: bool = False) -> tuple[str, list[str]]:
    warnings: list[str] = []
    page = render_report(
        read_suite(list(arguments)),
        str(tmp_path / "report.html"),
        embed_audio=embed_audio,
        title="t",
        warn=warnings.append,
    )
    return page, warnings


def _svgs(page: str) -> list[str]:
    return [
        base64.b64decode(data).decode() for data in re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', page)
    ]


def test_a_hostile_transcript_is_escaped_everywhere(linked: tuple[str, list[str]]) -> None:
    page, _ = linked
    assert "<script>window.__pwned" not in page
    assert "<img src=x" not in page
    escaped = str(dev_only("markupsafe").escape(HOSTILE))  # Jinja2's own escaping
    assert page.count(escaped) >= 3  # shown as text: the prompt, the transcripts, the failure
    assert page.count("<script>") == 1  # the table's own sorting script


def test_control_characters_and_bidi_overrides_are_shown_as_escapes(tmp_path: Path) -> None:
    turn = {"input_transcript": "\x1b[31mred\u202eevil", "output_transcript": "ok\x07"}
    sneaky = record("sneaky", inputs=[{"kind": "text", "source": "hi", "turns": [turn]}])
    page, _ = _render(tmp_path, str(write_results(tmp_path / "results.jsonl", sneaky)))
    assert "\x1b" not in page
    assert "\u202e" not in page
    assert "\x07" not in page
    assert "heard: \\x1b[31mred\\u202eevil" in page
    assert "said: ok\\x07" in page


def test_tool_calls_and_how_a_turn_ended_are_shown(tmp_path: Path) -> None:
    turn = {"end": "interrupted", "tool_calls": [{"name": "get_weather", "args": {"city": "<Paris>"}}]}
    case = record("tool", inputs=[{"kind": "text", "source": "weather?", "turns": [turn]}])
    page, _ = _render(tmp_path, str(write_results(tmp_path / "results.jsonl", case)))
    assert "turn 1 (interrupted):" in page
    assert "tool call: get_weather <code>{&#34;city&#34;: &#34;&lt;Paris&gt;&#34;}</code>" in page


def test_charts_are_matplotlib_svgs_with_text_as_paths(linked: tuple[str, list[str]]) -> None:
    page, _ = linked
    svgs = _svgs(page)
    assert len(svgs) == 2  # latency distributions, timeline
    for svg in svgs:
        assert "Matplotlib" in svg  # drawn by matplotlib (its generator comment), not by hand
        assert "<text" not in svg  # glyphs as paths: no font needed where it opens
        assert not re.search(r'href="(?!#)|url\((?!#)', svg)  # references only inside the SVG itself


def test_the_same_results_draw_the_same_charts(out: Path, linked: tuple[str, list[str]], tmp_path: Path) -> None:
    assert _svgs(_render(tmp_path, str(out))[0]) == _svgs(linked[0])


def test_audio_is_linked_relative_to_the_report(out: Path, linked: tuple[str, list[str]]) -> None:
    page, warnings = linked
    tmp_path = out.parent  # where the report is
    sources = re.findall(r'<audio [^>]*src="([^"]+)"', page)
    assert len(sources) == 11  # 4 audio inputs and 7 replies (the text inputs are shown as text)
    for source in sources:
        assert not source.startswith(("/", "data:"))
        assert (tmp_path / source).resolve().is_file()
    assert warnings == []


def test_embed_audio_puts_the_files_in_the_page(out: Path, tmp_path: Path) -> None:
    page, _ = _render(tmp_path, str(out), embed_audio=True)
    sources = re.findall(r'<audio [^>]*src="([^"]+)"', page)
    assert sources
    assert all(source.startswith(("data:audio/wav;base64,", "data:audio/flac;base64,")) for source in sources)
    assert base64.b64decode(sources[1].partition(",")[2])[:4] == b"RIFF"


def test_a_missing_audio_file_is_said_not_linked(tmp_path: Path) -> None:
    gone = record(
        "gone",
        inputs=[{"kind": "audio", "source": "/nowhere/in.wav", "reply": "cases/gone/turn-1.wav", "turns": []}],
    )
    page, warnings = _render(tmp_path, str(write_results(tmp_path / "out" / "results.jsonl", gone)))
    assert "missing: /nowhere/in.wav" in page
    assert "<audio" not in page
    assert len(warnings) == 2


def test_the_page_loads_nothing_from_elsewhere(linked: tuple[str, list[str]]) -> None:
    page, _ = linked
    assert "default-src 'none'" in page
    assert not re.search(r'(src|href)="(https?:)?//', page)


def test_a_suite_without_measurements_still_renders(tmp_path: Path) -> None:
    bare = {"id": "bare", "status": "error", "error": "connect failed", "inputs": []}
    page, _ = _render(tmp_path, str(write_results(tmp_path / "results.jsonl", bare)))
    assert "No turn was measured." in page
    assert "error: connect failed" in page


@pytest.mark.parametrize("case_id", ["$x^2$ and $", "日本語-ケース", "a" * 80])
def test_any_case_id_draws(tmp_path: Path, case_id: str) -> None:
    page, _ = _render(tmp_path, str(write_results(tmp_path / "results.jsonl", record(case_id))))
    assert len(_svgs(page)) == 2


def test_past_60_turns_the_timeline_keeps_the_slowest(tmp_path: Path) -> None:
    records = []
    for n in range(70):
        case = record(f"case-{n}", position=n)
        case["inputs"][0]["turns"][0]["metrics"]["turn_complete_s"] = (n * 37 % 70) + 2  # slowest: 10..69 rotated
        records.append(case)
    path = write_results(tmp_path / "results.jsonl", *records)
    rows, left_out = timeline_rows(read_suite([str(path)]).cases)
    assert left_out == 10
    assert [
        turn.turn_complete_s for _, turn in rows if turn.turn_complete_s is not None and turn.turn_complete_s < 12
    ] == []
    assert [label for label, _ in rows] == sorted((label for label, _ in rows), key=lambda label: int(label[5:]))
    page, _ = _render(tmp_path, str(path))
    assert "The timeline shows the slowest turns; 10 more are in the table." in page
    assert _svgs(page)[1].count('<g id="ytick_') == 60
