"""results.jsonl read back as typed records: the one view `livecli report` has of what `livecli batch` wrote.

The keys are those of livecli.commands.batch.results `case_record` (docs/batch.md, "results.jsonl"). Reading is
lenient where a report can still be drawn (a missing measurement is None, an unknown key is ignored: a newer
batch may add some) and strict where it cannot: a line that is not a JSON object with an `id` and a `status`,
or a record of a newer schema, is a usage error naming the file and line. The last line of a file may be cut
short by a crash mid-write (batch appends line by line): it is skipped, as `--skip-done` skips it.

Several files (the shards of one suite, or a suite run again) merge into one list: a case id found again in a
later file replaces the earlier record (the later file on the command line wins, as the last record of an id
wins inside one file), and the replaced ids are reported, never silently.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from livecli.commands.batch.results import RESULTS_NAME, SCHEMA_VERSION
from livecli.errors import UsageError

__all__ = ["CaseResult", "FailedExpectation", "InputResult", "Suite", "ToolCall", "TurnResult", "read_suite"]

STATUSES = ("pass", "fail", "error")


@dataclass(frozen=True)
class ToolCall:
    """A function call the model made in a turn."""

    name: str
    args: Any


@dataclass(frozen=True)
class TurnResult:
    """One reply turn: its transcripts and milestones (seconds after the input ended; None: did not happen)."""

    index: int | None
    end: str  # how the turn ended: turnComplete, interrupted… ("" when not written)
    input_transcript: str
    output_transcript: str
    text: str
    reply_seconds: float | None
    first_input_transcription_s: float | None
    ttfb_s: float | None
    ttfa_s: float | None
    turn_complete_s: float | None
    tool_calls: tuple[ToolCall, ...] = ()


@dataclass(frozen=True)
class InputResult:
    """One input of a case (audio, text or video) and the turns that answered it; `source` and `reply` are
    absolute paths for files (None: no file), or the prompt for a text input."""

    kind: str
    source: str
    reply: str | None
    turns: tuple[TurnResult, ...]


@dataclass(frozen=True)
class FailedExpectation:
    """An expectation the case did not meet: its key, what it asked, what came back, one line for people."""

    key: str
    expected: Any
    got: Any
    message: str


@dataclass(frozen=True)
class CaseResult:
    """One case's record, and the results file it came from."""

    id: str
    position: int | None  # 0-based in the manifest: shards of one suite merge back into its order
    status: str  # pass | fail | error
    exit_class: int | None
    error: str | None
    failures: tuple[FailedExpectation, ...]
    attempts: int | None
    duration_s: float | None
    inputs: tuple[InputResult, ...]
    usage: Mapping[str, int]
    warnings: tuple[str, ...]
    results_file: str

    @property
    def turns(self) -> tuple[TurnResult, ...]:
        return tuple(turn for item in self.inputs for turn in item.turns)


@dataclass
class Suite:
    """The merged cases in manifest order, and the ids a later file replaced."""

    cases: list[CaseResult] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)


def results_path(argument: str) -> str:
    """A results file, or a batch output directory (its results.jsonl)."""
    return os.path.join(argument, RESULTS_NAME) if os.path.isdir(argument) else argument


def read_suite(arguments: Sequence[str]) -> Suite:
    """Every case of every results file (or batch output directory), merged: a later file wins an id."""
    if not arguments:
        raise UsageError("livecli report needs at least one results.jsonl (or batch output directory)")
    merged: dict[str, CaseResult] = {}
    replaced: list[str] = []
    for argument in arguments:
        for case in read_results_file(results_path(argument)):
            if case.id in merged and merged[case.id].results_file != case.results_file:
                replaced.append(case.id)
            merged[case.id] = case
    # Manifest order (each shard keeps the suite's positions); records without one after them, as read.
    ordered = sorted(merged.values(), key=lambda case: (case.position is None, case.position or 0))
    return Suite(ordered, replaced)


def read_results_file(path: str) -> list[CaseResult]:
    """The records of one file, the last of each id (docs/batch.md, "results.jsonl"), read line by line."""
    base = os.path.dirname(os.path.abspath(path))
    cases: dict[str, CaseResult] = {}
    broken: int | None = None  # a line that is not JSON: forgiven only if it is the last (a crash mid-write)
    try:
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                if broken is not None:
                    raise UsageError(f"{path}:{broken}: not a livecli results file (a line is not JSON)")
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    broken = number
                    continue
                case = _case(record, f"{path}:{number}", base, path)
                cases.pop(case.id, None)  # the last record of an id, in the place of its last record
                cases[case.id] = case
    except FileNotFoundError:
        raise UsageError(f"{path}: no such results file") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not a livecli results file (not UTF-8 text)") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if broken is not None and not cases:  # nothing but a line that is not JSON: not a results file at all
        raise UsageError(f"{path}:{broken}: not a livecli results file (a line is not JSON)")
    return list(cases.values())


def _case(record: Any, where: str, base: str, path: str) -> CaseResult:
    if not isinstance(record, dict) or not isinstance(record.get("id"), str):
        raise UsageError(f"{where}: not a livecli results record (no case id)")
    schema = record.get("schema", SCHEMA_VERSION)
    if not isinstance(schema, int) or schema > SCHEMA_VERSION:
        raise UsageError(f"{where}: results schema {schema!r} is newer than this livecli reads ({SCHEMA_VERSION})")
    status = record.get("status")
    if status not in STATUSES:
        raise UsageError(f"{where}: case {record['id']!r} has status {status!r}, not one of {', '.join(STATUSES)}")
    failures = tuple(
        FailedExpectation(
            key=_text(item.get("key")),
            expected=item.get("expected"),
            got=item.get("got"),
            message=_text(item.get("message")),
        )
        for item in _objects(record.get("failures"))
    )
    return CaseResult(
        id=record["id"],
        position=_integer(record.get("position")),
        status=status,
        exit_class=_integer(record.get("exit_class")),
        error=record["error"] if isinstance(record.get("error"), str) else None,
        failures=failures,
        attempts=_integer(record.get("attempts")),
        duration_s=_number(record.get("duration_s")),
        inputs=tuple(_input(item, base) for item in _objects(record.get("inputs"))),
        usage={k: v for k, v in _object(record.get("usage")).items() if isinstance(v, int)},
        warnings=tuple(w for w in record.get("warnings") or () if isinstance(w, str)),
        results_file=os.path.abspath(path),
    )


def _input(item: Mapping[str, Any], base: str) -> InputResult:
    kind = _text(item.get("kind")) or "audio"
    source = _text(item.get("source"))
    reply = item.get("reply")
    return InputResult(
        kind=kind,
        source=source if kind == "text" else _located(source, base),
        # batch writes reply paths relative to its output directory, where results.jsonl is.
        reply=os.path.normpath(os.path.join(base, reply)) if isinstance(reply, str) and reply else None,
        turns=tuple(_turn(turn) for turn in _objects(item.get("turns"))),
    )


def _located(source: str, base: str) -> str:
    """An input file as an absolute path: as written when absolute; else beside the results file when it is
    there (a moved or archived output directory), else relative to the current directory (where batch ran)."""
    if not source or os.path.isabs(source):
        return source
    beside = os.path.normpath(os.path.join(base, source))
    return beside if os.path.exists(beside) else os.path.abspath(source)


def _turn(turn: Mapping[str, Any]) -> TurnResult:
    metrics = _object(turn.get("metrics"))
    return TurnResult(
        index=_integer(turn.get("index")),
        end=_text(turn.get("end")),
        input_transcript=_text(turn.get("input_transcript")),
        output_transcript=_text(turn.get("output_transcript")),
        text=_text(turn.get("text")),
        reply_seconds=_number(turn.get("reply_seconds")),
        first_input_transcription_s=_number(metrics.get("first_input_transcription_s")),
        ttfb_s=_number(metrics.get("ttfb_s")),
        ttfa_s=_number(metrics.get("ttfa_s")),
        turn_complete_s=_number(metrics.get("turn_complete_s")),
        tool_calls=tuple(
            ToolCall(_text(call.get("name")), call.get("args")) for call in _objects(turn.get("tool_calls"))
        ),
    )


def _objects(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _object(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _integer(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)
