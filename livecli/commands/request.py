"""What `send` and `text` were asked to do, as one typed request, and the setup it becomes (with the preflight).

The CLI fills a RunRequest from the options it declares once (livecli.cli.options); the use case reads only it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from livecli.auth.target import ConnectOptions
from livecli.commands.reply_limits import DEFAULT_MAX_REPLY_S
from livecli.errors import UsageError
from livecli.protocol.client_messages import SetupConfig
from livecli.protocol.models import VOICES, ClientContentRule, lookup

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
    # media: images and video (issue 11)
    # tools (issue 11)
    json: bool = False
    verbosity: int = 0
    dry_run: bool = False


def build_setup(req: RunRequest, model: str) -> SetupConfig:
    """The setup for a request, refused before connecting when the model table says the server would refuse it.

    Raises:
        UsageError: TEXT on an audio-only model, an unknown voice, a system instruction or clientContent the
            model does not take, or a bad --turn-end.
    """
    if req.turn_end not in TURN_ENDS:
        raise UsageError(f"--turn-end must be one of {', '.join(TURN_ENDS)}, not {req.turn_end!r}")
    modality = req.modality.upper()
    if modality not in ("AUDIO", "TEXT"):
        raise UsageError(f"--modality must be audio or text, not {req.modality!r}")
    info = lookup(model)
    if info is not None:
        if modality not in info.modalities:
            raise UsageError(
                f"{info.id} answers only in {'/'.join(sorted(info.modalities))}: drop --modality {req.modality} "
                "(its spoken reply is transcribed to text)"
            )
        if req.system and not info.system_instruction:
            raise UsageError(f"{info.id} takes no system instruction: drop --system/--system-file")
        if req.client_content and info.client_content is not ClientContentRule.ANY:
            raise UsageError(f"{info.id} does not take clientContent turns: drop --client-content")
    if req.voice is not None and req.voice not in VOICES:
        raise UsageError(f"unknown voice {req.voice!r}; known voices: {', '.join(sorted(VOICES))}")
    audio_in = req.prompt is None
    return SetupConfig(
        model=model,
        modalities=(modality,),
        voice=req.voice,
        language=req.language,
        system_instruction=req.system,
        input_transcription=req.transcribe and audio_in,
        output_transcription=req.transcribe and modality == "AUDIO",
        automatic_activity_detection=not (audio_in and req.turn_end == "activity"),
        session_resumption=req.resume,
    )
