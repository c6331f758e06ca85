"""`livecli batch MANIFEST...`: options, and the manifest schema, which is the options of `send` and `text`.

The suite-wide defaults are the flags of `send`/`text` themselves (their parameters are copied into this
command's signature, so the flag, its help and its validation are declared once, in livecli.cli.options and the
modules beside it); in a manifest a case's keys are the same options' long names without the dashes and with
underscores (`--min-reply-seconds` → `min_reply_seconds`; `--x/--no-x` → the boolean `x`), plus `id` and
`turns`, plus the expectations no `send` flag has (declared here, so they are suite-wide flags too). A value goes
through the option's own conversion and checks (ranges, callbacks), then the RunRequest is built by the same
function `send` uses, and the preflight runs on each case: a bad manifest is exit 2 naming the case and key,
before anything is sent. The suite's exit status is decided here: docs/batch.md, "Exit status".
"""

import inspect
import os
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

import typer
from typer import _click as click  # Typer's own click: its parameters convert the manifest's values

from livecli.cli import option_groups as g
from livecli.cli import send as send_cli
from livecli.cli.boundary import exit_status, guarded
from livecli.cli.exit_status import ExitStatus
from livecli.cli.option_groups import Param

__all__ = ["SUITE_STATUS_ORDER", "register", "suite_status"]

Manifests = Annotated[
    list[str],
    typer.Argument(
        metavar="MANIFEST...",
        show_default=False,
        help="Suite manifests (.jsonl, or .toml with [[case]] tables), or audio files, directories, globs.",
    ),
]
OutputDir = Annotated[
    str,
    typer.Option(
        "--output-dir", "-o", metavar="DIR", help="Where results.jsonl and the replies (cases/ID/turn-N.wav) go."
    ),
]
Concurrency = Annotated[
    int,
    typer.Option("--concurrency", metavar="N", min=1, max=100_000, help="Sessions at once (lowered on quota)."),
]
MaxRetries = Annotated[
    int, typer.Option("--max-retries", metavar="N", min=0, help="Retries of a case that hit a quota.")
]
Backoff = Annotated[
    float,
    typer.Option("--backoff", metavar="S", min=0.0, help="First retry's delay; doubles each retry, with jitter."),
]
StartRate = Annotated[
    float,
    typer.Option("--start-rate", metavar="N", min=0.0, help="Start at most N sessions per second (0: no limit)."),
]
SkipDone = Annotated[
    bool,
    typer.Option("--skip-done", help="Skip cases with a pass or fail in DIR/results.jsonl (errors run again)."),
]
Shard = Annotated[
    str | None, typer.Option("--shard", metavar="i/N", help="Run case k (0-based) when k mod N = i-1.")
]
Junit = Annotated[str | None, typer.Option("--junit", metavar="FILE", help="Write JUnit XML for CI.")]
BatchJson = Annotated[bool, typer.Option("--json", help="One JSON object per case event on stdout.")]
BatchDryRun = Annotated[
    bool, typer.Option("--dry-run", help="Validate the manifest and list the cases to run; no network.")
]

# Expectations that no `send` flag has: suite-wide flags here, keys in a manifest (docs/batch.md).
_PANEL = "Expectations (also manifest keys)"
ExpectInputTranscript = Annotated[
    str | None,
    typer.Option(
        "--expect-input-transcript",
        metavar="REGEX",
        rich_help_panel=_PANEL,
        help="A turn's input transcript matches.",
    ),
]
ExpectMaxReplySeconds = Annotated[
    float | None,
    typer.Option(
        "--expect-max-reply-seconds",
        metavar="S",
        min=0.0,
        rich_help_panel=_PANEL,
        help="Every reply at most S long.",
    ),
]
MaxTtfbMs = Annotated[
    float | None,
    typer.Option(
        "--max-ttfb-ms", metavar="MS", min=0.0, rich_help_panel=_PANEL, help="Every turn's first byte by MS."
    ),
]
MaxTtfaMs = Annotated[
    float | None,
    typer.Option(
        "--max-ttfa-ms",
        metavar="MS",
        min=0.0,
        rich_help_panel=_PANEL,
        help="Every turn's first audible sample by MS.",
    ),
]
ExpectToolCall = Annotated[
    list[str] | None,
    typer.Option(
        "--expect-tool-call",
        metavar="NAME[=JSON]",
        rich_help_panel=_PANEL,
        help="The model calls NAME with arguments containing JSON (repeatable).",
    ),
]
ExpectExit = Annotated[
    int | None,
    typer.Option(
        "--expect-exit", metavar="N", min=0, max=255, rich_help_panel=_PANEL, help="The case must end with exit N."
    ),
]

# The send/text parameters that are not suite-wide defaults: the inputs are the cases' turns, the replies go
# to the output directory, and display and dry-run are the batch's own.
_NOT_SUITE = frozenset(
    {
        "ctx",
        "inputs",
        "prompt",
        "output",
        "video",
        "video_prompt",
        "json",
        "verbose",
        "quiet",
        "dry_run",
        "traceback",
    }
)


_OWN = (
    Param("manifests", Manifests),
    Param("output_dir", OutputDir),
    Param("concurrency", Concurrency, 4),
    Param("max_retries", MaxRetries, 3),
    Param("backoff", Backoff, 1.0),
    Param("start_rate", StartRate, 50.0),
    Param("skip_done", SkipDone, False),
    Param("shard", Shard, None),
    Param("junit", Junit, None),
    Param("expect_input_transcript", ExpectInputTranscript, None),
    Param("expect_max_reply_seconds", ExpectMaxReplySeconds, None),
    Param("max_ttfb_ms", MaxTtfbMs, None),
    Param("max_ttfa_ms", MaxTtfaMs, None),
    Param("expect_tool_call", ExpectToolCall, None),
    Param("expect_exit", ExpectExit, None),
)


def _batch_parameters() -> list[Param]:
    """The batch's own options, then every option of send and text that a suite can set, then the display."""
    parameters = list(_OWN)
    seen = {p.name for p in parameters}
    for command in (send_cli.send, send_cli.text):  # send's declaration of a shared option, text's own extras
        for p in inspect.signature(command).parameters.values():
            if p.name not in _NOT_SUITE and p.name not in seen:
                parameters.append(Param(p.name, p.annotation, p.default))
                seen.add(p.name)
    return parameters + list(g.reworded(g.DISPLAY, json=BatchJson, dry_run=BatchDryRun))


_RUNNER = frozenset(
    {"manifests", "output_dir", "concurrency", "max_retries", "backoff", "skip_done", "shard", "junit"}
)
_PARAMETERS = _batch_parameters()
_SUITE = frozenset(p.name for p in _PARAMETERS) - _RUNNER - _NOT_SUITE


@g.declare(keyword=_PARAMETERS)
def batch(ctx: typer.Context, **params: Any) -> None:
    """Run a suite of cases (audio, text, images, video, tools) with expectations; results, replies and JUnit."""
    given = {name for name in _SUITE if ctx.get_parameter_source(name) != click.core.ParameterSource.DEFAULT}
    suite = {name: params[name] for name in given}

    def action() -> int:
        from livecli.cli.batch_manifest import list_cases, read_cases
        from livecli.commands.batch.runner import SuiteOptions, run_suite
        from livecli.env import Env

        env = Env.from_process()
        cases = read_cases(ctx, params["manifests"], suite, _SUITE, params["shard"], env)
        if params["dry_run"]:
            return list_cases(cases, env)
        options = SuiteOptions(
            out_dir=params["output_dir"],
            concurrency=params["concurrency"],
            max_retries=params["max_retries"],
            backoff_s=params["backoff"],
            start_rate=params["start_rate"],
            skip_done=params["skip_done"],
            junit=params["junit"],
            json=params["json"],
            verbosity=params["verbose"] - params["quiet"],
            suite_name=os.path.splitext(os.path.basename(params["manifests"][0].rstrip("/")))[0]
            or "livecli batch",
        )
        return run_suite(cases, env, exit_status, options, suite_status)

    guarded(action, traceback=params["traceback"])


def register(app: typer.Typer) -> None:
    """Add the `batch` command to the app."""
    app.command("batch", short_help="Run a suite of cases with expectations; results.jsonl and JUnit.")(batch)


# The suite's exit status: the first class present among the cases that did not pass, in this order, so a
# failed expectation (5) never hides an outage (docs/batch.md, "Exit status").
SUITE_STATUS_ORDER = (
    ExitStatus.TERMINATED,
    ExitStatus.INTERRUPTED,
    ExitStatus.INTERNAL_ERROR,
    ExitStatus.USAGE,
    ExitStatus.CREDENTIALS,
    ExitStatus.QUOTA,
    ExitStatus.CONNECTION,
    ExitStatus.BAD_INPUT,
    ExitStatus.NO_REPLY,
)


def suite_status(records: Sequence[Mapping[str, Any]]) -> int:
    """0 when every case passed, else the first class of SUITE_STATUS_ORDER among the others'."""
    classes = [int(r["exit_class"]) for r in records if r["status"] != "pass"]
    if not classes:
        return ExitStatus.OK
    return next((int(status) for status in SUITE_STATUS_ORDER if status in classes), classes[0])
