"""`livecli talk`: options only; the work is in livecli.commands.talk.

Every session option of send/text is taken through the same aliases (livecli.cli.options, session_options,
tool_options, media_options, record_options) and fills the same RunRequest by name, as cli/send does; the talk's
own options (devices, push-to-talk, headphones, the jitter buffer) fill the TalkRequest around it. Imports only
typer, the standard library and livecli.cli/errors at module level: `livecli --help` imports no sounddevice.

Exit status: the user ending the conversation (Ctrl-C, the end of the input) is 0; SIGTERM stays 143.
"""

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any

import typer

from livecli.cli import media_options as m
from livecli.cli import options as o
from livecli.cli import record_options as r
from livecli.cli import session_options as so
from livecli.cli import tool_options as t
from livecli.cli.boundary import exit_status, guarded
from livecli.cli.exit_status import ExitStatus
from livecli.cli.send import ChunkMs, _system
from livecli.errors import UsageError

if TYPE_CHECKING:
    from livecli.commands.session_setup import SessionOptions
    from livecli.commands.talk.request import TalkRequest

__all__ = ["register", "talk_exit_status"]


def register(app: typer.Typer) -> None:
    """Add the `talk` command to the app."""
    app.command("talk", short_help="Talk with a Live model through the microphone and the speaker.")(talk)


PushToTalk = Annotated[
    bool,
    typer.Option(
        "--push-to-talk",
        help="Space starts and ends each turn (activityStart/activityEnd) instead of the server's voice "
        "detection.",
    ),
]
Headphones = Annotated[
    bool,
    typer.Option(
        "--headphones",
        help="Full duplex: the microphone stays open while the model speaks, so speaking interrupts it. Without "
        "it the microphone is muted while the model speaks; Enter or space stops playback and unmutes it.",
    ),
]
InputDevice = Annotated[
    str | None,
    typer.Option(
        "--input-device", metavar="DEVICE", help="Microphone: index or name substring (livecli devices)."
    ),
]
OutputDevice = Annotated[
    str | None,
    typer.Option("--output-device", metavar="DEVICE", help="Speaker: index or name substring (livecli devices)."),
]
BufferMs = Annotated[
    int,
    typer.Option(
        "--buffer-ms",
        metavar="MS",
        min=0,
        max=2000,
        help="Reply audio held before playback starts (jitter buffer).",
    ),
]


def talk(
    ctx: typer.Context,
    push_to_talk: PushToTalk = False,
    headphones: Headphones = False,
    input_device: InputDevice = None,
    output_device: OutputDevice = None,
    buffer_ms: BufferMs = 60,
    chunk_ms: ChunkMs = 40,
    *,
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
    timeout: o.ReplyTimeout = 30.0,
    connect_timeout: o.ConnectTimeout = 10.0,
    max_reconnects: o.MaxReconnects = 3,
    resume: o.Resume = True,
    max_reply_s: o.MaxReplySeconds = 3600.0,
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
    # media: images sent at the start (livecli/cli/media_options.py)
    images: m.Images = None,
    media_resolution: m.MediaResolution = None,
    # tools (issue 11; livecli/cli/tool_options.py)
    tools: t.Tools = None,
    tool_exec: t.ToolExec = None,
    tool_timeout: t.ToolTimeout = 30.0,
    mcp: t.Mcp = None,
    mcp_url: t.McpUrl = None,
    record: r.Record = None,
    json: o.JsonEvents = False,
    verbose: o.Verbose = 0,
    quiet: o.Quiet = 0,
    traceback: o.Traceback = False,
) -> None:
    """Talk with a Live model through the microphone and the speaker; Ctrl-C ends the conversation."""
    params = ctx.params

    def action() -> int:
        from livecli.commands.talk.run import run
        from livecli.env import Env

        return run(talk_request(params), Env.from_process(), talk_exit_status)

    guarded(action, traceback=params["traceback"])


def talk_exit_status(exc: BaseException) -> int:
    """The exit table's, except that Ctrl-C is the user ending the conversation (0); SIGTERM stays 143."""
    status = exit_status(exc)
    return ExitStatus.OK if status == ExitStatus.INTERRUPTED else status


def _refuse_vad_tuning(session: "SessionOptions") -> None:
    """--push-to-talk switches the server's voice activity detection off: tuning it is a usage error, in talk's
    own words (send's names --turn-end)."""
    flags = {
        "--vad-start-sensitivity": session.vad_start_sensitivity,
        "--vad-end-sensitivity": session.vad_end_sensitivity,
        "--vad-prefix-ms": session.vad_prefix_ms,
        "--vad-silence-ms": session.vad_silence_ms,
    }
    given = [flag for flag, value in flags.items() if value is not None]
    if given:
        raise UsageError(
            f"{', '.join(given)} tune the server's voice activity detection, which --push-to-talk switches off"
        )


_TALK_FIELDS = ("push_to_talk", "headphones", "input_device", "output_device", "buffer_ms")


def talk_request(params: Mapping[str, Any]) -> "TalkRequest":
    """The TalkRequest the parsed options ask for: the RunRequest of a send/text session inside it, by name."""
    from livecli.commands.request import RunRequest
    from livecli.commands.talk.request import TalkRequest

    connect, values = o.connect_options(params)
    session, values = so.session_options(values)
    own = {name: values.pop(name) for name in _TALK_FIELDS}
    system_file, verbose, quiet = (values.pop(name) for name in ("system_file", "verbose", "quiet"))
    del values["traceback"]  # the CLI's own (guarded)
    values["system"] = _system(values["system"], system_file)
    if own["push_to_talk"]:
        _refuse_vad_tuning(session)
    turn_end = "activity" if own["push_to_talk"] else "vad"
    run = RunRequest(connect=connect, session=session, verbosity=verbose - quiet, turn_end=turn_end, **values)
    return TalkRequest(run=run, **own)
