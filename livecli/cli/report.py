"""`livecli report`: options only; the work (and Jinja2, matplotlib) is imported when the command runs."""

from __future__ import annotations

from typing import Annotated

import typer

from livecli.cli.boundary import guarded

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the `report` command to the app."""
    app.command("report", short_help="One self-contained HTML report from `livecli batch` results.")(report)


def report(
    results: Annotated[
        list[str],
        typer.Argument(
            metavar="RESULTS...",
            help="results.jsonl files or batch output directories; several (shards) merge into one report, a "
            "case id found again in a later one showing the later record.",
            show_default=False,
        ),
    ],
    output: Annotated[
        str, typer.Option("-o", "--output", metavar="FILE", help="The HTML file to write.", show_default=False)
    ],
    embed_audio: Annotated[
        bool,
        typer.Option(
            "--embed-audio",
            help="Embed the input and reply audio in the page (data: URIs) instead of linking the files "
            "relative to it: one file to send around, as large as the audio.",
        ),
    ] = False,
    title: Annotated[str, typer.Option("--title", metavar="TEXT", help="The page's title.")] = "livecli report",
) -> None:
    """Write one HTML page that opens offline: pass/fail counts, latency percentiles and charts, a sortable table
    of the cases, and per case the transcripts, the failed expectations and players for the input and reply
    audio. Needs the report extra: pip install 'livecli[report]'."""

    def action() -> int:
        from livecli.commands.report import ReportRequest, run_report
        from livecli.env import Env

        request = ReportRequest(results=results, output=output, embed_audio=embed_audio, title=title)
        return run_report(request, Env.from_process())

    guarded(action)
