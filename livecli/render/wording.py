"""How the console words numbers, durations, turn ends and a turn's timings for people.

Split from render/console, which lays the lines out (Rich, the progress bar, verbosity): the wording is plain
functions of the values, the same wherever they are shown.
"""

from __future__ import annotations

from livecli.protocol.report import TurnReport

__all__ = ["TURN_ENDINGS", "byte_size", "count_of", "seconds", "turn_timings"]

# How a turn that did not end with turnComplete is announced (Turn.end values).
TURN_ENDINGS = {
    "turnComplete": "complete",
    "generationComplete": "ended at generationComplete (no turnComplete)",
    "interrupted": "interrupted",
    "superseded": "cut short by the next turn",
    "disconnected": "cut off by the reconnect",
}


def byte_size(nbytes: int) -> str:
    """A size for people: B, KB or MB (powers of 1000, as file managers show them)."""
    if nbytes < 1000:
        return f"{nbytes} B"
    return f"{nbytes / 1000:.1f} KB" if nbytes < 1_000_000 else f"{nbytes / 1_000_000:.1f} MB"


def seconds(value: float) -> str:
    """A duration for people: milliseconds below one second, else seconds."""
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def count_of(number: int, noun: str) -> str:
    """`1 chunk`, `2 chunks`: a count and its noun, plural unless one."""
    return f"{number} {noun}" + ("" if number == 1 else "s")


def turn_timings(report: TurnReport) -> list[str]:
    """Milestones after the end of input (TTFB: first reply byte; TTFA: first audible sample)."""
    metrics = report.metrics
    if metrics is None:
        latency = report.turn.reply_latency_s
        return [] if latency is None else [f"TTFB {seconds(latency)}"]
    timings = [
        f"{label} {seconds(value)}"
        for label, value in (
            ("transcript", metrics.first_input_transcription_s),
            ("TTFB", metrics.ttfb_s),
            ("TTFA", metrics.ttfa_s),
            ("complete", metrics.turn_complete_s),
        )
        if value is not None
    ]
    if metrics.realtime_factor is not None:
        timings.append(f"{metrics.realtime_factor:.1f}x real time")
    return timings
