"""The report's summary: counts by status, the pass rate, and latency percentiles over every turn of the suite.

Percentiles are nearest-rank (the value of a real turn, never an interpolation between two), the same rule
batch's send-lateness summary uses, so a p99 is always a latency some turn really had.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from livecli.commands.batch.results import percentile
from livecli.commands.report.results_reader import STATUSES, CaseResult, TurnResult

__all__ = ["LATENCIES", "PERCENTILES", "LatencyStats", "Summary", "summarize"]

PERCENTILES = (0.50, 0.90, 0.99)

# The latencies the report summarizes and charts: a label, and how to read it from a turn (seconds).
LATENCIES: tuple[tuple[str, Callable[[TurnResult], float | None]], ...] = (
    ("TTFB", lambda turn: turn.ttfb_s),
    ("TTFA", lambda turn: turn.ttfa_s),
    ("turn time", lambda turn: turn.turn_complete_s),
)


@dataclass(frozen=True)
class LatencyStats:
    """One latency over the turns that have it, in milliseconds: p50, p90, p99 (None without a sample)."""

    name: str
    samples_ms: tuple[float, ...]
    percentiles_ms: tuple[float | None, ...]

    @property
    def count(self) -> int:
        return len(self.samples_ms)


@dataclass(frozen=True)
class Summary:
    cases: int
    by_status: dict[str, int]
    pass_rate: float | None  # passed / cases; None for an empty suite
    turns: int
    latencies: tuple[LatencyStats, ...]


def summarize(cases: Sequence[CaseResult]) -> Summary:
    by_status = dict.fromkeys(STATUSES, 0)
    for case in cases:
        by_status[case.status] += 1
    turns = [turn for case in cases for turn in case.turns]
    return Summary(
        cases=len(cases),
        by_status=by_status,
        pass_rate=by_status["pass"] / len(cases) if cases else None,
        turns=len(turns),
        latencies=tuple(latency_stats(name, read, turns) for name, read in LATENCIES),
    )


def latency_stats(
    name: str, read: Callable[[TurnResult], float | None], turns: Sequence[TurnResult]
) -> LatencyStats:
    samples = sorted(value * 1000 for turn in turns if (value := read(turn)) is not None)
    return LatencyStats(
        name=name,
        samples_ms=tuple(samples),
        percentiles_ms=tuple(percentile(samples, p) if samples else None for p in PERCENTILES),
    )
