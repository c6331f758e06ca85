"""The echo reply: chime + the user's audio at 24 kHz (tones per word for text), transcripts, 25 tokens/s."""

from __future__ import annotations

import numpy as np

from livecli.server.probe import speechlike
from livecli.server.replies import (
    OUTPUT_RATE,
    InboundAudio,
    audio_seconds,
    chime,
    echo_reply,
    resample_pcm16,
    text_tones,
)


def test_echo_of_audio_is_chime_then_the_input_resampled() -> None:
    pcm = speechlike(2.4)
    reply = echo_reply(2, audio=pcm, rate=16000)
    audio = bytes(reply.audio)  # made as it is read (livecli.server.reply_audio): here, all of it
    assert len(audio) == len(reply.audio)
    assert audio.startswith(chime())
    body = audio[len(chime()) :]
    assert body == resample_pcm16(pcm, 16000, OUTPUT_RATE)
    assert abs(audio_seconds(body) - 2.4) < 0.001
    assert reply.input_transcript == "[2.40 s of audio]"
    assert reply.output_transcript == "turn 2: heard 2.40 s of audio"
    assert reply.usage is not None
    assert reply.usage["promptTokenCount"] == 60  # 2.4 s x 25
    assert reply.usage["responseTokenCount"] == round(audio_seconds(reply.audio) * 25)


def test_resampled_echo_keeps_the_waveform() -> None:
    t = np.arange(16000) / 16000
    tone = (np.sin(2 * np.pi * 440 * t) * 10000).astype("<i2").tobytes()
    out = np.frombuffer(resample_pcm16(tone, 16000), dtype="<i2")
    expected = np.sin(2 * np.pi * 440 * np.arange(out.size) / OUTPUT_RATE) * 10000
    assert out.size == OUTPUT_RATE
    assert np.max(np.abs(out[:-2] - expected[:-2])) < 150


def test_text_turn_gives_one_tone_per_word_and_different_texts_differ() -> None:
    reply = echo_reply(1, text="hello there world")
    assert reply.input_transcript == "hello there world"
    assert reply.output_transcript == 'turn 1: heard "hello there world"'
    assert bytes(reply.audio) == chime() + text_tones("hello there world")
    assert text_tones("hello world") != text_tones("goodbye world")
    assert len(text_tones("a b c")) > len(text_tones("a b"))
    level = np.abs(np.frombuffer(bytes(reply.audio), dtype="<i2")).max()
    assert level > 5000  # never a silent reply


def test_text_modality_answers_with_a_text_part() -> None:
    reply = echo_reply(3, text="hi", text_modality=True)
    assert reply.audio == b""
    assert reply.texts == ['turn 3: heard "hi"']
    assert reply.usage is not None
    assert reply.usage["responseTokensDetails"][0]["modality"] == "TEXT"


def test_echo_is_band_limited() -> None:
    """A 6 kHz tone upsampled to 24 kHz leaves no image at 16 - 6 = 10 kHz (linear interpolation did)."""
    t = np.arange(16000) / 16000
    tone = (np.sin(2 * np.pi * 6000 * t) * 10000).astype("<i2").tobytes()
    out = np.frombuffer(resample_pcm16(tone, 16000), dtype="<i2").astype(np.float64)
    spectrum = np.abs(np.fft.rfft(out * np.hanning(out.size)))
    freqs = np.fft.rfftfreq(out.size, 1 / OUTPUT_RATE)
    image = spectrum[(freqs > 9800) & (freqs < 10200)].max()
    assert image < spectrum.max() * 1e-3


def test_inbound_audio_streams_chunk_by_chunk_like_one_pass() -> None:
    pcm8k = speechlike(1.0, rate=8000)
    inbound = InboundAudio()
    streamed = b"".join(inbound.convert(pcm8k[i : i + 640], 8000) for i in range(0, len(pcm8k), 640))
    streamed += inbound.flush()
    whole = resample_pcm16(pcm8k, 8000, 16000)
    assert len(streamed) == len(whole) == 32000
    difference = np.frombuffer(streamed, "<i2").astype(int) - np.frombuffer(whole, "<i2")
    assert np.abs(difference).max() <= 1  # float rounding only
    assert inbound.convert(b"\x01\x00", 16000) == b"\x01\x00"  # 16 kHz passes through untouched
