"""The session options of `send` and `text` (issue 11), each declared once as a `typing.Annotated` alias.

Each parameter is named after the livecli.commands.session_setup.SessionOptions field it fills and defaults to
that field's default (a test holds the two together); `session_options(values)` takes them out of a command's
parsed options as one SessionOptions. Their values are checked where they are used (commands/session_setup), so a
request built in code is checked the same way. In `--help` they are grouped under "Session options" and
"Built-in tools" (livecli.cli.app lays the groups out).

Imports only typer and the standard library: `livecli --help` must stay fast.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any

import typer

from livecli.cli.options import complete_from

if TYPE_CHECKING:
    from livecli.commands.session_setup import SessionOptions

__all__ = ["SESSION_PANEL", "TOOLS_PANEL", "session_options"]

SESSION_PANEL = "Session options"
TOOLS_PANEL = "Built-in tools"


_complete_sensitivity = complete_from("livecli.commands.session_setup", "SENSITIVITIES")
_complete_thinking_level = complete_from("livecli.commands.session_setup", "THINKING_LEVELS")
_complete_activity_handling = complete_from("livecli.commands.session_setup", "ACTIVITY_HANDLING")
_complete_turn_coverage = complete_from("livecli.commands.session_setup", "TURN_COVERAGE")


def _option(*names: str, panel: str = SESSION_PANEL, **kw: Any) -> Any:
    return typer.Option(*names, rich_help_panel=panel, **kw)


# docs/wire.md, "Session options": most of these fields are int32, the token counts int64 (larger: refused).
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1


Temperature = Annotated[
    float | None, _option("--temperature", metavar="T", min=0.0, help="Sampling temperature (generationConfig).")
]
TopP = Annotated[float | None, _option("--top-p", metavar="P", min=0.0, max=1.0, help="Nucleus sampling, 0 to 1.")]
TopK = Annotated[
    int | None, _option("--top-k", metavar="K", min=1, max=INT32_MAX, help="Sample from the K likeliest tokens.")
]
MaxOutputTokens = Annotated[
    int | None,
    _option("--max-output-tokens", metavar="N", min=1, max=INT32_MAX, help="At most N tokens per reply."),
]
Seed = Annotated[
    int | None, _option("--seed", metavar="N", min=-INT32_MAX - 1, max=INT32_MAX, help="Sampling seed.")
]
ThinkingLevel = Annotated[
    str | None,
    _option(
        "--thinking-level",
        metavar="minimal|low|medium|high",
        autocompletion=_complete_thinking_level,
        help="thinkingConfig.thinkingLevel (3.1, 3.8 extended thinking).",
    ),
]
ThinkingBudget = Annotated[
    int | None,
    _option(
        "--thinking-budget",
        metavar="N",
        min=-1,
        max=INT32_MAX,
        help="thinkingConfig.thinkingBudget in tokens (2.5).",
    ),
]
AffectiveDialog = Annotated[
    bool, _option("--affective-dialog", help="Adapt the reply's tone to the speaker's (2.5 models).")
]
ProactiveAudio = Annotated[
    bool | None,
    _option(
        "--proactive-audio/--no-proactive-audio",
        show_default=False,
        help="Let the model decide not to answer input meant for others.",
    ),
]
VadStartSensitivity = Annotated[
    str | None,
    _option(
        "--vad-start-sensitivity",
        metavar="low|high",
        autocompletion=_complete_sensitivity,
        help="Server VAD: how readily speech starts a turn.",
    ),
]
VadEndSensitivity = Annotated[
    str | None,
    _option(
        "--vad-end-sensitivity",
        metavar="low|high",
        autocompletion=_complete_sensitivity,
        help="Server VAD: how readily a pause ends a turn.",
    ),
]
VadPrefixMs = Annotated[
    int | None,
    _option(
        "--vad-prefix-ms", metavar="MS", min=0, max=INT32_MAX, help="Server VAD: speech needed to start a turn."
    ),
]
VadSilenceMs = Annotated[
    int | None,
    _option("--vad-silence-ms", metavar="MS", min=0, max=INT32_MAX, help="Server VAD: silence that ends a turn."),
]
ActivityHandling = Annotated[
    str | None,
    _option(
        "--activity-handling",
        metavar="interrupt|no-interrupt",
        autocompletion=_complete_activity_handling,
        help="Whether new speech interrupts the reply (barge-in).",
    ),
]
TurnCoverage = Annotated[
    str | None,
    _option(
        "--turn-coverage",
        metavar="COVERAGE",
        autocompletion=_complete_turn_coverage,
        help="What a user turn holds: only-activity, all-input or audio-activity-and-all-video.",
    ),
]
ContextCompression = Annotated[
    bool,
    _option("--context-compression", help="Sliding-window context compression (no session length limit)."),
]
CompressionTriggerTokens = Annotated[
    int | None,
    _option(
        "--compression-trigger-tokens",
        metavar="N",
        min=1,
        max=INT64_MAX,
        help="Compress once the context holds N tokens.",
    ),
]
CompressionTargetTokens = Annotated[
    int | None,
    _option(
        "--compression-target-tokens",
        metavar="N",
        min=1,
        max=INT64_MAX,
        help="Compress the context down to N tokens.",
    ),
]
SetupFile = Annotated[
    str | None,
    _option(
        "--setup",
        metavar="FILE",
        help="JSON or TOML setup fields merged over the flags' setup (objects merged, lists replaced).",
    ),
]
Preflight = Annotated[
    bool,
    _option(
        "--preflight/--no-preflight",
        help="Refuse before connecting what the model table says the model refuses.",
    ),
]
GoogleSearch = Annotated[bool, _option("--google-search", panel=TOOLS_PANEL, help="Ground replies in Search.")]
CodeExecution = Annotated[
    bool, _option("--code-execution", panel=TOOLS_PANEL, help="Let the model run code it writes.")
]
UrlContext = Annotated[bool, _option("--url-context", panel=TOOLS_PANEL, help="Let the model read URLs.")]


def session_options(values: Mapping[str, Any]) -> tuple[SessionOptions, dict[str, Any]]:
    """The SessionOptions a command's parsed options hold (each field from the parameter of its name), and the
    other options."""
    from dataclasses import fields

    from livecli.commands.session_setup import SessionOptions

    names = {f.name for f in fields(SessionOptions)}
    session = SessionOptions(**{name: values[name] for name in names})
    return session, {name: value for name, value in values.items() if name not in names}
