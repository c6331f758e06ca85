"""results.jsonl read back for the report: batch's own output, shards merged (a later file wins an id, said),
manifest order kept, a cut-short last line skipped, anything else not a results file refused in one line."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from report_helpers import HELLO, record, run_suite, write_results

from livecli.commands.report.results_reader import read_results_file, read_suite
from livecli.errors import UsageError


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One batch run for the module: its output directory."""
    return run_suite(tmp_path_factory.mktemp("suite"))


def test_a_batch_output_directory_reads_as_its_cases_in_manifest_order(out: Path) -> None:
    suite = read_suite([str(out)])
    assert [case.id for case in suite.cases] == ["hello", "two-turns", "text", "hostile", "slow", "short"]
    assert suite.replaced == []


def test_batch_results_carry_statuses_failures_and_absolute_audio_paths(out: Path) -> None:
    cases = {case.id: case for case in read_suite([str(out / "results.jsonl")]).cases}
    assert cases["hello"].status == "pass"
    assert cases["short"].status == "fail"
    assert [f.key for f in cases["short"].failures] == ["min_reply_seconds"]
    assert cases["short"].failures[0].expected == 30
    assert cases["hello"].inputs[0].source == HELLO
    reply = cases["two-turns"].inputs[1].reply
    assert reply is not None
    assert os.path.isabs(reply)
    assert os.path.isfile(reply)
    assert cases["two-turns"].turns[0].ttfb_s is not None


def test_shards_merge_and_a_later_file_wins_an_id(tmp_path: Path) -> None:
    first = write_results(
        tmp_path / "a" / "results.jsonl", record("one", position=0), record("two", "fail", position=1)
    )
    second = write_results(
        tmp_path / "b" / "results.jsonl", record("two", "pass", position=1), record("zero", position=2)
    )
    suite = read_suite([str(first), str(second)])
    assert [case.id for case in suite.cases] == ["one", "two", "zero"]
    assert {case.id: case.status for case in suite.cases}["two"] == "pass"
    assert suite.replaced == ["two"]


def test_inside_one_file_the_last_record_of_an_id_wins_unreported(tmp_path: Path) -> None:
    path = write_results(tmp_path / "results.jsonl", record("one", "error"), record("one", "pass"))
    suite = read_suite([str(path)])
    assert [case.status for case in suite.cases] == ["pass"]
    assert suite.replaced == []


def test_a_last_line_cut_short_by_a_crash_is_skipped(tmp_path: Path) -> None:
    path = write_results(tmp_path / "results.jsonl", record("one"))
    with path.open("a") as handle:
        handle.write(json.dumps(record("two"))[:40] + "\n\n")  # trailing blank lines change nothing
    assert [case.id for case in read_results_file(str(path))] == ["one"]


def test_a_file_of_one_line_that_is_not_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("just some text\n\n")
    with pytest.raises(UsageError, match=r"notes.txt:1: not a livecli results file"):
        read_results_file(str(path))


def test_a_broken_line_before_the_end_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    path.write_text("not json\n" + json.dumps(record("one")) + "\n")
    with pytest.raises(UsageError, match=r"results.jsonl:1: not a livecli results file"):
        read_results_file(str(path))


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"status": "pass"}', "no case id"),
        (json.dumps(record("x", status="maybe")), "status 'maybe'"),
        (json.dumps(record("x", schema=99)), "schema 99 is newer"),
        ("[1, 2]", "no case id"),
    ],
)
def test_records_a_report_cannot_use_are_refused(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "results.jsonl"
    path.write_text(line + "\n" + json.dumps(record("ok")) + "\n")
    with pytest.raises(UsageError, match=message):
        read_results_file(str(path))


def test_a_missing_or_binary_file_is_one_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such results file"):
        read_suite([str(tmp_path / "nothing.jsonl")])
    with pytest.raises(UsageError, match="not UTF-8"):
        read_suite([HELLO])


def test_missing_measurements_read_as_none(tmp_path: Path) -> None:
    bare = {"id": "bare", "status": "error", "inputs": [{"kind": "audio", "source": "gone.wav", "turns": [{}]}]}
    case = read_results_file(str(write_results(tmp_path / "results.jsonl", bare)))[0]
    assert case.turns[0].ttfb_s is None
    assert case.exit_class is None
    assert case.inputs[0].reply is None


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.text(max_size=60)
        | st.builds(json.dumps, st.dictionaries(st.text(max_size=8), st.integers() | st.text(max_size=8))),
        max_size=4,
    )
)
def test_any_text_reads_or_is_refused_as_a_usage_error(
    tmp_path_factory: pytest.TempPathFactory, lines: list[str]
) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "results.jsonl"
    path.write_text(
        "\n".join(line.replace("\n", " ") for line in lines) + "\n", encoding="utf-8", errors="surrogatepass"
    )
    try:
        cases = read_results_file(str(path))
    except UsageError:
        return
    assert all(case.status in ("pass", "fail", "error") for case in cases)
