"""The report's summary: counts by status, the pass rate, nearest-rank p50/p90/p99 over every measured turn."""

from __future__ import annotations

from pathlib import Path

from report_helpers import record, write_results

from livecli.commands.report.results_reader import read_results_file
from livecli.commands.report.stats import summarize


def _with_ttfb(case_id: str, ttfb_s: float | None, status: str = "pass") -> dict[str, object]:
    turn = {"metrics": {"ttfb_s": ttfb_s, "ttfa_s": None, "turn_complete_s": 1.0}}
    return record(case_id, status, inputs=[{"kind": "text", "source": "x", "turns": [turn]}])


def test_counts_and_pass_rate(tmp_path: Path) -> None:
    path = write_results(tmp_path / "r.jsonl", record("a"), record("b"), record("c", "fail"), record("d", "error"))
    summary = summarize(read_results_file(str(path)))
    assert summary.by_status == {"pass": 2, "fail": 1, "error": 1}
    assert summary.pass_rate == 0.5
    assert summary.cases == 4


def test_percentiles_are_nearest_rank_values_of_real_turns(tmp_path: Path) -> None:
    records = [_with_ttfb(f"c{n}", n / 1000) for n in range(1, 101)]  # 1..100 ms
    summary = summarize(read_results_file(str(write_results(tmp_path / "r.jsonl", *records))))
    ttfb = summary.latencies[0]
    assert ttfb.name == "TTFB"
    assert ttfb.count == 100
    assert ttfb.percentiles_ms == (50.0, 90.0, 99.0)


def test_unmeasured_turns_are_left_out_and_an_unmeasured_latency_has_no_percentile(tmp_path: Path) -> None:
    path = write_results(tmp_path / "r.jsonl", _with_ttfb("a", 0.2), _with_ttfb("b", None))
    summary = summarize(read_results_file(str(path)))
    assert summary.latencies[0].percentiles_ms == (200.0, 200.0, 200.0)
    assert summary.latencies[1].name == "TTFA"
    assert summary.latencies[1].percentiles_ms == (None, None, None)
    assert summary.turns == 2


def test_an_empty_suite_has_no_pass_rate() -> None:
    summary = summarize([])
    assert summary.pass_rate is None
    assert summary.cases == 0
