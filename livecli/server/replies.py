"""What the local server says: the deterministic "echo" reply, tones, transcripts and usage.

Echo never answers with silence: a short chime, then the user's own turn audio resampled to 24 kHz (for a text
turn, one tone per word). Different inputs therefore give different replies, byte for byte. Resampling is
livecli's polyphase resampler (numpy only, so the server stays light to start).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from livecli.audio.resample import from_pcm16, resample, to_int16
from livecli.protocol.server_messages import usage_metadata
from livecli.protocol.wire import INPUT_RATE, OUTPUT_RATE
from livecli.server.inbound_audio import InboundAudio
from livecli.server.reply_audio import (
    MAX_TONE_WORDS,
    ReplyAudio,
    pcm_piece,
    resampled_piece,
    tone_pcm,
    tone_piece,
)
from livecli.server.tool_model import builtin_results

__all__ = [
    "INPUT_RATE",
    "MAX_ECHO_CHARS",
    "MAX_TONE_WORDS",
    "MAX_TURN_AUDIO_S",
    "OUTPUT_RATE",
    "TOKENS_PER_SECOND",
    "InboundAudio",
    "Reply",
    "audio_seconds",
    "chime",
    "clip_text",
    "echo_reply",
    "resample_pcm16",
    "spoken_reply",
    "text_tones",
]

MAX_TURN_AUDIO_S = 120  # audio kept (and echoed) per user turn; longer turns are counted, not stored
MAX_ECHO_CHARS = 2000  # text echoed in transcripts and kept in the history, per turn
TOKENS_PER_SECOND = 25  # docs/wire.md, "Limits": audio is billed at 25 tokens per second, in and out


@dataclass
class Reply:
    """One planned model turn: transcripts, then audio (24 kHz s16le) and/or text parts, then usage.

    `parts` are other modelTurn parts sent before the audio (a built-in tool's executableCode, ...); `metadata`
    are serverContent fields sent before the turn ends (groundingMetadata, urlContextMetadata). `audio` is
    bytes, or a ReplyAudio made as it is sent (livecli.server.reply_audio).
    """

    input_transcript: str | None
    output_transcript: str | None
    audio: bytes | ReplyAudio = b""
    texts: list[str] = field(default_factory=list)
    usage: dict[str, Any] | None = None
    parts: list[dict[str, Any]] = field(default_factory=list)
    metadata: list[dict[str, Any]] = field(default_factory=list)


def audio_seconds(pcm: bytes | ReplyAudio, rate: int = OUTPUT_RATE) -> float:
    """Duration of 16-bit mono PCM."""
    return len(pcm) / 2 / rate


def _to_pcm16(samples: np.ndarray) -> bytes:
    return to_int16(samples).tobytes()


@functools.cache
def chime() -> bytes:
    """The reply's opening: two short rising notes and a breath (24 kHz s16le, 0.2 s)."""
    note = int(OUTPUT_RATE * 0.08)
    return tone_pcm(660, note) + tone_pcm(990, note) + bytes(2 * int(OUTPUT_RATE * 0.04))


def text_tones(text: str) -> bytes:
    """One tone per word; the pitch and length depend on the word, so different texts sound different."""
    return bytes(ReplyAudio([tone_piece(text)]))


def resample_pcm16(pcm: bytes, rate_in: int, rate_out: int = OUTPUT_RATE) -> bytes:
    """16-bit mono PCM at `rate_in` → `rate_out` (band-limited, exactly ceil(n * rate_out / rate_in) samples)."""
    if rate_in == rate_out:
        return pcm[: len(pcm) // 2 * 2]
    return _to_pcm16(resample(from_pcm16(pcm), rate_in, rate_out))


def _tokens(seconds: float) -> int:
    return round(seconds * TOKENS_PER_SECOND)


def clip_text(text: str, limit: int = MAX_ECHO_CHARS) -> str:
    """`text` cut to `limit` characters (with "…"), so one huge prompt cannot bloat transcripts and history."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def echo_reply(
    turn: int,
    *,
    audio: bytes | None = None,
    rate: int = INPUT_RATE,
    text: str | None = None,
    text_modality: bool = False,
    heard_s: float | None = None,
    saw: str | None = None,
    extra: str = "",
    tools: Iterable[Mapping[str, Any]] = (),
) -> Reply:
    """The echo reply to turn `turn` of the session: to the user's audio (at `rate`), to their text, or to both.

    `heard_s` is how long the user spoke when that was longer than the audio kept (MAX_TURN_AUDIO_S); `saw`
    describes the turn's video frames ("saw 3 frames (640x480)"), which the transcript names first; `extra` ends
    the transcript (what the tool calls returned); `tools` are the setup's, whose built-in ones add their results.
    """
    reply = _echo(turn, audio, rate, text, text_modality, heard_s, saw)
    if extra and reply.output_transcript:
        reply.output_transcript += extra
    if extra and reply.texts:
        reply.texts[-1] += extra
    reply.parts, reply.metadata = builtin_results(tools, text or "")
    return reply


def _echo(
    turn: int,
    audio: bytes | None,
    rate: int,
    text: str | None,
    text_modality: bool,
    heard_s: float | None,
    saw: str | None,
) -> Reply:
    if text is not None and audio is None:
        heard_input = clip_text(text)
        heard = f'"{heard_input}"'
        body = tone_piece(text)
        prompt_tokens, prompt_modality = max(1, math.ceil(len(text) / 4)), "TEXT"
    else:
        seconds = audio_seconds(audio or b"", rate) if heard_s is None else heard_s
        heard_input = f"[{seconds:.2f} s of audio]"
        heard = f"{seconds:.2f} s of audio"
        body = (
            resampled_piece(audio or b"") if rate == INPUT_RATE else pcm_piece(resample_pcm16(audio or b"", rate))
        )
        prompt_tokens, prompt_modality = _tokens(seconds), "AUDIO"
        if text is not None:  # an activity's audio and the text sent inside it (docs/wire.md, "Voice activity")
            heard_input += f" {clip_text(text)}"
            heard += f' and "{clip_text(text)}"'
            prompt_tokens += max(1, math.ceil(len(text) / 4))
    transcript = f"turn {turn}: {saw}, heard {heard}" if saw else f"turn {turn}: heard {heard}"
    if text_modality:
        response_tokens = max(1, math.ceil(len(transcript) / 4))
        usage = usage_metadata(prompt_tokens, response_tokens, prompt_modality, "TEXT")
        return Reply(heard_input, None, texts=[transcript], usage=usage)
    reply_audio = ReplyAudio([pcm_piece(chime()), body])
    usage = usage_metadata(prompt_tokens, _tokens(audio_seconds(reply_audio)), prompt_modality, "AUDIO")
    return Reply(heard_input, transcript, audio=reply_audio, usage=usage)


def spoken_reply(transcript: str, *, text_modality: bool = False) -> Reply:
    """A model turn that says `transcript` and nothing else (a NON_BLOCKING call's result, announced later)."""
    response_tokens = max(1, math.ceil(len(transcript) / 4))
    if text_modality:
        return Reply(None, None, texts=[transcript], usage=usage_metadata(0, response_tokens, "TEXT", "TEXT"))
    audio = ReplyAudio([pcm_piece(chime()), tone_piece(transcript)])
    usage = usage_metadata(0, _tokens(audio_seconds(audio)), "TEXT", "AUDIO")
    return Reply(None, transcript, audio=audio, usage=usage)
