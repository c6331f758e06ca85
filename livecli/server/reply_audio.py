"""Reply audio made as it is sent: its length is known at once, its samples only when a chunk falls due.

A queued reply used to hold its whole audio and every frame already encoded: a client queueing 16 replies to
120 s turns under NO_INTERRUPTION and never reading held about 232 MB, and a flood of text turns paid for the
tones of replies cut before a single chunk went out. A `ReplyAudio` holds what it is made from (the user's
16 kHz turn, a text's first words) and makes 24 kHz s16le in the order it is read, a block at a time
(docs/wire.md, "Limits of the local server").
"""

from __future__ import annotations

import itertools
import math
import re
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from livecli.audio.resample import Resampler, from_pcm16, to_int16
from livecli.protocol.wire import INPUT_RATE, OUTPUT_RATE

__all__ = [
    "MAX_TONE_WORDS",
    "Piece",
    "ReplyAudio",
    "first_words",
    "pcm_piece",
    "resampled_piece",
    "tone_pcm",
    "tone_piece",
]

MAX_TONE_WORDS = 64  # a text turn's reply has one tone per word, for the first 64 words (bounded CPU and memory)
_WORD = re.compile(r"\S+")  # what str.split() splits on, found lazily: a 16 M-character text is not split whole
_GAP_SAMPLES = int(OUTPUT_RATE * 0.05)
_RESAMPLE_BLOCK = 2 * INPUT_RATE  # input bytes resampled at once: 1 s of 16 kHz s16le


@dataclass(frozen=True)
class Piece:
    """`size` bytes of 24 kHz s16le, made by `make()` as blocks in order."""

    size: int
    make: Sequence[bytes] | None = None  # the bytes themselves, when they are already there
    pcm16k: bytes = b""  # or: 16 kHz audio, resampled as it is read
    tones: tuple[tuple[int, int], ...] = ()  # or: (pitch Hz, samples) per tone, each followed by a gap

    def blocks(self) -> Iterator[bytes]:
        if self.make is not None:
            yield from self.make
        elif self.tones:
            for pitch, samples in self.tones:
                yield tone_pcm(pitch, samples) + bytes(2 * _GAP_SAMPLES)
        else:
            resampler = Resampler(INPUT_RATE, OUTPUT_RATE)
            for offset in range(0, len(self.pcm16k), _RESAMPLE_BLOCK):
                yield to_int16(
                    resampler.process(from_pcm16(self.pcm16k[offset : offset + _RESAMPLE_BLOCK]))
                ).tobytes()
            yield to_int16(resampler.flush()).tobytes()


def pcm_piece(pcm: bytes) -> Piece:
    """Audio that is already 24 kHz s16le."""
    return Piece(len(pcm), (pcm,))


def resampled_piece(pcm16k: bytes) -> Piece:
    """16 kHz s16le made 24 kHz as it is read: exactly ceil(n * 3 / 2) samples, as the batch resampler gives."""
    samples = len(pcm16k) // 2
    return Piece(2 * -(-samples * OUTPUT_RATE // INPUT_RATE), pcm16k=pcm16k[: 2 * samples])


def first_words(text: str, limit: int = MAX_TONE_WORDS) -> list[str]:
    """The first `limit` words of `text`, as `text.split()[:limit]` but without splitting the rest."""
    return [match.group() for match in itertools.islice(_WORD.finditer(text), limit)]


def tone_piece(text: str) -> Piece:
    """One tone per word (the first MAX_TONE_WORDS); pitch and length depend on the word, so different texts
    sound different. Nothing is synthesized until it is read."""
    tones = []
    for word in first_words(text) or [""]:
        pitch = 300 + zlib.crc32(word.encode("utf-8", "surrogatepass")) % 600  # a lone surrogate may arrive
        tones.append((pitch, int(OUTPUT_RATE * (0.12 + 0.02 * min(len(word), 10)))))
    size = sum(2 * (samples + _GAP_SAMPLES) for _, samples in tones)
    return Piece(size, tones=tuple(tones))


def tone_pcm(freq: float, n: int, level: float = 0.3) -> bytes:
    """`n` samples of a sine at `freq` with 5 ms ramps at both ends (24 kHz s16le)."""
    t = np.arange(n, dtype=np.float64) / OUTPUT_RATE
    ramp = np.minimum(1.0, np.minimum(np.arange(n), np.arange(n)[::-1]) / (0.005 * OUTPUT_RATE))
    return to_int16((level * ramp * np.sin(2 * math.pi * freq * t)).astype(np.float32)).tobytes()


class ReplyAudio:
    """Pieces of reply audio read once, in order: `len()` is known at once, `chunks()` makes the bytes."""

    def __init__(self, pieces: Sequence[Piece]) -> None:
        self.pieces = tuple(pieces)
        self._size = sum(piece.size for piece in self.pieces)

    def __len__(self) -> int:
        return self._size

    def __bytes__(self) -> bytes:
        return b"".join(block for piece in self.pieces for block in piece.blocks())

    def held_bytes(self) -> int:
        """What it holds until read: the 16 kHz audio and bytes it is made from (tones are made, not held)."""
        return sum(len(piece.pcm16k) + sum(len(b) for b in piece.make or ()) for piece in self.pieces)

    def chunks(self, chunk_bytes: int, end: int) -> Iterator[bytes]:
        """The first `end` bytes in chunks of `chunk_bytes` (the last may be shorter)."""
        carry = b""
        sent = 0
        for piece in self.pieces:
            for block in piece.blocks():
                data = carry + block if carry else block
                offset = 0  # chunks are cut at an offset: slicing the rest off each time copied the block over
                while len(data) - offset >= chunk_bytes and sent < end:
                    take = min(chunk_bytes, end - sent)
                    yield data[offset : offset + take]
                    offset, sent = offset + take, sent + take
                if sent >= end:
                    return
                carry = data[offset:]
        while carry and sent < end:
            take = min(chunk_bytes, end - sent, len(carry))
            yield carry[:take]
            carry, sent = carry[take:], sent + take
