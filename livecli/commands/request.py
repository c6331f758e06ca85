"""What `send` and `text` were asked to do, as one typed request, and the setup it becomes (with the preflight).

The CLI fills a RunRequest from the options it declares once (livecli.cli.options); the use case reads only it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from livecli.auth.target import ConnectOptions
from livecli.commands.reply_limits import DEFAULT_MAX_REPLY_S
from livecli.commands.session_setup import SessionOptions, check_setup_file_shape, session_fields
from livecli.errors import UsageError
from livecli.media.images import media_resolution_setting
from livecli.protocol.client_messages import SetupConfig, setup_payload
from livecli.protocol.models import VOICES, ClientContentRule, ModelInfo, Refused, lookup, setup_refusals

__all__ = ["TURN_ENDS", "RunRequest", "build_setup"]

TURN_ENDS = ("activity", "silence", "vad")


@dataclass
class RunRequest:
    """Everything `send`/`text` were asked to do (inputs are files, or one prompt with `prompt` set)."""

    connect: ConnectOptions
    inputs: list[str] = field(default_factory=list)
    prompt: str | None = None
    output: str | None = None
    output_format: str | None = None  # --format: wav, flac, ogg, opus, mp3, raw (None: by -o's suffix)
    turn_end: str = "activity"
    silence_ms: int = 1500
    settle_ms: int = 1000
    chunk_ms: int = 40
    speed: float = 1.0
    timeout: float = 30.0
    connect_timeout: float = 10.0
    max_reconnects: int = 3
    resume: bool = True
    expect_transcript: str | None = None
    min_reply_s: float | None = None
    max_reply_s: float = DEFAULT_MAX_REPLY_S  # --max-reply-seconds (commands/reply_limits)
    fail_on_silence: bool = False
    system: str | None = None
    voice: str | None = None
    language: str | None = None
    modality: str = "audio"
    transcribe: bool = True
    client_content: bool = False
    # session options (issue 11)
    session: SessionOptions = field(default_factory=SessionOptions)  # commands/session_setup
    # media: images and video (issue 11)
    images: list[str] | None = None  # --image FILE (repeatable): sent with the first turn (livecli.media.images)
    media_resolution: str | None = None  # --media-resolution low|medium|high
    video: str | None = None  # --video FILE: its frames and audio track as the one input (commands/video_input)
    fps: float = 1.0  # --fps: video frames sampled per second (livecli.media.video.MAX_FPS at most)
    video_prompt: str | None = None  # --prompt TEXT: text inside the video's turn, after its frames and audio
    # tools (issue 11)
    tools: list[str] | None = None  # --tools FILE.py|FILE.json (commands/tool_setup)
    tool_exec: str | None = None  # --tool-exec CMD
    tool_timeout: float = 30.0  # --tool-timeout S (0: no limit)
    mcp: list[str] | None = None  # --mcp CMD: MCP servers over stdio (tools/mcp_source)
    mcp_url: list[str] | None = None  # --mcp-url URL: MCP servers over streamable HTTP
    record: str | None = None  # --record DIR: the whole run recorded (client/record, docs/recording.md)
    play: bool = False  # --play: the reply through the speaker as it arrives (commands/talk/playback)
    json: bool = False
    verbosity: int = 0
    dry_run: bool = False


def build_setup(req: RunRequest, model: str) -> SetupConfig:
    """The setup for a request, refused before connecting when the model table says the server would refuse it.

    The preflight checks the setup as it will be sent (the flags' fields with --setup FILE merged over them);
    `--no-preflight` (`req.session.preflight` False) skips the model table, for a model or a field it does not
    know yet.

    Raises:
        UsageError: a bad --turn-end, --modality or session option value; a --setup file that changes the voice
            activity detection --turn-end decides; or (preflight) anything the model table says the model
            refuses: TEXT on an audio-only model, an unknown voice, thinkingConfig, affective dialog, proactive
            audio or a built-in tool the model lacks, a system instruction or clientContent it does not take.
    """
    if req.turn_end not in TURN_ENDS:
        raise UsageError(f"--turn-end must be one of {', '.join(TURN_ENDS)}, not {req.turn_end!r}")
    modality = req.modality.upper()
    if modality not in ("AUDIO", "TEXT"):
        raise UsageError(f"--modality must be audio or text, not {req.modality!r}")
    audio_in = req.prompt is None
    server_vad = not (audio_in and req.turn_end == "activity")
    setup = SetupConfig(
        model=model,
        modalities=(modality,),
        voice=req.voice,
        language=req.language,
        system_instruction=req.system,
        input_transcription=req.transcribe and audio_in,
        output_transcription=req.transcribe and modality == "AUDIO",
        automatic_activity_detection=server_vad,
        session_resumption=req.resume,
        media_resolution=media_resolution_setting(req.media_resolution),
        **session_fields(req.session, server_vad=server_vad),
    )
    body = setup_payload(setup)["setup"]
    if req.session.setup_file:  # the flags' fields are right by construction; the file's may be any JSON
        check_setup_file_shape(body, req.session.setup_file)
    _check_turn_taking(body, server_vad, req.session.setup_file)
    info = lookup(model)
    if req.session.preflight:
        if req.voice is not None and req.voice not in VOICES:
            raise UsageError(f"unknown voice {req.voice!r}; known voices: {', '.join(sorted(VOICES))}")
        if info is not None:
            _preflight(body, info, req, setup.extra)
    return setup


def _check_turn_taking(body: dict[str, Any], server_vad: bool, setup_file: str | None) -> None:
    """A --setup file may tune the detection, not switch it: --turn-end decides activity brackets or not."""
    detection = body.get("realtimeInputConfig", {}).get("automaticActivityDetection", {})
    if (detection.get("disabled") is True) == server_vad:
        raise UsageError(
            f"--setup {setup_file}: automaticActivityDetection.disabled is --turn-end's to decide "
            "(activity: disabled; silence or vad: enabled); remove it from the file"
        )


# What to drop for each field the model table refuses (docs/wire.md, "Models").
_FLAGS = {
    "generationConfig.responseModalities": "--modality text (its spoken reply is transcribed to text)",
    "generationConfig.speechConfig": "--voice",
    "generationConfig.thinkingConfig": "--thinking-level/--thinking-budget",
    "generationConfig.enableAffectiveDialog": "--affective-dialog",
    "systemInstruction": "--system/--system-file",
    "proactivity": "--proactive-audio/--no-proactive-audio",
    "proactivity.proactiveAudio": "--no-proactive-audio",
    "tools.googleSearch": "--google-search",
    "tools.codeExecution": "--code-execution",
    "tools.urlContext": "--url-context",
}


def _in_file(extra: dict[str, Any] | None, path: str) -> bool:
    """Whether the --setup file's fields hold `path` (a dotted camelCase field; `tools.X`: any tool entry X)."""
    value: Any = extra or {}
    for part in path.split("."):
        if isinstance(value, list):
            value = next((item[part] for item in value if isinstance(item, dict) and part in item), None)
        elif isinstance(value, dict):
            value = value.get(part)
        else:
            return False
        if value is None:
            return False
    return True


def _refusal_line(refused: Refused, info: ModelInfo, req: RunRequest, extra: dict[str, Any] | None) -> str:
    where = (
        f"remove {refused.field} from --setup {req.session.setup_file}"
        if _in_file(extra, refused.field)
        else f"drop {_FLAGS.get(refused.field, refused.field)}"
    )
    return f"{info.id} {refused.why}: {where} (--no-preflight sends it anyway)"


def _preflight(body: dict[str, Any], info: ModelInfo, req: RunRequest, extra: dict[str, Any] | None) -> None:
    """UsageError for the first thing in the setup (or clientContent) the model table says `info` refuses."""
    refused = setup_refusals(body, info)
    if refused:
        raise UsageError(_refusal_line(refused[0], info, req, extra))
    if req.client_content and info.client_content is ClientContentRule.NONE:
        raise UsageError(f"{info.id} does not take clientContent turns: drop --client-content")
    seeding = body.get("historyConfig", {}).get("initialHistoryInClientContent") is True
    if req.client_content and info.client_content is ClientContentRule.SEED_ONLY and not seeding:
        raise UsageError(
            f"{info.id} takes clientContent only to seed the history, with "
            "historyConfig.initialHistoryInClientContent: drop --client-content, or set that with --setup FILE"
        )
