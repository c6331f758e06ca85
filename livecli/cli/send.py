"""`livecli send FILE...` and `livecli text PROMPT`: options only; the work is in livecli.commands.send.

The options both commands share are declared once (`COMMON_OPTIONS`) and collected into `CommonOptions` by
`with_common_options`, so the two commands cannot drift apart. Imports only typer, the standard library and
livecli.errors/env/cli at module level: `livecli --help` must not import numpy, websockets or rich.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, BinaryIO

import typer

from livecli.errors import UsageError

__all__ = ["COMMON_OPTIONS", "CommonOptions", "register", "with_common_options"]


class CommonOptions:
    """The options `send` and `text` share, as given on the command line.

    A plain class, not a dataclass: generating a dataclass of ~30 fields costs ~2 ms of every start-up, and having
    no generated `__repr__` keeps `--api-key` out of any debug print.
    """

    output: str | None
    model: str | None
    api_key: str | None
    token: str | None
    vertex: bool | None
    project: str | None
    location: str | None
    api_version: str | None
    endpoint: str | None
    local: bool
    key_in_query: bool
    token_in_header: bool
    system: str | None
    system_file: str | None
    voice: str | None
    language: str | None
    modality: str
    transcribe: bool
    speed: float
    no_pace: bool
    timeout: float
    connect_timeout: float
    max_reconnects: int
    resume: bool
    expect_transcript: str | None
    min_reply_seconds: float | None
    json_output: bool
    verbose: int
    quiet: int
    dry_run: bool
    traceback: bool

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)


def _opt(default: Any, *names: str, help: str, **kw: Any) -> Any:
    return typer.Option(default, *names, help=help, show_default=default not in (None, False), **kw)


# name → (type, typer.Option); the order is the order in --help.
COMMON_OPTIONS: dict[str, tuple[Any, Any]] = {
    "output": (
        str | None,
        _opt(
            None,
            "-o",
            "--output",
            metavar="FILE|DIR/|-",
            help="Save the reply audio: FILE.wav, FILE.flac, - (WAV on stdout) or DIR/ (a file per input). "
            "Without -o the reply transcript goes to stdout.",
        ),
    ),
    "model": (
        str | None,
        _opt(None, "--model", metavar="ID", help="Live model id [env LIVECLI_MODEL; default gemini-3.8-live]."),
    ),
    "api_key": (
        str | None,
        _opt(None, "--api-key", metavar="KEY", help="API key [env GEMINI_API_KEY, then GOOGLE_API_KEY]."),
    ),
    "token": (
        str | None,
        _opt(
            None, "--token", metavar="TOKEN", help="Ephemeral token auth_tokens/... [env LIVECLI_EPHEMERAL_TOKEN]."
        ),
    ),
    "vertex": (
        bool | None,
        _opt(None, "--vertex/--no-vertex", help="Use Vertex AI [env GOOGLE_GENAI_USE_VERTEXAI]."),
    ),
    "project": (
        str | None,
        _opt(None, "--project", metavar="PROJECT", help="Vertex AI project [env GOOGLE_CLOUD_PROJECT]."),
    ),
    "location": (
        str | None,
        _opt(None, "--location", metavar="LOCATION", help="Vertex AI location [env GOOGLE_CLOUD_LOCATION]."),
    ),
    "api_version": (
        str | None,
        _opt(
            None,
            "--api-version",
            metavar="VERSION",
            help="Gemini: v1beta (default), v1alpha, v1. Vertex: v1 (default), v1beta1.",
        ),
    ),
    "endpoint": (
        str | None,
        _opt(
            None,
            "--endpoint",
            metavar="URL",
            help="ws:// or wss:// URL; without a path the backend's standard path is added.",
        ),
    ),
    "local": (
        bool,
        _opt(False, "--local", help="Start livecli's local server in-process and talk to it (no key)."),
    ),
    "key_in_query": (bool, _opt(False, "--key-in-query", help="Send the API key as ?key= instead of a header.")),
    "token_in_header": (
        bool,
        _opt(False, "--token-in-header", help="Send the token as Authorization: Token, not ?access_token=."),
    ),
    "system": (str | None, _opt(None, "--system", metavar="TEXT", help="System instruction.")),
    "system_file": (
        str | None,
        _opt(None, "--system-file", metavar="FILE", help="Read the system instruction from a file."),
    ),
    "voice": (str | None, _opt(None, "--voice", metavar="NAME", help="Prebuilt voice, e.g. Kore, Puck, Zephyr.")),
    "language": (str | None, _opt(None, "--language", metavar="CODE", help="Reply language code, e.g. en-US.")),
    "modality": (
        str,
        _opt(
            "audio",
            "--modality",
            metavar="audio|text",
            help="Reply modality: audio, or text on models that can answer in text.",
        ),
    ),
    "transcribe": (bool, _opt(True, "--transcribe/--no-transcribe", help="Ask for input/output transcriptions.")),
    "speed": (
        float,
        _opt(
            1.0,
            "--speed",
            metavar="FACTOR",
            min=0.0,
            help="Pacing factor: 1 = real time, 2 = twice as fast, 0 = no pacing.",
        ),
    ),
    "no_pace": (bool, _opt(False, "--no-pace", help="Send as fast as possible (same as --speed 0).")),
    "timeout": (
        float,
        _opt(
            30.0,
            "--timeout",
            metavar="S",
            min=0.0,
            help="Longest server silence (s) while a reply is expected (exit 5).",
        ),
    ),
    "connect_timeout": (
        float,
        _opt(
            10.0,
            "--connect-timeout",
            metavar="S",
            min=0.0,
            help="Seconds allowed for connecting and setupComplete (exit 4).",
        ),
    ),
    "max_reconnects": (
        int,
        _opt(
            3,
            "--max-reconnects",
            metavar="N",
            min=0,
            help="Reconnect at most N times per input (0: never).",
        ),
    ),
    "resume": (
        bool,
        _opt(
            True,
            "--resume/--no-resume",
            help="After goAway, 1011 or a dropped connection, resume the session on a new one; "
            "--no-resume fails instead.",
        ),
    ),
    "expect_transcript": (
        str | None,
        _opt(
            None,
            "--expect-transcript",
            metavar="REGEX",
            help="CI: some reply transcript or text must match REGEX (else exit 5).",
        ),
    ),
    "min_reply_seconds": (
        float | None,
        _opt(
            None,
            "--min-reply-seconds",
            metavar="S",
            min=0.0,
            help="CI: each input's reply audio must last S s (else exit 5).",
        ),
    ),
    "json_output": (
        bool,
        _opt(False, "--json", help="One JSON object per event on stdout (audio only to -o FILE)."),
    ),
    "verbose": (
        int,
        _opt(0, "-v", "--verbose", count=True, help="More detail: the full URL, every reply chunk, usage."),
    ),
    "quiet": (
        int,
        _opt(0, "-q", "--quiet", count=True, help="Less: -q shows only warnings and results, -qq only errors."),
    ),
    "dry_run": (
        bool,
        _opt(False, "--dry-run", help="Print URL, headers (redacted), setup and chunk plan; no network."),
    ),
    "traceback": (bool, _opt(False, "--traceback", help="Show the full traceback on errors (for bug reports).")),
}
assert list(COMMON_OPTIONS) == list(CommonOptions.__annotations__)


def with_common_options(func: Callable[..., None]) -> Callable[..., None]:
    """Add COMMON_OPTIONS to a command; the command receives them as `common: CommonOptions`."""
    signature = inspect.signature(func, eval_str=True)
    own = [p for p in signature.parameters.values() if p.name != "common"]
    shared = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=kind)
        for name, (kind, option) in COMMON_OPTIONS.items()
    ]

    @functools.wraps(func)
    def command(**kwargs: Any) -> None:
        common = CommonOptions(**{name: kwargs.pop(name) for name in COMMON_OPTIONS})
        func(common=common, **kwargs)

    params = own + shared
    command.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in params} | {"return": None}
    return command


def register(app: typer.Typer) -> None:
    """Add the `send` and `text` commands to the app."""
    app.command("send", short_help="Stream audio files to a Live model; save or print the reply.")(
        with_common_options(send)
    )
    app.command("text")(with_common_options(text))


FILES_ARGUMENT: Any = typer.Argument(
    ..., metavar="FILE...", help="Audio files (WAV, FLAC, OGG, AIFF…); - = stdin."
)


def send(
    files: list[str] = FILES_ARGUMENT,
    turn_end: str = typer.Option(
        "activity",
        "--turn-end",
        metavar="activity|silence|vad",
        help="activity: bracket each file with activityStart/End (VAD off); silence: server VAD + trailing "
        "silence; vad: server VAD + audioStreamEnd.",
    ),
    silence_ms: int = typer.Option(
        1500, "--silence-ms", metavar="MS", min=0, help="Silence appended with --turn-end silence."
    ),
    settle_ms: int = typer.Option(
        1000,
        "--settle-ms",
        metavar="MS",
        min=0,
        help="Under server VAD, finish once no new turn starts for this long.",
    ),
    chunk_ms: int = typer.Option(
        40, "--chunk-ms", metavar="MS", min=10, max=1000, help="Audio per message, in ms."
    ),
    *,
    common: CommonOptions,
) -> None:
    """Stream audio files to a Live model, one user turn each, and save or print the reply."""
    _run(common, inputs=files, turn_end=turn_end, silence_ms=silence_ms, settle_ms=settle_ms, chunk_ms=chunk_ms)


def text(
    prompt: str = typer.Argument(..., metavar="PROMPT", help="The text to send; - reads it from stdin."),
    client_content: bool = typer.Option(
        False, "--client-content", help="Send a clientContent turn instead of realtimeInput.text."
    ),
    *,
    common: CommonOptions,
) -> None:
    """Send one text turn to a Live model and save or print the reply."""
    _run(common, prompt=prompt, client_content=client_content)


def _run(common: CommonOptions, **request: Any) -> None:
    from livecli.cli.app import guarded

    def action() -> int:
        from livecli.auth.target import ConnectOptions
        from livecli.cli.exit_status import exit_status_for
        from livecli.commands.output import check_stdout_audio
        from livecli.commands.request import RunRequest
        from livecli.commands.send import run
        from livecli.env import Env

        env = Env.from_process()
        check_stdout_audio(common.output, stdout_isatty=env.stdout_isatty)
        if "prompt" in request:
            request["prompt"] = _prompt(request["prompt"], env.stdin)
        connect = ConnectOptions(
            model=common.model,
            api_key=common.api_key,
            token=common.token,
            vertex=common.vertex,
            project=common.project,
            location=common.location,
            api_version=common.api_version,
            endpoint=common.endpoint,
            local=common.local,
            key_in_query=common.key_in_query,
            token_in_header=common.token_in_header,
        )
        req = RunRequest(
            connect=connect,
            output=common.output,
            system=_system(common),
            voice=common.voice,
            language=common.language,
            modality=common.modality,
            transcribe=common.transcribe,
            speed=0.0 if common.no_pace else common.speed,
            timeout=common.timeout,
            connect_timeout=common.connect_timeout,
            max_reconnects=common.max_reconnects,
            resume=common.resume,
            expect_transcript=common.expect_transcript,
            min_reply_s=common.min_reply_seconds,
            json=common.json_output,
            verbosity=common.verbose - common.quiet,
            dry_run=common.dry_run,
            **request,
        )
        return run(req, env, exit_status_for)

    guarded(action, traceback=common.traceback)


def _prompt(given: str, stdin: BinaryIO) -> str:
    """The prompt (`-` reads stdin, without the trailing newline `echo` adds); an empty one is a usage error."""
    prompt = stdin.read().decode("utf-8", "replace").rstrip("\r\n") if given == "-" else given
    if not prompt.strip():
        raise UsageError("the prompt is empty" + (" (nothing on stdin)" if given == "-" else ""))
    return prompt


def _system(common: CommonOptions) -> str | None:
    if common.system is not None and common.system_file is not None:
        raise UsageError("give --system or --system-file, not both")
    if common.system_file is None:
        return common.system
    name = common.system_file
    try:
        with open(name, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise UsageError(f"--system-file {name}: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"--system-file {name}: not UTF-8 text (byte {data[exc.start]:#04x} at offset {exc.start})"
        ) from None
