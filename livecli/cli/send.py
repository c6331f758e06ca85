"""`livecli send FILE...` and `livecli text PROMPT`: options only; the work is in livecli.commands.send.

Both take the shared option groups of livecli.cli.option_groups (text with its own wording of a few); each
parameter is named after the RunRequest (or ConnectOptions) field it fills, so `build_request` builds the request
from `ctx.params` by name and only the CLI's own conveniences (--system-file, --no-pace, -v/-q) are translated.
Imports only typer, the standard library and livecli.errors/cli at module level: `livecli --help` must not
import numpy, websockets or rich."""

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, BinaryIO

import typer
from typer._click.exceptions import MissingParameter  # Typer's own click: the error its commands show

from livecli.cli import option_groups as g
from livecli.cli import options as o
from livecli.cli import session_options as so
from livecli.cli.boundary import exit_status, guarded
from livecli.cli.option_groups import Param
from livecli.errors import UsageError

if TYPE_CHECKING:
    from livecli.commands.request import RunRequest

__all__ = ["build_request", "register", "system_instruction"]


def register(app: typer.Typer) -> None:
    """Add the `send` and `text` commands to the app."""
    app.command("send", short_help="Stream audio files to a Live model; save or print the reply.")(send)
    app.command("text")(text)


Files = Annotated[
    list[str] | None,
    typer.Argument(
        metavar="FILE...",
        show_default=False,
        help="Audio files (WAV, FLAC, OGG, AIFF…); - = stdin. Not with --video.",
    ),
]
TurnEnd = Annotated[
    str,
    typer.Option(
        "--turn-end",
        metavar="activity|silence|vad",
        autocompletion=o.complete_turn_end,
        help="activity: bracket each file with activityStart/End (VAD off); silence: server VAD + trailing "
        "silence; vad: server VAD + audioStreamEnd.",
    ),
]
SilenceMs = Annotated[
    int, typer.Option("--silence-ms", metavar="MS", min=0, help="Silence appended with --turn-end silence.")
]
SettleMs = Annotated[
    int,
    typer.Option(
        "--settle-ms", metavar="MS", min=0, help="Under server VAD, finish once no new turn starts for this long."
    ),
]
ChunkMs = Annotated[
    int, typer.Option("--chunk-ms", metavar="MS", min=10, max=1000, help="Audio per message, in ms.")
]
Prompt = Annotated[str, typer.Argument(metavar="PROMPT", help="The text to send; - reads it from stdin.")]
ClientContent = Annotated[
    bool, typer.Option("--client-content", help="Send a clientContent turn instead of realtimeInput.text.")
]


@g.declare(
    Param("inputs", Files, None),
    Param("turn_end", TurnEnd, "activity"),
    Param("silence_ms", SilenceMs, 1500),
    Param("settle_ms", SettleMs, 1000),
    Param("chunk_ms", ChunkMs, 40),
    keyword=(
        Param("output", o.Output, None),
        Param("output_format", o.OutputFormat, None),
        *g.CONNECT,
        *g.SETUP,
        *g.PACING,
        *g.LIMITS,
        *g.CHECKS,
        *g.SESSION,
        *g.IMAGES,
        *g.VIDEO,
        *g.TOOLS,
        *g.PLAY,
        *g.DISPLAY,
    ),
)
def send(ctx: typer.Context, **params: Any) -> None:
    """Stream audio files to a Live model, one user turn each, and save or print the reply."""
    if not params["inputs"] and params["video"] is None:  # FILE... is required unless --video is the input
        raise MissingParameter(ctx=ctx, param_hint="'FILE...'", param_type="argument")
    _run(ctx.params)


# `text` sends one prompt: its help speaks of the reply, not of inputs, chunks or pacing (options.reworded_option).
@g.declare(
    Param("prompt", Prompt),
    Param("client_content", ClientContent, False),
    keyword=(
        Param("output", o.TextOutput, None),
        Param("output_format", o.OutputFormat, None),
        *g.CONNECT,
        *g.reworded(g.SETUP, transcribe=o.TextTranscribe),
        *g.reworded(g.PACING, speed=o.TextSpeed, no_pace=o.TextNoPace),
        *g.reworded(g.LIMITS, max_reconnects=o.TextMaxReconnects),
        *g.reworded(g.CHECKS, min_reply_s=o.TextMinReplySeconds),
        *g.SESSION,
        *g.IMAGES,
        *g.TOOLS,
        *g.PLAY,
        *g.reworded(g.DISPLAY, dry_run=o.TextDryRun),
    ),
)
def text(ctx: typer.Context, **params: Any) -> None:
    """Send one text turn to a Live model and save or print the reply."""
    _run(ctx.params)


def _run(params: Mapping[str, Any]) -> None:

    def action() -> int:
        from livecli.commands.output import check_stdout_audio
        from livecli.commands.send import run
        from livecli.env import Env

        env = Env.from_process()
        check_stdout_audio(params["output"], stdout_isatty=env.stdout_isatty)
        return run(build_request(params, env.stdin), env, exit_status)

    guarded(action, traceback=params["traceback"])


def build_request(params: Mapping[str, Any], stdin: BinaryIO | None = None) -> "RunRequest":
    """The RunRequest the parsed options ask for (send, text, chat, talk, a batch case): each field from the
    parameter of its name; `stdin` is read for a prompt of `-`."""
    from livecli.commands.request import RunRequest

    connect, values = o.connect_options(params)
    session, values = so.session_options(values)
    system_file, verbose, quiet = (values.pop(name) for name in ("system_file", "verbose", "quiet"))
    no_pace = values.pop("no_pace", False)  # (talk does not pace: it sends what the microphone gives)
    del values["traceback"]  # the CLI's own (guarded)
    if "prompt" in values:
        assert stdin is not None, "a prompt of - reads stdin"
        values["prompt"] = _prompt(values["prompt"], stdin)
    if "video" in values:
        values["inputs"] = _video_or_files(values["inputs"], values["video"], values["video_prompt"])
    values["system"] = system_instruction(values["system"], system_file)
    if no_pace:
        values["speed"] = 0.0
    return RunRequest(connect=connect, session=session, verbosity=verbose - quiet, **values)


# The most livecli reads of a prompt or a --system-file (README, "Sending text"; docs/wire.md, "Limits"): more
# text than any Live model's context window, and even JSON-escaped (at worst 6 bytes per byte, `\u0000`) well
# under the 16 MiB frame limit. A bigger one (`text - < /dev/zero`) is refused, not read into memory.
MAX_PROMPT_BYTES = 1 << 20
MAX_SYSTEM_BYTES = 1 << 20


def _read_capped(stream: BinaryIO, limit: int, what: str) -> bytes:
    """All of `stream`, or UsageError once it holds more than `limit` bytes (never more than that in memory)."""
    pieces: list[bytes] = []
    size = 0
    while size <= limit:
        piece = stream.read(limit + 1 - size)
        if not piece:
            break
        pieces.append(piece)
        size += len(piece)
    if size > limit:
        raise UsageError(f"{what} is longer than {limit >> 20} MiB (the most livecli reads)")
    return b"".join(pieces)


def _prompt(given: str, stdin: BinaryIO) -> str:
    """The prompt (`-` reads stdin, without the trailing newline `echo` adds); an empty one is a usage error."""
    if given == "-" and stdin.closed:  # `<&-`: an empty prompt, not an I/O error
        raise UsageError("the prompt is empty (stdin is closed)")
    if given == "-":  # (an argument is bounded by the system: 128 KiB on Linux)
        prompt = _read_capped(stdin, MAX_PROMPT_BYTES, "the prompt on stdin").decode("utf-8", "replace")
        prompt = prompt.rstrip("\r\n")
    else:
        prompt = given
    if not prompt.strip():
        raise UsageError("the prompt is empty" + (" (nothing on stdin)" if given == "-" else ""))
    return prompt


def _video_or_files(inputs: list[str] | None, video: str | None, prompt: str | None) -> list[str]:
    """The audio inputs of `send`: FILE... or --video, not both; --prompt goes with --video only."""
    if video is not None and inputs:
        raise UsageError("give audio FILE... or --video FILE, not both")
    if prompt is not None and video is None:
        raise UsageError("--prompt goes with --video (for text alone, use `livecli text`)")
    if prompt is not None and not prompt.strip():
        raise UsageError("the --prompt is empty")
    return inputs or []


def system_instruction(system: str | None, name: str | None) -> str | None:
    """The system instruction: --system's text, or --system-file's UTF-8 content (not both)."""
    if system is not None and name is not None:
        raise UsageError("give --system or --system-file, not both")
    if name is None:
        return system
    try:
        with open(name, "rb") as handle:
            data = _read_capped(handle, MAX_SYSTEM_BYTES, f"--system-file {name}")
    except OSError as exc:
        raise UsageError(f"--system-file {name}: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"--system-file {name}: not UTF-8 text (byte {data[exc.start]:#04x} at offset {exc.start})"
        ) from None
