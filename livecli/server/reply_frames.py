"""One planned reply as the frames that carry it, each with the time it is due (sans I/O).

The session decides when a reply starts; this lays it out from there: transcripts, the audio in chunks at
real-time pace (`speed` 2 is twice as fast, 0 all at once), text parts, then the turn's end (docs/wire.md,
"Reply timing" and "Turn end").
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from livecli.audio.levels import silence_pcm16
from livecli.protocol import server_messages as sm
from livecli.server.replies import OUTPUT_RATE, Reply
from livecli.server.scenarios import TurnSpec

__all__ = ["TimedFrame", "lazy_reply_frames", "reply_frames", "shaped"]


@dataclass(frozen=True, slots=True)
class TimedFrame:
    """One server frame due at `when`; `kind` names it for logs and recordings."""

    when: float
    frame: bytes
    kind: str


def shaped(reply: Reply, spec: TurnSpec) -> Reply:
    """The reply with what the scenario's turn overrides (audio, transcripts, text) put in."""
    if spec.silent:
        reply.audio = silence_pcm16(1000, rate=OUTPUT_RATE)
    if spec.audio is not None:
        reply.audio = spec.audio
    if spec.input_transcript is not None:
        reply.input_transcript = spec.input_transcript
    if spec.output_transcript is not None:
        reply.output_transcript = spec.output_transcript
    if spec.text:
        reply.texts = list(spec.text)
    return reply


def reply_frames(
    reply: Reply, spec: TurnSpec, start: float, *, chunk_ms: int, speed: float
) -> tuple[list[TimedFrame], float]:
    """The reply's frames from `start` on, all at once, and the time its last frame is due."""
    frames, end = lazy_reply_frames(reply, spec, start, chunk_ms=chunk_ms, speed=speed)
    return list(frames), end


def lazy_reply_frames(
    reply: Reply, spec: TurnSpec, start: float, *, chunk_ms: int, speed: float
) -> tuple[Iterator[TimedFrame], float]:
    """The reply's frames from `start` on, each made when it is asked for (the audio too, when it is a
    ReplyAudio), and the time its last frame is due, known at once."""
    chunk_bytes = OUTPUT_RATE * 2 * chunk_ms // 1000
    chunk_s = chunk_ms / 1000 / speed if speed > 0 else 0.0
    cut = len(reply.audio)
    if spec.interrupt_after_ms is not None:
        cut = min(cut, OUTPUT_RATE * 2 * spec.interrupt_after_ms // 1000)
    chunks = -(-cut // chunk_bytes)
    last_audio = start + (chunks - 1) * chunk_s if chunks else start
    end = last_audio + (chunk_s if cut else 0.0)
    return _frames(reply, spec, start, chunk_bytes, chunk_s, cut, end), end


def _frames(
    reply: Reply, spec: TurnSpec, start: float, chunk_bytes: int, chunk_s: float, cut: int, end: float
) -> Iterator[TimedFrame]:
    if reply.input_transcript is not None:
        yield TimedFrame(start, sm.input_transcription(reply.input_transcript), "inputTranscription")
    for part in reply.parts:
        yield TimedFrame(start, sm.encode({"serverContent": {"modelTurn": {"parts": [part]}}}), next(iter(part)))
    audio = reply.audio
    pieces: Iterator[bytes] = (
        (audio[offset : min(offset + chunk_bytes, cut)] for offset in range(0, cut, chunk_bytes))
        if isinstance(audio, bytes)
        else audio.chunks(chunk_bytes, cut)
    )
    when = start
    for index, piece in enumerate(pieces):
        when = start + index * chunk_s
        yield TimedFrame(when, sm.audio_content(piece), "audio")
        if index == 0 and reply.output_transcript is not None:
            yield TimedFrame(when, sm.output_transcription(reply.output_transcript), "outputTranscription")
    if not len(audio) and reply.output_transcript is not None:
        yield TimedFrame(when, sm.output_transcription(reply.output_transcript), "outputTranscription")
    for text in reply.texts:
        yield TimedFrame(when, sm.text_content(text), "text")
    if spec.interrupt_after_ms is not None:
        yield TimedFrame(end, sm.interrupted(), "interrupted")
        yield TimedFrame(end, sm.turn_complete(), "turnComplete")
    else:
        for fields in reply.metadata:
            yield TimedFrame(end, sm.encode({"serverContent": fields}), next(iter(fields)))
        yield TimedFrame(end, sm.generation_complete(), "generationComplete")
        if not spec.generation_complete_only:
            yield TimedFrame(end, sm.turn_complete(reply.usage), "turnComplete")
