"""What a suite shows while it runs: Rich progress on a terminal, a line per case otherwise, or `--json` events.

The events (docs/batch.md, "--json events") are per case, not per session event: a suite of hundreds of cases
would bury a script in chunks. Case ids and error texts come from the manifest and the servers, so they reach a
terminal through `printable` (Rich Text objects: no markup) and stdout through `terminal_safe_json`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from livecli.env import write_all
from livecli.protocol.redact import printable

if TYPE_CHECKING:
    from rich.progress import Progress

    from livecli.env import Env

__all__ = ["BatchDisplay", "make_display"]


class BatchDisplay:
    """The suite's display; this base shows nothing (`-qq`)."""

    def started(self, total: int, to_run: int, concurrency: int) -> None:
        """The suite begins: `total` cases selected, `to_run` of them not skipped by --skip-done."""

    def case_started(self, case_id: str, attempt: int) -> None:
        """An attempt at a case begins."""

    def case_retry(self, case_id: str, attempt: int, delay_s: float, reason: str | None) -> None:
        """Attempt `attempt` hit a quota; the next one starts after `delay_s`."""

    def concurrency(self, limit: int, reason: str) -> None:
        """The concurrency changed: `quota` (halved) or `recovered` (one more)."""

    def case_finished(self, record: dict[str, Any]) -> None:
        """A case's final results.jsonl record."""

    def summary(self, counts: dict[str, int], status: int) -> None:
        """The suite ended; `status` is the process's exit status."""

    def close(self) -> None:
        """Release the display."""


def make_display(env: Env, *, json: bool, verbosity: int) -> BatchDisplay:
    """JSON events on stdout with --json; Rich progress when stderr is a terminal; else lines on stderr."""
    if json:
        return JsonEvents(env)
    if verbosity <= -2:
        return BatchDisplay()
    if env.stderr_isatty:
        return RichProgress(env, verbosity)
    return CaseLines(env, verbosity)


class JsonEvents(BatchDisplay):
    """One JSON object per line on stdout, with `type` and `t` (seconds since the suite began)."""

    def __init__(self, env: Env) -> None:
        self.env = env
        self.t0 = env.clock()

    def _emit(self, kind: str, **fields: Any) -> None:
        from livecli.render.json_lines import terminal_safe_json

        record = {"type": kind, "t": round(self.env.clock() - self.t0, 3), **fields}
        write_all(self.env.stdout, (terminal_safe_json(record) + "\n").encode("utf-8"))
        self.env.stdout.flush()

    def started(self, total: int, to_run: int, concurrency: int) -> None:
        self._emit("batch_started", cases=total, to_run=to_run, concurrency=concurrency)

    def case_started(self, case_id: str, attempt: int) -> None:
        self._emit("case_started", id=case_id, attempt=attempt)

    def case_retry(self, case_id: str, attempt: int, delay_s: float, reason: str | None) -> None:
        self._emit("case_retry", id=case_id, attempt=attempt, delay_s=round(delay_s, 3), reason=reason)

    def concurrency(self, limit: int, reason: str) -> None:
        self._emit("concurrency", limit=limit, reason=reason)

    def case_finished(self, record: dict[str, Any]) -> None:
        self._emit(
            "case_finished",
            id=record["id"],
            status=record["status"],
            exit_class=record["exit_class"],
            attempts=record["attempts"],
            duration_s=record["duration_s"],
            error=record["error"],
            failures=[f["message"] for f in record["failures"]],
        )

    def summary(self, counts: dict[str, int], status: int) -> None:
        self._emit("batch_summary", **counts, exit_status=status)


def _case_line(record: dict[str, Any]) -> str:
    status = record["status"].upper()
    what = record["error"] if record["status"] == "error" else "; ".join(f["message"] for f in record["failures"])
    detail = f" (exit {record['exit_class']}): {what}" if record["status"] != "pass" else ""
    return printable(f"{status} {record['id']} {record['duration_s']:.2f} s{detail}")


def _summary_line(counts: dict[str, int], status: int) -> str:
    parts = ", ".join(f"{counts[k]} {k}" for k in ("passed", "failed", "errors", "skipped") if counts.get(k))
    return f"{counts.get('cases', 0)} cases: {parts or 'none run'}; exit status {status}"


class CaseLines(BatchDisplay):
    """A line per finished case on stderr (-q: only the cases that did not pass), and the summary."""

    def __init__(self, env: Env, verbosity: int) -> None:
        self.env = env
        self.verbosity = verbosity

    def _say(self, line: str) -> None:
        self.env.stderr.write(line + "\n")
        self.env.stderr.flush()

    def case_finished(self, record: dict[str, Any]) -> None:
        if record["status"] != "pass" or self.verbosity >= 0:
            self._say(_case_line(record))

    def case_retry(self, case_id: str, attempt: int, delay_s: float, reason: str | None) -> None:
        if self.verbosity > 0:
            self._say(printable(f"retry {case_id} after {delay_s:.1f} s (attempt {attempt}: {reason})"))

    def summary(self, counts: dict[str, int], status: int) -> None:
        self._say(_summary_line(counts, status))


class RichProgress(BatchDisplay):
    """A progress bar on the terminal: done of total, running, failed, the current concurrency, elapsed, ETA;
    the cases that did not pass are printed above it as they end."""

    def __init__(self, env: Env, verbosity: int) -> None:
        from rich.console import Console

        self.console = Console(file=env.stderr, force_terminal=True, highlight=False, markup=False)
        self.verbosity = verbosity
        self.running = 0
        self.failed = 0
        self.limit = 0
        self.progress: Progress | None = None
        self.task: Any = None

    def started(self, total: int, to_run: int, concurrency: int) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.limit = concurrency
        self.progress = Progress(
            TextColumn("cases"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self.console,
            transient=False,
        )
        self.progress.start()
        self.task = self.progress.add_task(self._description(), total=to_run)

    def _description(self) -> str:
        return f"running {self.running} · failed {self.failed} · concurrency {self.limit}"

    def _update(self, advance: int = 0) -> None:
        if self.progress is not None:
            self.progress.update(self.task, advance=advance, description=self._description())

    def case_started(self, case_id: str, attempt: int) -> None:
        self.running += 1
        self._update()

    def case_retry(self, case_id: str, attempt: int, delay_s: float, reason: str | None) -> None:
        self.running -= 1
        self._update()

    def concurrency(self, limit: int, reason: str) -> None:
        self.limit = limit
        self._update()

    def case_finished(self, record: dict[str, Any]) -> None:
        from rich.text import Text

        self.running -= 1
        if record["status"] != "pass":
            self.failed += 1
            self.console.print(Text(_case_line(record)))
        elif self.verbosity > 0:
            self.console.print(Text(_case_line(record)))
        self._update(advance=1)

    def summary(self, counts: dict[str, int], status: int) -> None:
        from rich.text import Text

        self.close()
        self.console.print(Text(_summary_line(counts, status)))

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
