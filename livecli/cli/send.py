"""`livecli send FILE...` and `livecli text PROMPT`: options only; the work is in livecli.commands.send.

The options both commands share are the aliases of livecli.cli.options; each parameter is named after the
RunRequest (or ConnectOptions) field it fills, so `_request` builds the request from `ctx.params` by name and
only the CLI's own conveniences (--system-file, --no-pace, -v/-q) are translated. Imports only typer, the
standard library and livecli.errors/cli at module level: `livecli --help` must not import numpy, websockets or
rich. No `from __future__ import annotations`: the aliases stay objects, which Typer reads without evaluating
~35 annotation strings on every run.
"""

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, BinaryIO

import typer
from typer._click.exceptions import MissingParameter  # Typer's own click: the error its commands show

from livecli.cli import media_options as m
from livecli.cli import options as o
from livecli.cli import record_options as r
from livecli.cli import session_options as so
from livecli.cli import tool_options as t
from livecli.cli.boundary import exit_status, guarded
from livecli.cli.play_option import Play
from livecli.errors import UsageError

if TYPE_CHECKING:
    from livecli.commands.request import RunRequest

__all__ = ["register"]


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


def send(
    ctx: typer.Context,
    inputs: Files = None,
    turn_end: TurnEnd = "activity",
    silence_ms: SilenceMs = 1500,
    settle_ms: SettleMs = 1000,
    chunk_ms: ChunkMs = 40,
    *,
    output: o.Output = None,
    output_format: o.OutputFormat = None,
    model: o.Model = None,
    api_key: o.ApiKey = None,
    token: o.Token = None,
    vertex: o.Vertex = None,
    project: o.Project = None,
    location: o.Location = None,
    api_version: o.ApiVersion = None,
    endpoint: o.Endpoint = None,
    local: o.Local = False,
    key_in_query: o.KeyInQuery = False,
    token_in_header: o.TokenInHeader = False,
    system: o.System = None,
    system_file: o.SystemFile = None,
    voice: o.Voice = None,
    language: o.Language = None,
    modality: o.Modality = "audio",
    transcribe: o.Transcribe = True,
    speed: o.Speed = 1.0,
    no_pace: o.NoPace = False,
    timeout: o.ReplyTimeout = 30.0,
    connect_timeout: o.ConnectTimeout = 10.0,
    max_reconnects: o.MaxReconnects = 3,
    resume: o.Resume = True,
    expect_transcript: o.ExpectTranscript = None,
    min_reply_s: o.MinReplySeconds = None,
    max_reply_s: o.MaxReplySeconds = 3600.0,
    fail_on_silence: o.FailOnSilence = False,
    # session options (issue 11; livecli/cli/session_options.py)
    temperature: so.Temperature = None,
    top_p: so.TopP = None,
    top_k: so.TopK = None,
    max_output_tokens: so.MaxOutputTokens = None,
    seed: so.Seed = None,
    thinking_level: so.ThinkingLevel = None,
    thinking_budget: so.ThinkingBudget = None,
    affective_dialog: so.AffectiveDialog = False,
    proactive_audio: so.ProactiveAudio = None,
    vad_start_sensitivity: so.VadStartSensitivity = None,
    vad_end_sensitivity: so.VadEndSensitivity = None,
    vad_prefix_ms: so.VadPrefixMs = None,
    vad_silence_ms: so.VadSilenceMs = None,
    activity_handling: so.ActivityHandling = None,
    turn_coverage: so.TurnCoverage = None,
    context_compression: so.ContextCompression = False,
    compression_trigger_tokens: so.CompressionTriggerTokens = None,
    compression_target_tokens: so.CompressionTargetTokens = None,
    google_search: so.GoogleSearch = False,
    code_execution: so.CodeExecution = False,
    url_context: so.UrlContext = False,
    setup_file: so.SetupFile = None,
    preflight: so.Preflight = True,
    # media: images and video (issue 11; livecli/cli/media_options.py)
    images: m.Images = None,
    media_resolution: m.MediaResolution = None,
    video: m.Video = None,
    fps: m.Fps = 1.0,
    video_prompt: m.VideoPrompt = None,
    # tools (issue 11; livecli/cli/tool_options.py)
    tools: t.Tools = None,
    tool_exec: t.ToolExec = None,
    tool_timeout: t.ToolTimeout = 30.0,
    mcp: t.Mcp = None,
    mcp_url: t.McpUrl = None,
    record: r.Record = None,
    # playback (issue 14; livecli/cli/play_option.py)
    play: Play = False,
    json: o.JsonEvents = False,
    verbose: o.Verbose = 0,
    quiet: o.Quiet = 0,
    dry_run: o.DryRun = False,
    traceback: o.Traceback = False,
) -> None:
    """Stream audio files to a Live model, one user turn each, and save or print the reply."""
    if not inputs and video is None:  # FILE... is required unless --video is the input: the same error as before
        raise MissingParameter(ctx=ctx, param_hint="'FILE...'", param_type="argument")
    _run(ctx.params)


def text(
    ctx: typer.Context,
    prompt: Prompt,
    client_content: ClientContent = False,
    *,
    output: o.TextOutput = None,
    output_format: o.OutputFormat = None,
    model: o.Model = None,
    api_key: o.ApiKey = None,
    token: o.Token = None,
    vertex: o.Vertex = None,
    project: o.Project = None,
    location: o.Location = None,
    api_version: o.ApiVersion = None,
    endpoint: o.Endpoint = None,
    local: o.Local = False,
    key_in_query: o.KeyInQuery = False,
    token_in_header: o.TokenInHeader = False,
    system: o.System = None,
    system_file: o.SystemFile = None,
    voice: o.Voice = None,
    language: o.Language = None,
    modality: o.Modality = "audio",
    transcribe: o.TextTranscribe = True,
    speed: o.TextSpeed = 1.0,
    no_pace: o.TextNoPace = False,
    timeout: o.ReplyTimeout = 30.0,
    connect_timeout: o.ConnectTimeout = 10.0,
    max_reconnects: o.TextMaxReconnects = 3,
    resume: o.Resume = True,
    expect_transcript: o.ExpectTranscript = None,
    min_reply_s: o.TextMinReplySeconds = None,
    max_reply_s: o.MaxReplySeconds = 3600.0,
    fail_on_silence: o.FailOnSilence = False,
    # session options (issue 11; livecli/cli/session_options.py)
    temperature: so.Temperature = None,
    top_p: so.TopP = None,
    top_k: so.TopK = None,
    max_output_tokens: so.MaxOutputTokens = None,
    seed: so.Seed = None,
    thinking_level: so.ThinkingLevel = None,
    thinking_budget: so.ThinkingBudget = None,
    affective_dialog: so.AffectiveDialog = False,
    proactive_audio: so.ProactiveAudio = None,
    vad_start_sensitivity: so.VadStartSensitivity = None,
    vad_end_sensitivity: so.VadEndSensitivity = None,
    vad_prefix_ms: so.VadPrefixMs = None,
    vad_silence_ms: so.VadSilenceMs = None,
    activity_handling: so.ActivityHandling = None,
    turn_coverage: so.TurnCoverage = None,
    context_compression: so.ContextCompression = False,
    compression_trigger_tokens: so.CompressionTriggerTokens = None,
    compression_target_tokens: so.CompressionTargetTokens = None,
    google_search: so.GoogleSearch = False,
    code_execution: so.CodeExecution = False,
    url_context: so.UrlContext = False,
    setup_file: so.SetupFile = None,
    preflight: so.Preflight = True,
    # media: images and video (issue 11; livecli/cli/media_options.py)
    images: m.Images = None,
    media_resolution: m.MediaResolution = None,
    # tools (issue 11; livecli/cli/tool_options.py)
    tools: t.Tools = None,
    tool_exec: t.ToolExec = None,
    tool_timeout: t.ToolTimeout = 30.0,
    mcp: t.Mcp = None,
    mcp_url: t.McpUrl = None,
    record: r.Record = None,
    # playback (issue 14; livecli/cli/play_option.py)
    play: Play = False,
    json: o.JsonEvents = False,
    verbose: o.Verbose = 0,
    quiet: o.Quiet = 0,
    dry_run: o.TextDryRun = False,
    traceback: o.Traceback = False,
) -> None:
    """Send one text turn to a Live model and save or print the reply."""
    _run(ctx.params)


def _run(params: Mapping[str, Any]) -> None:

    def action() -> int:
        from livecli.commands.output import check_stdout_audio
        from livecli.commands.send import run
        from livecli.env import Env

        env = Env.from_process()
        check_stdout_audio(params["output"], stdout_isatty=env.stdout_isatty)
        return run(_request(params, env.stdin), env, exit_status)

    guarded(action, traceback=params["traceback"])


def _request(params: Mapping[str, Any], stdin: BinaryIO) -> "RunRequest":
    """The RunRequest the parsed options ask for: each field from the parameter of its name."""
    from livecli.commands.request import RunRequest

    connect, values = o.connect_options(params)
    session, values = so.session_options(values)
    system_file, no_pace, verbose, quiet = (
        values.pop(name) for name in ("system_file", "no_pace", "verbose", "quiet")
    )
    del values["traceback"]  # the CLI's own (guarded)
    if "prompt" in values:
        values["prompt"] = _prompt(values["prompt"], stdin)
    if "video" in values:
        values["inputs"] = _video_or_files(values["inputs"], values["video"], values["video_prompt"])
    values["system"] = _system(values["system"], system_file)
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


def _system(system: str | None, name: str | None) -> str | None:
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
