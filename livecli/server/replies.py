"""What the local server says: the deterministic "echo" reply, tones, transcripts and usage.

Echo never answers with silence: a short chime, then the user's own turn audio resampled to 24 kHz (for a text
turn, one tone per word). Different inputs therefore give different replies, byte for byte.
"""

from __future__ import annotations

import functools
import math
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from livecli.protocol.server_messages import usage_metadata

__all__ = [
    "OUTPUT_RATE",
    "TOKENS_PER_SECOND",
    "Reply",
    "audio_seconds",
    "chime",
    "echo_reply",
    "resample_pcm16",
    "silence",
    "text_tones",
]

OUTPUT_RATE = 24000
TOKENS_PER_SECOND = 25  # protocol.md §7: audio is billed at 25 tokens per second, in and out


@dataclass
class Reply:
    """One planned model turn: transcripts, then audio (24 kHz s16le) and/or text parts, then usage."""

    input_transcript: str | None
    output_transcript: str | None
    audio: bytes = b""
    texts: list[str] = field(default_factory=list)
    usage: dict[str, Any] | None = None


def audio_seconds(pcm: bytes, rate: int = OUTPUT_RATE) -> float:
    """Duration of 16-bit mono PCM."""
    return len(pcm) / 2 / rate


def _to_pcm16(samples: np.ndarray) -> bytes:
    return bytes((np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2").tobytes())


def _tone(freq: float, seconds: float, level: float = 0.3) -> np.ndarray:
    n = int(OUTPUT_RATE * seconds)
    t = np.arange(n, dtype=np.float64) / OUTPUT_RATE
    ramp = np.minimum(1.0, np.minimum(np.arange(n), np.arange(n)[::-1]) / (0.005 * OUTPUT_RATE))
    return (level * ramp * np.sin(2 * math.pi * freq * t)).astype(np.float32)


@functools.cache
def chime() -> bytes:
    """The reply's opening: two short rising notes and a breath (24 kHz s16le, 0.2 s)."""
    gap = np.zeros(int(OUTPUT_RATE * 0.04), dtype=np.float32)
    return _to_pcm16(np.concatenate([_tone(660, 0.08), _tone(990, 0.08), gap]))


def silence(seconds: float) -> bytes:
    """Digital silence at 24 kHz."""
    return bytes(2 * int(OUTPUT_RATE * seconds))


def text_tones(text: str) -> bytes:
    """One tone per word; the pitch and length depend on the word, so different texts sound different."""
    gap = np.zeros(int(OUTPUT_RATE * 0.05), dtype=np.float32)
    pieces: list[np.ndarray] = []
    for word in text.split() or [""]:
        pitch = 300 + zlib.crc32(word.encode("utf-8")) % 600
        pieces += [_tone(pitch, 0.12 + 0.02 * min(len(word), 10)), gap]
    return _to_pcm16(np.concatenate(pieces))


def resample_pcm16(pcm: bytes, rate_in: int, rate_out: int = OUTPUT_RATE) -> bytes:
    """Linear-interpolation resampling of 16-bit mono PCM (deterministic, cheap, good enough for an echo)."""
    samples = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2").astype(np.float32)
    if rate_in == rate_out or samples.size == 0:
        return samples.astype("<i2").tobytes()
    n_out = int(samples.size * rate_out // rate_in)
    positions = np.arange(n_out, dtype=np.float64) * (rate_in / rate_out)
    out = np.interp(positions, np.arange(samples.size), samples)
    return np.clip(np.rint(out), -32768, 32767).astype("<i2").tobytes()


def _tokens(seconds: float) -> int:
    return round(seconds * TOKENS_PER_SECOND)


def echo_reply(
    turn: int,
    *,
    audio: bytes | None = None,
    rate: int = 16000,
    text: str | None = None,
    text_modality: bool = False,
) -> Reply:
    """The echo reply to turn `turn` of the session: to the user's audio (at `rate`) or to their text."""
    if text is not None:
        heard_input = text
        heard = f'"{text}"'
        body = text_tones(text)
        prompt_tokens, prompt_modality = max(1, math.ceil(len(text) / 4)), "TEXT"
    else:
        seconds = audio_seconds(audio or b"", rate)
        heard_input = f"[{seconds:.2f} s of audio]"
        heard = f"{seconds:.2f} s of audio"
        body = resample_pcm16(audio or b"", rate)
        prompt_tokens, prompt_modality = _tokens(seconds), "AUDIO"
    transcript = f"turn {turn}: heard {heard}"
    if text_modality:
        response_tokens = max(1, math.ceil(len(transcript) / 4))
        usage = usage_metadata(prompt_tokens, response_tokens, prompt_modality, "TEXT")
        return Reply(heard_input, None, texts=[transcript], usage=usage)
    reply_audio = chime() + body
    usage = usage_metadata(prompt_tokens, _tokens(audio_seconds(reply_audio)), prompt_modality, "AUDIO")
    return Reply(heard_input, transcript, audio=reply_audio, usage=usage)
