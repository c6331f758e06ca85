"""Video in (`send --video FILE`): frames sampled at --fps as JPEG, the audio track as 16 kHz mono s16le chunks,
merged into one timeline in presentation-time order.

Whatever PyAV (FFmpeg) decodes: MP4, MOV, WebM, MKV… `open_video` probes the file before anything is sent (a
container that does not open, no video stream, a first frame or audio block that does not decode: one
MediaInputError line, exit 6). `VideoInput.timeline` then decodes as it goes: the video and the audio stream are
each read by their own demuxer (the file is opened twice), so a container that stores its audio far from its
video (poorly interleaved MP4) never makes either side wait in memory; the two are merged lazily. What is held at
any time is one decoded frame, one audio block and the resampler's history, whatever the file's length.

Times are seconds from the earliest stream start (a container whose streams start at 10 s still starts at 0).
The audio is sent as one continuous stream from its first sample: gaps in the track are not padded (livecli's
choice, docs/wire.md, "Video files"). PyAV and Pillow are imported only through livecli.extras (`livecli[media]`).
"""

from __future__ import annotations

import heapq
import math
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt

from livecli.audio.chunks import chunk_bytes, rechunk
from livecli.audio.decode import FLOAT_LIMIT, MAX_INPUT_RATE, MIN_INPUT_RATE, mix_to_mono
from livecli.audio.resample import Resampler, to_int16
from livecli.errors import MediaInputError, UsageError
from livecli.extras import import_extra
from livecli.media.images import DEFAULT_LONG_SIDE_PX, to_jpeg
from livecli.protocol.wire import INPUT_BYTES_PER_S, INPUT_RATE

__all__ = [
    "DEFAULT_FPS",
    "MAX_FPS",
    "AudioPiece",
    "FramePiece",
    "VideoInput",
    "check_fps",
    "open_video",
]

DEFAULT_FPS = 1.0
# The most frames a second livecli samples (livecli's choice, docs/wire.md, "Video files"): each JPEG frame costs
# tokens, and a model describes motion well at a few frames a second.
MAX_FPS = 5.0
_TIME_SLACK_S = 1e-3  # a frame stamped 0.9999 s is the one due at 1 s (time bases round)


def check_fps(fps: float) -> float:
    """`fps` if it is a sampling rate livecli takes (above 0, at most MAX_FPS), else UsageError."""
    if not 0 < fps <= MAX_FPS or math.isnan(fps):
        raise UsageError(f"--fps must be above 0 and at most {MAX_FPS:g} frames a second, got {fps:g}")
    return fps


@dataclass(frozen=True)
class FramePiece:
    """One sampled frame, encoded: due at `t_s` (seconds from the start of the video)."""

    t_s: float
    data: bytes
    mime: str
    width: int
    height: int


@dataclass(frozen=True)
class AudioPiece:
    """One chunk of the audio track, 16 kHz mono s16le: due at `t_s`."""

    t_s: float
    pcm: bytes
    appended: bool = False  # silence livecli appends (--turn-end silence), not the file's audio


TimelineItem = FramePiece | AudioPiece


def _av() -> ModuleType:
    return import_extra("av", needed_by="--video")


def _reason(exc: BaseException) -> str:
    """FFmpeg's message without the file name PyAV appends (the name is already in front)."""
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return str(text).replace("\n", " ").rstrip(".")


class VideoInput:
    """A probed video file; `timeline(fps, chunk_ms)` streams its frames and audio in time order."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.name = path
        av = _av()
        import_extra("PIL.Image", needed_by="--video")  # frames become JPEG: a missing Pillow is said up front
        with self._open(av) as container:
            video = container.streams.video[0] if container.streams.video else None
            if video is None:
                raise MediaInputError(f"{path}: no video stream (for audio alone, give the file as FILE)")
            audio = container.streams.audio[0] if container.streams.audio else None
            self.origin_s = _origin(container)
            self.duration_s = _duration(container, self.origin_s)
            first = self._first_frame(container, video)
            self.width, self.height = int(first.width), int(first.height)
            self.has_audio = audio is not None
            self.audio_rate = self.audio_channels = 0
            if audio is not None:
                self._probe_audio(container, audio)

    # --- probing ---------------------------------------------------------------------------------------------

    def _open(self, av: ModuleType) -> Any:
        try:
            if os.path.isdir(self.path):
                raise MediaInputError(f"{self.path}: is a directory, not a video file")
            return av.open(self.path, "r")
        except FileNotFoundError:
            raise MediaInputError(f"{self.path}: no such file") from None
        except (av.error.FFmpegError, OSError, ValueError, UnicodeError) as exc:
            raise MediaInputError(f"{self.path}: not a readable video ({_reason(exc)})") from None

    def _first_frame(self, container: Any, stream: Any) -> Any:
        av = _av()
        try:
            for frame in container.decode(stream):
                return frame
        except (av.error.FFmpegError, ValueError) as exc:
            raise MediaInputError(f"{self.path}: the video does not decode ({_reason(exc)})") from None
        raise MediaInputError(f"{self.path}: no video frames")

    def _probe_audio(self, container: Any, stream: Any) -> None:
        av = _av()
        container.seek(0)
        try:
            frame = next(iter(container.decode(stream)), None)
        except (av.error.FFmpegError, ValueError) as exc:
            raise MediaInputError(f"{self.path}: the audio track does not decode ({_reason(exc)})") from None
        rate = int(frame.sample_rate if frame is not None else stream.rate or 0)
        if frame is None:  # an audio stream with no packets: the video is sent without audio
            self.has_audio = False
            return
        if not MIN_INPUT_RATE <= rate <= MAX_INPUT_RATE:
            raise MediaInputError(
                f"{self.path}: unsupported audio sample rate {rate} Hz "
                f"(livecli takes {MIN_INPUT_RATE}–{MAX_INPUT_RATE} Hz)"
            )
        self.audio_rate, self.audio_channels = rate, int(frame.layout.nb_channels)

    @property
    def audio_bytes(self) -> int:
        """The 16 kHz s16le bytes the audio track becomes (from the container's duration: an estimate)."""
        return round(self.duration_s * INPUT_RATE) * 2 if self.has_audio else 0

    # --- streaming -------------------------------------------------------------------------------------------

    def timeline(
        self, fps: float, chunk_ms: int, *, long_side: int = DEFAULT_LONG_SIDE_PX, tail: Iterable[bytes] = ()
    ) -> Iterator[TimelineItem]:
        """Frames at `fps` (JPEG, long side at most `long_side`) and `chunk_ms` audio chunks, then `tail` (appended
        silence, marked `appended`), merged by due time.

        A frame and an audio chunk due at the same moment: the frame first (what the model sees goes with what
        it hears from then on).
        """
        check_fps(fps)
        frames = self.frames(fps, long_side)
        audio = self.audio(chunk_ms, tail)
        return heapq.merge(frames, audio, key=lambda item: item.t_s)

    def frames(self, fps: float, long_side: int = DEFAULT_LONG_SIDE_PX) -> Iterator[FramePiece]:
        """The frames sampled at `fps`: the first frame shown at or after each 1/fps tick, as JPEG scaled down to
        `long_side` pixels (the media target, livecli.media.images).

        A video slower than `fps` sends every frame; a held frame (variable frame rate) is not repeated.
        """
        av = _av()
        next_due = 0.0
        last_t = -1.0
        with self._open(av) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"  # frame threads: decoding keeps up with real time on long HD files
            step = 1 / float(stream.average_rate) if stream.average_rate else 1 / fps
            for frame in self._decoded(container, stream, "video"):
                t = frame.time - self.origin_s if frame.time is not None else last_t + step
                last_t = t
                if t + _TIME_SLACK_S < next_due:
                    continue
                data, width, height = to_jpeg(frame.to_image(), long_side)
                yield FramePiece(max(0.0, t), data, "image/jpeg", width, height)
                next_due = (math.floor(t * fps + _TIME_SLACK_S) + 1) / fps

    def audio(self, chunk_ms: int, tail: Iterable[bytes] = ()) -> Iterator[AudioPiece]:
        """The audio track as 16 kHz mono s16le chunks of `chunk_ms` (the last may be short), then `tail`."""
        chunk_s = chunk_bytes(chunk_ms) / INPUT_BYTES_PER_S
        start: list[float] = []
        pcm = self._pcm16(start) if self.has_audio else iter(())
        sent = 0
        for chunk in rechunk(pcm, chunk_bytes(chunk_ms)):
            yield AudioPiece((start[0] if start else 0.0) + sent / INPUT_BYTES_PER_S, chunk)
            sent += len(chunk)
        begin = (start[0] if start else 0.0) + sent / INPUT_BYTES_PER_S
        for i, chunk in enumerate(tail):
            yield AudioPiece(begin + i * chunk_s, chunk, appended=True)

    def _pcm16(self, start: list[float]) -> Iterator[bytes]:
        """The audio track as 16 kHz mono s16le blocks; `start` receives the first block's time."""
        av = _av()
        resampler = Resampler(self.audio_rate, INPUT_RATE)
        planar = av.AudioResampler(format="fltp")  # any sample format → float planes, rate and channels kept
        with self._open(av) as container:
            stream = container.streams.audio[0]
            for decoded in self._decoded(container, stream, "audio"):
                if not start:
                    start.append(max(0.0, (decoded.time or 0.0) - self.origin_s))
                if decoded.sample_rate != self.audio_rate:
                    raise MediaInputError(
                        f"{self.path}: the audio sample rate changes mid-stream "
                        f"({self.audio_rate} → {decoded.sample_rate} Hz)"
                    )
                for frame in self._planes(planar, decoded):
                    yield to_int16(resampler.process(_mono(frame))).tobytes()
            for frame in self._planes(planar, None):  # what the format converter still holds
                yield to_int16(resampler.process(_mono(frame))).tobytes()
        yield to_int16(resampler.flush()).tobytes()

    def _planes(self, planar: Any, decoded: Any) -> list[Any]:
        """`decoded` (None: the end) as float-plane frames; a layout the converter cannot take is bad input."""
        av = _av()
        try:
            return list(planar.resample(decoded))
        except (av.error.FFmpegError, ValueError) as exc:
            raise MediaInputError(f"{self.path}: the audio track cannot be converted ({_reason(exc)})") from None

    def _decoded(self, container: Any, stream: Any, what: str) -> Iterator[Any]:
        """Decoded frames of one stream; a decoding error mid-file is one MediaInputError saying where."""
        av = _av()
        at = 0.0
        frames = container.decode(stream)
        while True:
            try:
                frame = next(frames)
            except StopIteration:
                return
            except (av.error.FFmpegError, ValueError) as exc:
                raise MediaInputError(
                    f"{self.path}: corrupt {what} after {at:.2f} s of {self.duration_s:.2f} s ({_reason(exc)})"
                ) from None
            if frame.time is not None:
                at = max(at, frame.time - self.origin_s)
            yield frame


def _mono(frame: Any) -> npt.NDArray[np.float32]:
    """A float-plane audio frame (channels, samples) as the mono mix the audio path sends."""
    return mix_to_mono(_finite(np.asarray(frame.to_ndarray(), np.float32).T))


def _finite(block: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """NaN → 0, ±inf → ±1, absurd values clipped (a float codec can decode anything from a broken file)."""
    cleaned: npt.NDArray[np.float32] = np.nan_to_num(block, nan=0.0, posinf=1.0, neginf=-1.0)
    np.clip(cleaned, -FLOAT_LIMIT, FLOAT_LIMIT, out=cleaned)
    return cleaned


def _origin(container: Any) -> float:
    """The earliest stream start, in seconds: time 0 of the timeline."""
    starts = [
        float(s.start_time * s.time_base)
        for s in (*container.streams.video, *container.streams.audio)
        if s.start_time is not None and s.time_base is not None
    ]
    return min(starts) if starts else 0.0


def _duration(container: Any, origin_s: float) -> float:
    """The video's length in seconds: the container's, a stream's, or (neither known) the last packet's end."""
    if container.duration:
        return float(container.duration / 1_000_000)  # in microseconds, from the earliest start
    known = [
        float(s.duration * s.time_base)
        for s in (*container.streams.video, *container.streams.audio)
        if s.duration and s.time_base is not None
    ]
    if known:
        return max(known)
    end = 0.0
    for packet in container.demux():  # packets only, nothing decoded: one read of the file
        if packet.pts is not None and packet.time_base is not None:
            end = max(end, float((packet.pts + (packet.duration or 0)) * packet.time_base) - origin_s)
    container.seek(0)
    return end


def open_video(path: str) -> VideoInput:
    """Probe `path` as a video (MediaInputError when it is not one PyAV decodes; MissingExtra without PyAV)."""
    return VideoInput(path)
