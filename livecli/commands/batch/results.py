"""results.jsonl: one JSON object per case, appended as each case ends (docs/batch.md, "results.jsonl").

Appending line by line means a crash loses only the cases that were running; `--skip-done` reads the file back
(the last record of an id wins) and runs again only what did not pass or fail. Every text that came from a
server is masked of the run's secrets; reply paths are relative to the output directory, so the directory can
be moved or archived whole (a report built from it finds the audio).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from livecli.errors import OutputError
from livecli.protocol.redact import redact
from livecli.render.json_lines import terminal_safe_json

if TYPE_CHECKING:
    from livecli.commands.batch.case import CaseRun
    from livecli.protocol.report import TurnReport
    from livecli.protocol.turns import Turn

__all__ = [
    "RESULTS_NAME",
    "SCHEMA_VERSION",
    "ResultsFile",
    "case_record",
    "lateness_summary",
    "percentile",
    "read_results",
]

RESULTS_NAME = "results.jsonl"
SCHEMA_VERSION = 1
DONE = ("pass", "fail")  # what --skip-done skips; an error runs again
# Upper bounds (ms) of the send-lateness histogram: shards' histograms add up, so a report or the scale bench
# gets the suite's percentiles without every sample.
LATENESS_BUCKETS_MS = (1, 2, 3, 5, 7, 10, 15, 20, 30, 50, 100, 200, 500, 1000)


def read_results(out_dir: str) -> dict[str, dict[str, Any]]:
    """The last record of each case id in `out_dir`'s results.jsonl (none when there is no file); a line cut
    short by a crash is skipped."""
    path = os.path.join(out_dir, RESULTS_NAME)
    records: dict[str, dict[str, Any]] = {}
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(record, dict) and isinstance(record.get("id"), str):
                    records[record["id"]] = record
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise OutputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return records


class ResultsFile:
    """results.jsonl, opened for appending (`keep`: --skip-done) or started afresh."""

    def __init__(self, out_dir: str, *, keep: bool) -> None:
        self.path = os.path.join(out_dir, RESULTS_NAME)
        try:
            os.makedirs(out_dir, exist_ok=True)
            self._handle = open(self.path, "a" if keep else "w", encoding="utf-8")  # noqa: SIM115 (closed in close)
        except OSError as exc:
            raise OutputError(f"{self.path}: cannot write: {exc.strerror or exc}") from None

    def append(self, record: dict[str, Any]) -> None:
        """One record as one line, flushed: a crash after this keeps it."""
        try:
            self._handle.write(terminal_safe_json(record) + "\n")
            self._handle.flush()
        except OSError as exc:  # a full disk: the suite cannot keep its results, so it stops
            raise OutputError(f"{self.path}: cannot write: {exc.strerror or exc}") from None

    def close(self) -> None:
        try:
            self._handle.close()
        except OSError as exc:
            raise OutputError(f"{self.path}: cannot write: {exc.strerror or exc}") from None


def case_record(run: CaseRun, out_dir: str) -> dict[str, Any]:
    """The results.jsonl object of a finished case (docs/batch.md, "results.jsonl")."""
    from livecli.commands.batch.case import case_inputs

    secrets = run.state.secrets
    recorder = run.recorder
    reports = {id(r.turn): r for r in recorder.reports} if recorder is not None else {}
    inputs = []
    for number, (kind, source) in enumerate(case_inputs(run.case.request), 1):
        turns = run.state.reply_turns(number)
        reply = run.reply_paths[number - 1] if number <= len(run.reply_paths) else None
        inputs.append(
            {
                "kind": kind,
                "source": redact(source, secrets) if kind == "text" else source,
                "reply": os.path.relpath(reply, out_dir) if reply else None,
                "duration_s": _seconds(recorder.input_seconds.get(number) if recorder is not None else None),
                "turns": [_turn(turn, reports.get(id(turn)), secrets) for turn in turns],
            }
        )
    return {
        "schema": SCHEMA_VERSION,
        "id": run.case.id,
        "position": run.case.position,
        "where": run.case.where,
        "status": run.status,
        "exit_class": run.exit_class,
        "error": run.error,
        "failures": [_redacted(failure.record(), secrets) for failure in run.failures],
        "attempts": run.attempt,
        "started_s": round(run.started_s, 3),
        "duration_s": round(run.duration_s, 3),
        "inputs": inputs,
        "usage": _usage_total(
            turn for number in range(1, len(inputs) + 1) for turn in run.state.reply_turns(number)
        ),
        "send_lateness_ms": lateness_summary(recorder.lateness_s if recorder is not None else []),
        "warnings": [redact(w, secrets) for w in (recorder.warnings if recorder is not None else [])],
    }


def _turn(turn: Turn, report: TurnReport | None, secrets: Sequence[str]) -> dict[str, Any]:
    usage = turn.usage
    return {
        "index": turn.index,
        "end": turn.end,
        "input_transcript": redact(turn.input_transcript, secrets),
        "output_transcript": redact(turn.output_transcript, secrets),
        "text": redact(turn.text, secrets),
        "reply_seconds": round(turn.audio_duration_s, 3),
        "level_dbfs": _finite(report.level_dbfs) if report is not None else None,
        "metrics": report.metrics.fields() if report is not None and report.metrics is not None else None,
        "usage": None
        if usage is None
        else {
            "prompt_tokens": usage.prompt_tokens,
            "response_tokens": usage.response_tokens,
            "total_tokens": usage.total_tokens,
        },
        "tool_calls": [_redacted({"name": c.name, "args": c.args}, secrets) for c in turn.tool_calls],
    }


def _usage_total(turns: Iterable[Turn]) -> dict[str, int]:
    total = {"prompt_tokens": 0, "response_tokens": 0, "total_tokens": 0}
    for turn in turns:
        if turn.usage is not None:
            for key in total:
                total[key] += getattr(turn.usage, key) or 0
    return total


def lateness_summary(lateness_s: Sequence[float]) -> dict[str, Any] | None:
    """Count, p50, p99, max (ms) and the histogram of LATENESS_BUCKETS_MS ("inf": above the last); None when
    nothing was paced."""
    if not lateness_s:
        return None
    ordered = sorted(value * 1000 for value in lateness_s)
    histogram = dict.fromkeys([*(str(b) for b in LATENESS_BUCKETS_MS), "inf"], 0)
    for value in ordered:
        bucket = next((str(b) for b in LATENESS_BUCKETS_MS if value <= b), "inf")
        histogram[bucket] += 1
    return {
        "messages": len(ordered),
        "p50": round(percentile(ordered, 0.50), 2),
        "p99": round(percentile(ordered, 0.99), 2),
        "max": round(ordered[-1], 2),
        "histogram": histogram,
    }


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of sorted values."""
    rank = max(1, -(-len(ordered) * fraction // 1))
    return ordered[min(len(ordered), int(rank)) - 1]


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _finite(value: float | None) -> float | None:
    """JSON has no infinity: digital silence's -inf dBFS is written as null."""
    return None if value is None or value != value or value in (float("inf"), float("-inf")) else round(value, 1)


def _redacted(value: Any, secrets: Sequence[str]) -> Any:
    """A JSON value with each string masked of the secrets."""
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {key: _redacted(item, secrets) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(item, secrets) for item in value]
    return value
