"""`livecli report RESULTS.jsonl... -o report.html`: one self-contained HTML page from batch results.

The report is a view, not a verdict: it is written (exit 0) whatever the cases' statuses; `livecli batch`'s own
exit status is the verdict. Shards merge (a case id found again in a later file: the later record wins, and
the report says which ids were replaced).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from livecli.commands.atomic_write import write_atomically
from livecli.env import Env
from livecli.errors import OutputError, UsageError
from livecli.protocol.redact import printable

__all__ = ["ReportRequest", "run_report"]


@dataclass(frozen=True)
class ReportRequest:
    results: Sequence[str]  # results.jsonl files, or batch output directories
    output: str
    embed_audio: bool = False
    title: str = "livecli report"


def run_report(req: ReportRequest, env: Env) -> int:
    """Read, merge, render, write atomically; one line on stderr says what was written."""
    from livecli.commands.report.html import render_report, require_extras
    from livecli.commands.report.results_reader import read_suite, results_path
    from livecli.commands.report.stats import summarize

    if req.output == "-" or req.output.endswith(os.sep) or os.path.isdir(req.output):
        raise UsageError(f"-o {req.output}: give the report's file name (e.g. -o report.html)")
    for argument in req.results:
        path = results_path(argument)
        if os.path.exists(req.output) and os.path.exists(path) and os.path.samefile(path, req.output):
            raise OutputError(f"-o {req.output} is the results file {argument}: the report would replace it")
    require_extras()  # before any work: a missing one is exit 2 even for results with nothing to chart
    suite = read_suite(req.results)

    def warn(line: str) -> None:
        env.stderr.write(f"livecli: warning: {printable(line)}\n")

    if not suite.cases:
        warn("the results hold no case: the report is empty")
    for case_id in suite.replaced:
        warn(f"case {case_id!r} is in several results files: the later file's record is shown")
    html = render_report(suite, req.output, embed_audio=req.embed_audio, title=req.title, warn=warn)
    write_atomically(req.output, html.encode("utf-8"), flag="-o")
    counts = ", ".join(f"{count} {status}" for status, count in summarize(suite.cases).by_status.items())
    env.stderr.write(f"report written to {printable(req.output)}: {len(suite.cases)} cases ({counts})\n")
    return 0
