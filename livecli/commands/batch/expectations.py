"""A case's expectations, and every one that failed with what was expected and what came back.

`send` stops at the first failed check (commands/checks.py); a suite wants all of them, each as a record a
report can show (docs/batch.md, "results.jsonl"). The thresholds are the same: a reply is near-silent below
NEAR_SILENT_DBFS, and a transcript expectation is `re.search` over every reply's transcript and text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from livecli.errors import UsageError
from livecli.protocol.report import NEAR_SILENT_DBFS

if TYPE_CHECKING:
    from livecli.protocol.report import TurnReport
    from livecli.protocol.turns import Turn

__all__ = ["Expectations", "Failure", "ToolCallExpectation", "args_contain", "check_case", "compile_regex"]

_SHOWN_CHARS = 200


@dataclass(frozen=True)
class ToolCallExpectation:
    """A function call the model must make: its name, and arguments that must contain `args` (a subset)."""

    name: str
    args: Mapping[str, Any] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        return {"name": self.name, "args": dict(self.args)}


@dataclass(frozen=True)
class Expectations:
    """What a case must show; None (or empty) is not checked. Keys as in the manifest (docs/batch.md)."""

    expect_transcript: re.Pattern[str] | None = None
    expect_input_transcript: re.Pattern[str] | None = None
    min_reply_seconds: float | None = None
    expect_max_reply_seconds: float | None = None
    max_ttfb_ms: float | None = None
    max_ttfa_ms: float | None = None
    fail_on_silence: bool = False  # no reply near-silent (send's flag, the same threshold)
    expect_tool_call: tuple[ToolCallExpectation, ...] = ()
    expect_exit: int | None = None  # the exit class the case must end with (None: it must succeed)


@dataclass(frozen=True)
class Failure:
    """One failed expectation: the key, what it asked, what came back, and one line for people."""

    key: str
    expected: Any
    got: Any
    message: str

    def record(self) -> dict[str, Any]:
        return {"key": self.key, "expected": self.expected, "got": self.got, "message": self.message}


def compile_regex(pattern: str, key: str) -> re.Pattern[str]:
    """A transcript expectation's regex, refused (with its key) when it does not compile."""
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise UsageError(f"key {key!r}: {pattern!r} is not a valid regular expression: {exc}") from None


def args_contain(got: Any, wanted: Any) -> bool:
    """Whether `got` holds `wanted`: objects by subset (recursively), everything else by equality."""
    if isinstance(wanted, Mapping):
        return isinstance(got, Mapping) and all(k in got and args_contain(got[k], v) for k, v in wanted.items())
    return bool(got == wanted)


def check_case(
    expect: Expectations, replies: Sequence[tuple[str, Sequence[Turn]]], reports: Sequence[TurnReport]
) -> list[Failure]:
    """Every reply expectation that failed; `replies` holds each input's name and the turns answering it,
    `reports` the measured turns (TTFB, TTFA, loudness)."""
    failures: list[Failure] = []
    turns = [turn for _, answer in replies for turn in answer]
    said = [text for t in turns for text in (t.output_transcript, t.text) if text]
    heard = [t.input_transcript for t in turns if t.input_transcript]
    for key, pattern, texts in (
        ("expect_transcript", expect.expect_transcript, said),
        ("expect_input_transcript", expect.expect_input_transcript, heard),
    ):
        if pattern is not None and not any(pattern.search(text) for text in texts):
            got = _shown(" | ".join(texts)) if texts else None
            failures.append(
                Failure(key, pattern.pattern, got, f"{key} {pattern.pattern!r} matched nothing: {got!r}")
            )
    seconds = [(name, sum(t.audio_duration_s for t in answer)) for name, answer in replies]
    if expect.min_reply_seconds is not None:
        name, shortest = min(seconds, key=lambda item: item[1])
        if shortest < expect.min_reply_seconds:
            failures.append(_limit("min_reply_seconds", expect.min_reply_seconds, shortest, name, "s of audio"))
    if expect.expect_max_reply_seconds is not None:
        name, longest = max(seconds, key=lambda item: item[1])
        if longest > expect.expect_max_reply_seconds:
            failures.append(
                _limit("expect_max_reply_seconds", expect.expect_max_reply_seconds, longest, name, "s")
            )
    failures += _latencies(expect, reports)
    if expect.fail_on_silence:
        failures += _loudness(reports)
    failures += _tool_calls(expect.expect_tool_call, turns)
    return failures


def _limit(key: str, limit: float, got: float, name: str, unit: str) -> Failure:
    return Failure(key, limit, round(got, 3), f"{key} {limit:g}: the reply to {name} is {got:.2f} {unit}")


def _latencies(expect: Expectations, reports: Sequence[TurnReport]) -> list[Failure]:
    failures = []
    for key, limit, attr in (
        ("max_ttfb_ms", expect.max_ttfb_ms, "ttfb_s"),
        ("max_ttfa_ms", expect.max_ttfa_ms, "ttfa_s"),
    ):
        if limit is None:
            continue
        values = [getattr(r.metrics, attr) if r.metrics is not None else None for r in reports]
        worst = None if not values or None in values else max(v * 1000 for v in values if v is not None)
        if worst is None:
            failures.append(Failure(key, limit, None, f"{key} {limit:g}: a turn has no {attr[:-2].upper()}"))
        elif worst > limit:
            failures.append(
                Failure(key, limit, round(worst, 1), f"{key} {limit:g}: the slowest turn took {worst:.0f} ms")
            )
    return failures


def _loudness(reports: Sequence[TurnReport]) -> list[Failure]:
    for report in reports:
        if report.near_silent and report.level_dbfs is not None:
            level = report.level_dbfs
            got = "all samples zero" if level == -math.inf else round(level, 1)
            return [
                Failure(
                    "fail_on_silence",
                    f">= {NEAR_SILENT_DBFS:g} dBFS",
                    got,
                    f"fail_on_silence: the reply to {report.input_name} is near-silent ({got} dBFS)",
                )
            ]
    return []


def _tool_calls(wanted: Sequence[ToolCallExpectation], turns: Sequence[Turn]) -> list[Failure]:
    calls = [call for turn in turns for call in turn.tool_calls]
    made = [{"name": call.name, "args": call.args} for call in calls]
    failures = []
    for expected in wanted:
        if not any(c.name == expected.name and args_contain(c.args, expected.args) for c in calls):
            message = (
                f"expect_tool_call {expected.name} {dict(expected.args)}: not called; calls: {made or 'none'}"
            )
            failures.append(Failure("expect_tool_call", expected.record(), made, _shown(message)))
    return failures


def _shown(text: str) -> str:
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 1] + "…"
