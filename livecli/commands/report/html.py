"""The report as one HTML file: the Jinja2 template (templates/report.html.j2) filled from the merged results.

Everything from a results file (case ids, transcripts, error lines, expectation values) is text a server or a
manifest wrote: the environment autoescapes every value (after showing control characters as escapes), and
nothing is marked safe; the charts go in as base64 `data:` images (an SVG in an <img> runs no script and cannot
reach the page). Audio is linked relative to the report (the report can move with its batch output directory),
or embedded as `data:` URIs with `--embed-audio` (one file to send around). The page loads nothing from
anywhere: a Content-Security-Policy in the template says so to the browser.
"""

from __future__ import annotations

import base64
import json
import mimetypes
import os
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from livecli.commands.report.charts import NEEDED_BY, latency_chart, timeline_chart
from livecli.commands.report.results_reader import CaseResult, InputResult, Suite
from livecli.commands.report.stats import LATENCIES, PERCENTILES, summarize
from livecli.extras import import_extra
from livecli.protocol.redact import printable

__all__ = ["Media", "render_report", "require_extras"]

# The audio types a browser plays, by the suffixes livecli reads and writes (mimetypes misses some of them).
_AUDIO_TYPES = {
    ".wav": "audio/wav",
    ".flac": "audio/flac",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".opus": "audio/ogg",
    ".mp3": "audio/mpeg",
    ".aiff": "audio/aiff",
    ".aif": "audio/aiff",
}


@dataclass(frozen=True)
class Media:
    """A file the page plays: its `src` (relative link or data: URI), or None when the file is missing."""

    path: str
    src: str | None
    mime: str
    name: str


def require_extras() -> None:
    """Jinja2 and matplotlib, or MissingExtra naming `pip install 'livecli[report]'`."""
    import_extra("jinja2", needed_by=NEEDED_BY)
    import_extra("matplotlib.figure", needed_by=NEEDED_BY)


def render_report(
    suite: Suite, report_path: str, *, embed_audio: bool, title: str, warn: Callable[[str], None]
) -> str:
    """The report's HTML text. `warn` is told of each media file that is missing."""
    jinja2 = import_extra("jinja2", needed_by=NEEDED_BY)
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("livecli.commands.report", "templates"),
        autoescape=True,  # every value, whatever the template's name: transcripts come from a server
        undefined=jinja2.StrictUndefined,
        # Control characters and bidi overrides (a transcript is a server's text) shown as escapes, as a terminal
        # shows them: nothing invisible, nothing that reorders the text around it.
        finalize=lambda value: printable(value, keep_newlines=True) if isinstance(value, str) else value,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["ms"] = _ms
    environment.filters["seconds_ms"] = lambda seconds: _ms(None if seconds is None else seconds * 1000)
    environment.filters["sort_key"] = _sort_key
    environment.filters["json"] = lambda value: json.dumps(value, ensure_ascii=False)
    report_dir = os.path.dirname(os.path.abspath(report_path))
    summary = summarize(suite.cases)
    timeline, left_out = timeline_chart(suite.cases)

    def media(path: str | None) -> Media | None:
        return _media(path, report_dir, embed_audio=embed_audio, warn=warn) if path else None

    template = environment.get_template("report.html.j2")
    return str(
        template.render(
            title=title,
            summary=summary,
            percentiles=[f"p{round(p * 100)}" for p in PERCENTILES],
            latency_names=[name for name, _ in LATENCIES],
            latency_chart=_data_uri(latency_chart(summary.latencies)),
            timeline_chart=_data_uri(timeline),
            timeline_left_out=left_out,
            replaced=suite.replaced,
            cases=[_case_view(case, media) for case in suite.cases],
        )
    )


def _case_view(case: CaseResult, media: Callable[[str | None], Media | None]) -> dict[str, Any]:
    """What the table row and the case's section show."""
    worst = {name: _worst(case, read) for name, read in LATENCIES}
    return {
        "case": case,
        "anchor": "case-" + urllib.parse.quote(case.id, safe=""),
        "worst": worst,
        "inputs": [_input_view(number, item, media) for number, item in enumerate(case.inputs, 1)],
    }


def _input_view(number: int, item: InputResult, media: Callable[[str | None], Media | None]) -> dict[str, Any]:
    return {
        "number": number,
        "item": item,
        "input_media": media(item.source) if item.kind != "text" else None,
        "reply_media": media(item.reply),
    }


def _worst(case: CaseResult, read: Callable[[Any], float | None]) -> float | None:
    """The case's slowest turn for one latency, in ms (what a max_ttfb_ms expectation checks)."""
    values = [value for turn in case.turns if (value := read(turn)) is not None]
    return max(values) * 1000 if values else None


def _media(path: str, report_dir: str, *, embed_audio: bool, warn: Callable[[str], None]) -> Media:
    suffix = os.path.splitext(path)[1].lower()
    mime = _AUDIO_TYPES.get(suffix) or mimetypes.guess_type(path)[0] or "application/octet-stream"
    name = os.path.basename(path)
    if not os.path.isfile(path):
        warn(f"{path}: not found; the report shows it as missing")
        return Media(path, None, mime, name)
    if embed_audio:
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError as exc:
            warn(f"{path}: cannot read ({exc.strerror or exc}); the report shows it as missing")
            return Media(path, None, mime, name)
        return Media(path, f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}", mime, name)
    relative = os.path.relpath(path, report_dir)
    return Media(path, urllib.parse.quote(relative.replace(os.sep, "/")), mime, name)


def _data_uri(svg: str | None) -> str | None:
    return None if svg is None else "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"


def _sort_key(value: float | None) -> str:
    """A number for a table cell's data-sort attribute; empty (sorted last by the page's script) when missing."""
    return "" if value is None else f"{value:.3f}"
