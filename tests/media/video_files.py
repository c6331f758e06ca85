"""Real video files for the tests, written with PyAV: numbered grey frames and a 440 Hz tone track."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from helpers import dev_only

TONE_HZ = 440.0


def make_video(
    path: Path,
    *,
    seconds: float = 3.0,
    fps: int = 10,
    size: tuple[int, int] = (64, 48),
    vcodec: str = "mpeg4",
    acodec: str | None = "aac",
    rate: int = 48000,
    channels: int = 2,
) -> str:
    """A video of `seconds` at `fps` (frame i is grey level 8·i) with a tone track (`acodec` None: no audio)."""
    av: Any = dev_only("av")
    layout = "stereo" if channels == 2 else "mono"
    with av.open(str(path), "w") as out:
        video = out.add_stream(vcodec, rate=fps)
        video.width, video.height = size
        video.pix_fmt = "yuv420p"
        audio = out.add_stream(acodec, rate=rate, layout=layout) if acodec else None
        written = 0
        for i in range(round(seconds * fps)):
            pixels = np.full((size[1], size[0], 3), (i * 8) % 256, np.uint8)
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts = i
            out.mux(video.encode(frame))
            if audio is not None:
                written = _write_tone(out, audio, written, round((i + 1) / fps * rate), rate, channels)
        out.mux(video.encode(None))
        if audio is not None:
            out.mux(audio.encode(None))
    return str(path)


def _write_tone(out: Any, stream: Any, start: int, stop: int, rate: int, channels: int) -> int:
    """Encode tone samples start..stop in codec-sized frames; returns where it stopped."""
    av: Any = dev_only("av")
    fmt = stream.codec_context.format.name
    step = stream.codec_context.frame_size or 1024
    while start < stop:
        count = min(step, stop - start)
        tone = (0.3 * np.sin(2 * np.pi * TONE_HZ * np.arange(start, start + count) / rate)).astype(np.float32)
        planes = np.stack([tone] * channels)
        if not fmt.startswith("flt"):
            planes = (planes * 32767).astype(np.int16)
        if not fmt.endswith("p"):  # packed: one plane of interleaved samples
            planes = planes.T.reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(planes, format=fmt, layout=stream.layout.name)
        frame.sample_rate, frame.pts = rate, start
        out.mux(stream.encode(frame))
        start += count
    return start


def ramp_video(path: Path, seconds: int) -> np.ndarray[Any, np.dtype[np.int16]]:
    """A 1 fps video with a 16 kHz mono PCM track whose sample i is i mod 30000 (any sample missing, repeated or
    out of order shows in what a server receives); returns the samples."""
    av: Any = dev_only("av")
    samples = (np.arange(seconds * 16000) % 30000).astype(np.int16)
    with av.open(str(path), "w") as out:
        video = out.add_stream("mpeg4", rate=1)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        audio = out.add_stream("pcm_s16le", rate=16000, layout="mono")
        for i in range(seconds):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), i * 20 % 256, np.uint8), format="rgb24")
            frame.pts = i
            out.mux(video.encode(frame))
            second = samples[i * 16000 : (i + 1) * 16000].reshape(1, -1)
            block = av.AudioFrame.from_ndarray(second, format="s16", layout="mono")
            block.sample_rate, block.pts = 16000, i * 16000
            out.mux(audio.encode(block))
        out.mux(video.encode(None))
        out.mux(audio.encode(None))
    return samples
