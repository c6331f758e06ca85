"""The report's charts, drawn by matplotlib's SVG backend (the `report` extra), never pyplot.

Each chart is a Figure drawn on its own FigureCanvasSVG: no pyplot, no global figure manager, no Agg. The text
is drawn as paths (`svg.fonttype: path`) in the DejaVu Sans that matplotlib ships, so the SVG needs no font
installed where it is opened; math parsing is off, since case ids are text from a manifest (`$` is not
TeX); the ids inside the SVG come from a fixed salt and the date is left out, so the same results draw the
same bytes.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence
from typing import Any

from livecli.commands.report.results_reader import CaseResult, TurnResult
from livecli.commands.report.stats import PERCENTILES, LatencyStats
from livecli.extras import import_extra

__all__ = ["MAX_TIMELINE_ROWS", "latency_chart", "timeline_chart", "timeline_rows"]

NEEDED_BY = "livecli report"
MAX_TIMELINE_ROWS = 60  # past this the timeline shows the slowest turns (a chart of 300 rows reads as noise)
_RC = {
    "svg.fonttype": "path",
    "svg.hashsalt": "livecli-report",
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "text.parse_math": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
# Milestones of a turn's timeline: label, how to read it (seconds after the input ended), marker, colour.
MILESTONES: tuple[tuple[str, str, str, str], ...] = (
    ("first transcript", "first_input_transcription_s", "D", "#7b61ff"),
    ("first byte (TTFB)", "ttfb_s", "o", "#1f77b4"),
    ("first audible (TTFA)", "ttfa_s", "^", "#2ca02c"),
    ("turn complete", "turn_complete_s", "s", "#d62728"),
)


def latency_chart(latencies: Sequence[LatencyStats]) -> str | None:
    """A histogram per latency with its p50/p90/p99 marked, as SVG text; None when no turn was measured."""
    shown = [stats for stats in latencies if stats.samples_ms]
    if not shown:
        return None
    ticker = import_extra("matplotlib.ticker", needed_by=NEEDED_BY)

    def draw(figure: Any) -> None:
        axes = figure.subplots(1, len(shown), squeeze=False)[0]
        for ax, stats in zip(axes, shown, strict=True):
            ax.hist(stats.samples_ms, bins=min(30, max(5, stats.count // 3)), color="#9ecae1", edgecolor="#3182bd")
            for fraction, value, style in zip(PERCENTILES, stats.percentiles_ms, (":", "--", "-"), strict=True):
                ax.axvline(value, color="#de2d26", linestyle=style, linewidth=1, label=f"p{round(fraction * 100)}")
            ax.set_title(f"{stats.name} ({stats.count} turns)")
            ax.set_xlabel("ms after the input ended")
            ax.legend(frameon=False, fontsize=7)
        axes[0].set_ylabel("turns")
        for ax in axes:
            ax.yaxis.set_major_locator(ticker.MaxNLocator(integer=True))  # counts of turns: no 2.5

    return _svg(draw, width=3.4 * len(shown), height=2.8)


def timeline_rows(cases: Sequence[CaseResult]) -> tuple[list[tuple[str, TurnResult]], int]:
    """The timeline's rows (a label and a measured turn, in the table's order) and how many turns it leaves out:
    past MAX_TIMELINE_ROWS it keeps the slowest (by their last milestone)."""
    rows = [(_row_label(case, number), turn) for case in cases for number, turn in enumerate(case.turns, 1)]
    rows = [(label, turn) for label, turn in rows if _times(turn)]
    left_out = max(0, len(rows) - MAX_TIMELINE_ROWS)
    if left_out:
        slowest = sorted(rows, key=lambda row: max(_times(row[1])), reverse=True)[:MAX_TIMELINE_ROWS]
        kept = {id(turn) for _, turn in slowest}
        rows = [row for row in rows if id(row[1]) in kept]
    return rows, left_out


def timeline_chart(cases: Sequence[CaseResult]) -> tuple[str | None, int]:
    """Each turn from the end of its input to turn complete, its milestones marked, as SVG text (None when no
    turn was measured); and how many turns it leaves out (timeline_rows)."""
    rows, left_out = timeline_rows(cases)
    if not rows:
        return None, 0

    def draw(figure: Any) -> None:
        ax = figure.subplots()
        for y, (_, turn) in enumerate(rows):
            times = _times(turn)
            ax.hlines(y, min(0.0, *times), max(times), color="#bbbbbb", linewidth=2, zorder=1)
        for label, attr, marker, colour in MILESTONES:
            points = [
                (getattr(turn, attr) * 1000, y)
                for y, (_, turn) in enumerate(rows)
                if getattr(turn, attr) is not None
            ]
            if points:
                xs, ys = zip(*points, strict=True)
                ax.scatter(xs, ys, marker=marker, color=colour, s=22, label=label, zorder=2)
        ax.axvline(0, color="#555555", linewidth=1, linestyle="--", label="input sent (its end)")
        ax.set_yticks(range(len(rows)), [label for label, _ in rows])
        ax.set_ylim(len(rows) - 0.5, -0.5)  # the first case on top, as in the table; no empty margin
        ax.set_xlabel("ms after the input ended")
        ax.legend(frameon=False, fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        ax.grid(axis="x", color="#eeeeee")

    return _svg(draw, width=9.0, height=1.0 + 0.22 * len(rows)), left_out


def _row_label(case: CaseResult, number: int) -> str:
    label = case.id if len(case.id) <= 28 else case.id[:27] + "…"
    return label if len(case.turns) == 1 else f"{label} #{number}"


def _times(turn: TurnResult) -> list[float]:
    """The turn's milestones in ms (those it has)."""
    values = (getattr(turn, attr) for _, attr, _, _ in MILESTONES)
    return [value * 1000 for value in values if value is not None]


def _svg(draw: Any, *, width: float, height: float) -> str:
    matplotlib = import_extra("matplotlib", needed_by=NEEDED_BY)
    figure_module = import_extra("matplotlib.figure", needed_by=NEEDED_BY)
    backend_svg = import_extra("matplotlib.backends.backend_svg", needed_by=NEEDED_BY)
    with matplotlib.rc_context(_RC), warnings.catch_warnings():
        # A case id in a script DejaVu Sans lacks draws as boxes, with a warning per glyph: the table shows it.
        warnings.filterwarnings("ignore", message="Glyph .* missing from", category=UserWarning)
        figure = figure_module.Figure(figsize=(width, height), layout="constrained")
        canvas = backend_svg.FigureCanvasSVG(figure)
        draw(figure)
        out = io.StringIO()
        canvas.print_svg(out, metadata={"Date": None})
    return out.getvalue()
