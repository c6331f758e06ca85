"""The groups of shared options (connection, setup, session options, media, tools, display…), each listed once,
and `declare`, which builds a command's signature from them.

send, text, chat, talk, replay, doctor and batch take the same options in the same order; a command names the
groups it takes and, explicitly, what it does differently (text's wording from `options.reworded_option`, chat's
default turn end, the options a command has no use for). Each entry is (parameter name, alias, default): the
name is the request field it fills, the alias (livecli.cli.options and the modules beside it) holds the flag,
help and checks, and the default is the field's own (tests hold the two together).

Typer reads a command's parameters from `inspect.signature(fn)` (which honours `__signature__`) and their
aliases from `typing.get_type_hints(fn)` (which reads `__annotations__`), so `declare` sets both; the command
itself takes `**params`. Imports only typer, the standard library and livecli.cli's option modules:
`livecli --help` must stay fast.
"""

import inspect
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple, TypeVar

import typer

from livecli.cli import media_options as m
from livecli.cli import options as o
from livecli.cli import record_options as r
from livecli.cli import session_options as so
from livecli.cli import tool_options as t
from livecli.cli.play_option import Play

__all__ = [
    "CHECKS",
    "CONNECT",
    "DISPLAY",
    "IMAGES",
    "LIMITS",
    "PACING",
    "SESSION",
    "SETUP",
    "TOOLS",
    "VIDEO",
    "Param",
    "declare",
    "only",
    "reworded",
    "without",
]

_EMPTY = inspect.Parameter.empty


class Param(NamedTuple):
    """One parameter of a command: its name (the request field it fills), its alias, its default."""

    name: str
    alias: Any
    default: Any = _EMPTY


Group = tuple[Param, ...]

# Where to connect and with which credentials: ConnectOptions' fields (livecli.cli.options.connect_options).
CONNECT: Group = (
    Param("model", o.Model, None),
    Param("api_key", o.ApiKey, None),
    Param("token", o.Token, None),
    Param("vertex", o.Vertex, None),
    Param("project", o.Project, None),
    Param("location", o.Location, None),
    Param("api_version", o.ApiVersion, None),
    Param("endpoint", o.Endpoint, None),
    Param("local", o.Local, False),
    Param("key_in_query", o.KeyInQuery, False),
    Param("token_in_header", o.TokenInHeader, False),
)
# What the setup asks of the reply.
SETUP: Group = (
    Param("system", o.System, None),
    Param("system_file", o.SystemFile, None),
    Param("voice", o.Voice, None),
    Param("language", o.Language, None),
    Param("modality", o.Modality, "audio"),
    Param("transcribe", o.Transcribe, True),
)
PACING: Group = (Param("speed", o.Speed, 1.0), Param("no_pace", o.NoPace, False))
# How long to wait, and what to do when the connection goes.
LIMITS: Group = (
    Param("timeout", o.ReplyTimeout, 30.0),
    Param("connect_timeout", o.ConnectTimeout, 10.0),
    Param("max_reconnects", o.MaxReconnects, 3),
    Param("resume", o.Resume, True),
)
# What the reply must be (CI), and the bound on its length.
CHECKS: Group = (
    Param("expect_transcript", o.ExpectTranscript, None),
    Param("min_reply_s", o.MinReplySeconds, None),
    Param("max_reply_s", o.MaxReplySeconds, 3600.0),
    Param("fail_on_silence", o.FailOnSilence, False),
)
# SessionOptions' fields (livecli.cli.session_options.session_options), built-in tools last.
SESSION: Group = (
    Param("temperature", so.Temperature, None),
    Param("top_p", so.TopP, None),
    Param("top_k", so.TopK, None),
    Param("max_output_tokens", so.MaxOutputTokens, None),
    Param("seed", so.Seed, None),
    Param("thinking_level", so.ThinkingLevel, None),
    Param("thinking_budget", so.ThinkingBudget, None),
    Param("affective_dialog", so.AffectiveDialog, False),
    Param("proactive_audio", so.ProactiveAudio, None),
    Param("vad_start_sensitivity", so.VadStartSensitivity, None),
    Param("vad_end_sensitivity", so.VadEndSensitivity, None),
    Param("vad_prefix_ms", so.VadPrefixMs, None),
    Param("vad_silence_ms", so.VadSilenceMs, None),
    Param("activity_handling", so.ActivityHandling, None),
    Param("turn_coverage", so.TurnCoverage, None),
    Param("context_compression", so.ContextCompression, False),
    Param("compression_trigger_tokens", so.CompressionTriggerTokens, None),
    Param("compression_target_tokens", so.CompressionTargetTokens, None),
    Param("google_search", so.GoogleSearch, False),
    Param("code_execution", so.CodeExecution, False),
    Param("url_context", so.UrlContext, False),
    Param("setup_file", so.SetupFile, None),
    Param("preflight", so.Preflight, True),
)
IMAGES: Group = (Param("images", m.Images, None), Param("media_resolution", m.MediaResolution, None))
VIDEO: Group = (
    Param("video", m.Video, None),
    Param("fps", m.Fps, 1.0),
    Param("video_prompt", m.VideoPrompt, None),
)
# Function tools, then the recording of the session (which records their calls too).
TOOLS: Group = (
    Param("tools", t.Tools, None),
    Param("tool_exec", t.ToolExec, None),
    Param("tool_timeout", t.ToolTimeout, 30.0),
    Param("mcp", t.Mcp, None),
    Param("mcp_url", t.McpUrl, None),
    Param("record", r.Record, None),
)
PLAY: Group = (Param("play", Play, False),)
# What the command shows, and how it fails.
DISPLAY: Group = (
    Param("json", o.JsonEvents, False),
    Param("verbose", o.Verbose, 0),
    Param("quiet", o.Quiet, 0),
    Param("dry_run", o.DryRun, False),
    Param("traceback", o.Traceback, False),
)


def only(group: Group, *names: str) -> Group:
    """The entries of `group` named, in the group's order."""
    _check(group, names)
    return tuple(p for p in group if p.name in names)


def without(group: Group, *names: str) -> Group:
    """`group` less the entries named (options a command has no use for)."""
    _check(group, names)
    return tuple(p for p in group if p.name not in names)


def reworded(group: Group, **aliases: Any) -> Group:
    """`group` with the aliases named replaced (a command's own wording of a shared option)."""
    _check(group, aliases)
    return tuple(p._replace(alias=aliases.get(p.name, p.alias)) for p in group)


def _check(group: Group, names: Iterable[str]) -> None:
    unknown = set(names) - {p.name for p in group}
    if unknown:  # a typo would silently keep or drop an option
        raise ValueError(f"not in the group: {sorted(unknown)}")


_F = TypeVar("_F", bound=Callable[..., None])


def declare(*positional: Param, keyword: Iterable[Param], context: bool = True) -> Callable[[_F], _F]:
    """Give the decorated command (which takes `**params`, and `ctx` when `context`) the signature these
    parameters make: `positional` first (positional-or-keyword), then `keyword` (keyword-only)."""
    parameters = []
    if context:
        parameters.append(
            inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context)
        )
    for kind, entries in (
        (inspect.Parameter.POSITIONAL_OR_KEYWORD, positional),
        (inspect.Parameter.KEYWORD_ONLY, keyword),
    ):
        parameters += [inspect.Parameter(p.name, kind, default=p.default, annotation=p.alias) for p in entries]

    def decorate(command: _F) -> _F:
        command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in parameters}
        return command

    return decorate
