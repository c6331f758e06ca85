"""The options several commands share, each declared once as a `typing.Annotated` alias.

A command takes a shared option by naming its alias, `model: options.Model = None`: the flag, metavar, help
and validation live here only. The parameter's name is the field of the request it fills (ConnectOptions'
fields for the connect options, RunRequest's for the rest), so `connect_options(ctx.params)` and
`livecli.cli.send` build the typed request by name, and the `=` default is the request's own default (a test
holds the two together).

Imports only typer and the standard library: `livecli --help` must stay fast.
"""

from __future__ import annotations

import copy
import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Annotated, Any, get_args

import typer

if TYPE_CHECKING:
    from livecli.auth.target import ConnectOptions

__all__ = [
    "complete_from",
    "complete_modality",
    "complete_model",
    "complete_turn_end",
    "complete_voice",
    "connect_options",
    "reworded_option",
]


# Value completion (`livecli --install-completion`): each runs only when the shell asks, so its import does not
# slow start-up; the values come from the tables the preflight checks against.
def _matching(values: Iterable[str], incomplete: str) -> list[str]:
    return sorted(v for v in values if v.startswith(incomplete))


def complete_from(module: str, table: str) -> Callable[[str], list[str]]:
    """The value completion of an option whose values are `table` in `module` (the table the preflight checks
    against), imported only when the shell asks, so start-up does not pay for it."""

    def complete(incomplete: str) -> list[str]:
        return _matching(getattr(importlib.import_module(module), table), incomplete)

    return complete


complete_model = complete_from("livecli.protocol.models", "MODELS")
complete_voice = complete_from("livecli.protocol.models", "VOICES")
complete_turn_end = complete_from("livecli.commands.request", "TURN_ENDS")  # send's --turn-end


def complete_modality(incomplete: str) -> list[str]:
    return _matching(("audio", "text"), incomplete)


def _positive(value: float) -> float:
    """A time limit: 0 (or less) failed at once, so it is refused; every wait keeps a limit (no "0 = none")."""
    if not value > 0:
        raise typer.BadParameter(f"{value:g} is not a time limit: give seconds, more than 0")
    return value


# Where to connect and with which credentials (ConnectOptions): send, text and doctor.
Model = Annotated[
    str | None,
    typer.Option(
        "--model",
        metavar="ID",
        autocompletion=complete_model,
        help="Live model id [env LIVECLI_MODEL; default gemini-3.8-live].",
    ),
]
ApiKey = Annotated[
    str | None, typer.Option("--api-key", metavar="KEY", help="API key [env GEMINI_API_KEY, then GOOGLE_API_KEY].")
]
Token = Annotated[
    str | None,
    typer.Option(
        "--token", metavar="TOKEN", help="Ephemeral token auth_tokens/... [env LIVECLI_EPHEMERAL_TOKEN]."
    ),
]
Vertex = Annotated[
    bool | None, typer.Option("--vertex/--no-vertex", help="Use Vertex AI [env GOOGLE_GENAI_USE_VERTEXAI].")
]
Project = Annotated[
    str | None, typer.Option("--project", metavar="PROJECT", help="Vertex AI project [env GOOGLE_CLOUD_PROJECT].")
]
Location = Annotated[
    str | None,
    typer.Option("--location", metavar="LOCATION", help="Vertex AI location [env GOOGLE_CLOUD_LOCATION]."),
]
ApiVersion = Annotated[
    str | None,
    typer.Option(
        "--api-version",
        metavar="VERSION",
        help="Gemini: v1beta (default), v1alpha, v1. Vertex: v1 (default), v1beta1.",
    ),
]
Endpoint = Annotated[
    str | None,
    typer.Option(
        "--endpoint",
        metavar="URL",
        help="ws:// or wss:// URL; without a path the backend's standard path is added.",
    ),
]
Local = Annotated[
    bool, typer.Option("--local", help="Start livecli's local server in-process and talk to it (no key).")
]
KeyInQuery = Annotated[bool, typer.Option("--key-in-query", help="Send the API key as ?key= instead of a header.")]
TokenInHeader = Annotated[
    bool, typer.Option("--token-in-header", help="Send the token as Authorization: Token, not ?access_token=.")
]
ConnectTimeout = Annotated[
    float,
    typer.Option(
        "--connect-timeout",
        metavar="S",
        callback=_positive,
        help="Seconds allowed for connecting and setupComplete (exit 4); more than 0.",
    ),
]

# What to send and how (RunRequest): send and text.
Output = Annotated[
    str | None,
    typer.Option(
        "-o",
        "--output",
        metavar="FILE|DIR/|-",
        help="Save the reply audio: FILE.wav, .flac, .ogg, .opus, .mp3, - (streamed to stdout) or DIR/ (a file "
        "per input). "
        "Without -o the reply transcript goes to stdout.",
    ),
]
OutputFormat = Annotated[
    str | None,
    typer.Option(
        "--format",
        metavar="FORMAT",
        help="The reply's format, instead of -o's suffix: wav, flac, ogg, opus, mp3 (where the installed "
        "libsndfile writes it) or, with -o -, raw (s16le mono at the rate stated on stderr).",
    ),
]
System = Annotated[str | None, typer.Option("--system", metavar="TEXT", help="System instruction.")]
SystemFile = Annotated[
    str | None, typer.Option("--system-file", metavar="FILE", help="Read the system instruction from a file.")
]
Voice = Annotated[
    str | None,
    typer.Option(
        "--voice", metavar="NAME", autocompletion=complete_voice, help="Prebuilt voice, e.g. Kore, Puck, Zephyr."
    ),
]
Language = Annotated[
    str | None, typer.Option("--language", metavar="CODE", help="Reply language code, e.g. en-US.")
]
Modality = Annotated[
    str,
    typer.Option(
        "--modality",
        metavar="audio|text",
        autocompletion=complete_modality,
        help="Reply modality: audio, or text on models that can answer in text.",
    ),
]
Transcribe = Annotated[
    bool, typer.Option("--transcribe/--no-transcribe", help="Ask for input/output transcriptions.")
]
Speed = Annotated[
    float,
    typer.Option(
        "--speed",
        metavar="FACTOR",
        min=0.0,
        help="Pacing factor: 1 = real time, 2 = twice as fast, 0 = no pacing.",
    ),
]
NoPace = Annotated[bool, typer.Option("--no-pace", help="Send as fast as possible (same as --speed 0).")]
ReplyTimeout = Annotated[
    float,
    typer.Option(
        "--timeout",
        metavar="S",
        callback=_positive,
        help="Longest server silence (s) while a reply is expected (exit 5); more than 0.",
    ),
]
MaxReconnects = Annotated[
    int,
    typer.Option("--max-reconnects", metavar="N", min=0, help="Reconnect at most N times per input (0: never)."),
]
Resume = Annotated[
    bool,
    typer.Option(
        "--resume/--no-resume",
        help="After goAway, 1011 or a dropped connection, resume the session on a new one; "
        "--no-resume fails instead.",
    ),
]
ExpectTranscript = Annotated[
    str | None,
    typer.Option(
        "--expect-transcript",
        metavar="REGEX",
        help="CI: some reply transcript or text must match REGEX (else exit 5).",
    ),
]
MinReplySeconds = Annotated[
    float | None,
    typer.Option(
        "--min-reply-seconds",
        metavar="S",
        min=0.0,
        help="CI: each input's reply audio must last S s (else exit 5).",
    ),
]
MaxReplySeconds = Annotated[
    float,
    typer.Option(
        "--max-reply-seconds",
        metavar="S",
        callback=_positive,
        help="Stop (exit 4) when one input's reply passes S s of audio: a server that never stops sending "
        "cannot fill the memory. More than 0.",
    ),
]
FailOnSilence = Annotated[
    bool,
    typer.Option(
        "--fail-on-silence",
        help="CI: a silent input (every sample zero or NaN) exits 6 before connecting; a near-silent reply "
        "(below -50 dBFS) exits 5.",
    ),
]
JsonEvents = Annotated[
    bool, typer.Option("--json", help="One JSON object per event on stdout (audio only to -o FILE).")
]
Verbose = Annotated[
    int,
    typer.Option(
        "-v",
        "--verbose",
        count=True,
        show_default=False,
        help="More detail: the full URL, every reply chunk, usage.",
    ),
]
Quiet = Annotated[
    int,
    typer.Option(
        "-q",
        "--quiet",
        count=True,
        show_default=False,
        help="Less: -q shows only warnings and results, -qq only errors.",
    ),
]
DryRun = Annotated[
    bool, typer.Option("--dry-run", help="Print URL, headers (redacted), setup and chunk plan; no network.")
]
Traceback = Annotated[
    bool, typer.Option("--traceback", help="Show the full traceback on errors (for bug reports).")
]


def reworded_option(alias: Any, help: str | None = None, *, hidden: bool = False) -> Any:
    """`alias` for another command (text, chat): the same flag, metavar, default and validation, with that
    command's wording (text's speaks of one prompt, not of files, chunks or pacing) or hidden where the option
    has nothing to do for it."""
    annotation, info = get_args(alias)
    info = copy.copy(info)
    info.help = help if help is not None else info.help
    info.hidden = hidden
    return Annotated[annotation, info]


# `livecli text` sends one prompt: its help speaks of the reply, not of inputs, chunks or pacing.
TextOutput = reworded_option(
    Output,
    "Save the reply audio: FILE.wav, .flac, .ogg, .opus, .mp3, - (streamed to stdout) or DIR/ "
    "(DIR/reply.wav). "
    "Without -o the reply transcript goes to stdout.",
)
TextTranscribe = reworded_option(Transcribe, "Ask for a transcription of the spoken reply.")
TextSpeed = reworded_option(Speed, hidden=True)  # accepted as for send; a prompt is one frame, nothing to pace
TextNoPace = reworded_option(NoPace, hidden=True)
TextMaxReconnects = reworded_option(MaxReconnects, "Reconnect at most N times (0: never).")
TextMinReplySeconds = reworded_option(MinReplySeconds, "CI: the reply audio must last S s (else exit 5).")
TextDryRun = reworded_option(DryRun, "Print URL, headers (redacted), setup and the text frame; no network.")


def connect_options(params: Mapping[str, Any]) -> tuple[ConnectOptions, dict[str, Any]]:
    """The ConnectOptions a command's parsed options (`ctx.params`) hold, each field from the parameter of its
    name, and the other options."""
    from dataclasses import fields

    from livecli.auth.target import ConnectOptions

    names = {f.name for f in fields(ConnectOptions)}
    connect = ConnectOptions(**{name: params[name] for name in names})
    return connect, {name: value for name, value in params.items() if name not in names}
