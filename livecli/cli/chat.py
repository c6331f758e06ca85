"""`livecli chat`: options only; the work is in livecli.commands.chat.

Every session option of `send`/`text` is taken through the same aliases (livecli.cli.options and the option
modules), each parameter named after the RunRequest field it fills, so the request is built by `send`'s own
builder; `--save-dir` is chat's. Imports only typer, the standard library and livecli.cli at module level.
No `from __future__ import annotations`: the aliases stay objects (see livecli.cli.send).
"""

from typing import Any

import typer

from livecli.cli import chat_options as c
from livecli.cli import media_options as m
from livecli.cli import options as o
from livecli.cli import record_options as r
from livecli.cli import send as s
from livecli.cli import session_options as so
from livecli.cli import talk as tk
from livecli.cli import tool_options as t
from livecli.cli.boundary import guarded
from livecli.cli.play_option import Play
from livecli.cli.talk import talk_exit_status  # the user ending the conversation is 0, for talk and chat alike

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the `chat` command to the app."""
    app.command("chat", short_help="A conversation of many turns in one session, typed or piped.")(chat)


def chat(
    turn_end: c.ChatTurnEnd = "silence",
    silence_ms: s.SilenceMs = 1500,
    settle_ms: s.SettleMs = 1000,
    chunk_ms: s.ChunkMs = 40,
    client_content: s.ClientContent = False,
    *,
    save_dir: c.SaveDir = None,
    play: Play = False,
    output_device: tk.OutputDevice = None,
    buffer_ms: tk.BufferMs = 60,
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
    max_reconnects: o.TextMaxReconnects = 3,
    resume: o.Resume = True,
    max_reply_s: o.MaxReplySeconds = 3600.0,
    # session options (livecli/cli/session_options.py)
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
    # images (livecli/cli/media_options.py)
    images: c.ChatImages = None,
    media_resolution: m.MediaResolution = None,
    # tools (livecli/cli/tool_options.py)
    tools: t.Tools = None,
    tool_exec: t.ToolExec = None,
    tool_timeout: t.ToolTimeout = 30.0,
    mcp: t.Mcp = None,
    mcp_url: t.McpUrl = None,
    record: r.Record = None,
    json: c.ChatJson = False,
    verbose: o.Verbose = 0,
    quiet: o.Quiet = 0,
    traceback: o.Traceback = False,
) -> None:
    """Hold a conversation: each line typed (or piped) is a turn, each reply's transcript printed as it arrives.

    On a terminal: line editing and history (kept in $XDG_STATE_HOME/livecli/chat_history), and the commands
    /audio FILE, /image FILE, /system TEXT, /save FILE, /help, /quit. From a pipe, one transcript line per
    reply turn: printf 'hello\\nwhat did I just say?\\n' | livecli chat --local. The end of input, /quit and
    Ctrl-C end the conversation with status 0.
    """
    params: dict[str, Any] = dict(locals())
    _run(params)


def _run(params: dict[str, Any]) -> None:
    def action() -> int:
        from livecli.commands.chat import ChatRequest, run
        from livecli.env import Env

        env = Env.from_process()
        own = {name: params.pop(name) for name in ("save_dir", "output_device", "buffer_ms")}
        request = ChatRequest(run=s._request(params, env.stdin), **own)
        return run(request, env, talk_exit_status)

    guarded(action, traceback=params["traceback"])
