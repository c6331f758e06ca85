"""The real devices: PortAudio through sounddevice (the optional `livecli[talk]` extra).

sounddevice is imported only here, through livecli.extras (a missing package: exit 2 naming the pip command), and
its import fails with OSError when the PortAudio library itself is missing: that too is one line naming what to
install. PortAudio calls the stream callbacks on its own thread: a captured block is handed to the event loop
(`call_soon_threadsafe`), a playback block is pulled from the thread-safe JitterBuffer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from livecli.audio.devices import DEFAULT_BUFFER_MS, CaptureBlock, JitterBuffer
from livecli.errors import AudioInputError, MissingExtra, UsageError
from livecli.extras import import_extra

__all__ = ["DeviceInfo", "SoundDeviceCapture", "SoundDevicePlayback", "find_device", "list_devices", "sounddevice"]

BLOCK_MS = 20  # PortAudio block: the capture's delivery step, and how late a flush can stop playback at most


def sounddevice(needed_by: str) -> ModuleType:
    """The sounddevice module, or one usage error naming what to install (the package, or PortAudio)."""
    try:
        return import_extra("sounddevice", needed_by=needed_by)
    except OSError as exc:  # the package is there, the PortAudio library is not
        raise MissingExtra(
            f"{needed_by} needs the PortAudio library ({exc}): apt-get install libportaudio2 "
            "(Debian/Ubuntu), brew install portaudio (macOS), or pip install --force-reinstall sounddevice"
        ) from None


@dataclass(frozen=True)
class DeviceInfo:
    """One PortAudio device as `livecli devices` lists it."""

    index: int
    name: str
    host_api: str
    max_input_channels: int
    max_output_channels: int
    default_rate: int
    default_input: bool
    default_output: bool

    def fields(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "name": self.name,
            "host_api": self.host_api,
            "inputs": self.max_input_channels,
            "outputs": self.max_output_channels,
            "default_rate": self.default_rate,
            "default_input": self.default_input,
            "default_output": self.default_output,
        }


def list_devices(needed_by: str = "livecli devices") -> list[DeviceInfo]:
    """Every device PortAudio sees, with the defaults marked."""
    sd = sounddevice(needed_by)
    try:
        devices = sd.query_devices()
        apis = sd.query_hostapis()
        default_in, default_out = (int(i) if i is not None else -1 for i in sd.default.device)
    except sd.PortAudioError as exc:
        raise UsageError(f"cannot list the audio devices: {exc}") from None
    return [
        DeviceInfo(
            index=int(d["index"]),
            name=str(d["name"]),
            host_api=str(apis[d["hostapi"]]["name"]),
            max_input_channels=int(d["max_input_channels"]),
            max_output_channels=int(d["max_output_channels"]),
            default_rate=int(d["default_samplerate"]),
            default_input=int(d["index"]) == default_in,
            default_output=int(d["index"]) == default_out,
        )
        for d in devices
    ]


def find_device(spec: str | None, kind: str, needed_by: str) -> DeviceInfo:
    """The device `spec` names (an index, or a case-insensitive substring of one name) that can `kind` ("input"
    or "output"); None: the default one. A name matching several devices is refused, listing them."""
    devices = list_devices(needed_by)
    able = [d for d in devices if (d.max_input_channels if kind == "input" else d.max_output_channels) > 0]
    option = f"--{kind}-device"
    if spec is None:
        chosen = [d for d in able if (d.default_input if kind == "input" else d.default_output)]
        if not chosen and able:
            chosen = able[:1]
        if not chosen:
            raise UsageError(f"no audio {kind} device found (see `livecli devices`)")
        return chosen[0]
    if spec.strip().isdigit():
        found = [d for d in devices if d.index == int(spec)]
        if not found:
            raise UsageError(f"{option} {spec}: no device has that index (see `livecli devices`)")
        if found[0] not in able:
            raise UsageError(f"{option} {spec}: {found[0].name!r} has no {kind} channels")
        return found[0]
    found = [d for d in able if spec.lower() in d.name.lower()]
    exact = [d for d in found if d.name.lower() == spec.lower()]
    if len(exact) == 1 or len(found) == 1:
        return (exact or found)[0]
    if not found:
        raise UsageError(f"{option} {spec!r}: no {kind} device's name contains it (see `livecli devices`)")
    names = ", ".join(f"{d.index}: {d.name!r}" for d in found)
    raise UsageError(f"{option} {spec!r} matches several devices ({names}): give an index")


class SoundDeviceCapture:
    """A PortAudio input stream at the device's native rate and up to two channels (mixed to mono later)."""

    def __init__(self, spec: str | None, *, needed_by: str = "livecli talk") -> None:
        self.sd = sounddevice(needed_by)
        self.device = find_device(spec, "input", needed_by)
        self.name = self.device.name
        self.rate = self.device.default_rate
        self.channels = min(2, self.device.max_input_channels)
        self._stream: Any = None
        self._closing = False

    def start(
        self, deliver: Callable[[CaptureBlock], None], ended: Callable[[BaseException | None], None]
    ) -> None:
        loop = asyncio.get_running_loop()

        def finished() -> None:  # (PortAudio's thread) a stream that stops on its own lost its device
            if not self._closing:
                lost = AudioInputError(
                    f"the microphone {self.name!r} stopped (unplugged, or taken by another program)"
                )
                loop.call_soon_threadsafe(ended, lost)

        def callback(indata: np.ndarray[Any, Any], frames: int, when: Any, status: Any) -> None:
            # (PortAudio's thread) the block's last frame was captured about now
            block = CaptureBlock(np.array(indata, np.float32), time.monotonic())
            loop.call_soon_threadsafe(deliver, block)

        try:
            self._stream = self.sd.InputStream(
                device=self.device.index,
                channels=self.channels,
                samplerate=self.rate,
                dtype="float32",
                blocksize=self.rate * BLOCK_MS // 1000,
                callback=callback,
                finished_callback=finished,
            )
            self._stream.start()
        except self.sd.PortAudioError as exc:
            raise UsageError(f"cannot capture from {self.name!r}: {exc}") from None

    def close(self) -> None:
        self._closing = True
        if self._stream is not None:
            stream, self._stream = self._stream, None
            stream.abort()
            stream.close()


class SoundDevicePlayback:
    """A PortAudio output stream (mono s16le) that pulls its blocks from a JitterBuffer: at 24 kHz when the
    device takes it, else at its native rate (the Speaker resamples)."""

    def __init__(
        self, spec: str | None, *, buffer_ms: int = DEFAULT_BUFFER_MS, needed_by: str = "livecli talk"
    ) -> None:
        self.sd = sounddevice(needed_by)
        self.device = find_device(spec, "output", needed_by)
        self.name = self.device.name
        self.rate = self._rate()
        self.buffer = JitterBuffer(self.rate, buffer_ms)
        self._stream: Any = None

    def _rate(self) -> int:
        from livecli.protocol.wire import OUTPUT_RATE

        try:
            self.sd.check_output_settings(
                device=self.device.index, channels=1, dtype="int16", samplerate=OUTPUT_RATE
            )
            return OUTPUT_RATE
        except Exception:  # (sounddevice raises PortAudioError or ValueError) the device's own rate, resampled to
            return self.device.default_rate

    def start(self) -> None:
        buffer = self.buffer

        def callback(outdata: np.ndarray[Any, Any], frames: int, when: Any, status: Any) -> None:
            # the block starts playing at the DAC time: that much after now on the monotonic clock
            lead = max(0.0, float(when.outputBufferDacTime - when.currentTime)) if when is not None else 0.0
            pcm = buffer.pull(frames, time.monotonic() + lead)
            outdata[:, 0] = np.frombuffer(pcm, "<i2")

        try:
            self._stream = self.sd.OutputStream(
                device=self.device.index,
                channels=1,
                samplerate=self.rate,
                dtype="int16",
                blocksize=self.rate * BLOCK_MS // 1000,
                callback=callback,
            )
            self._stream.start()
        except self.sd.PortAudioError as exc:
            raise UsageError(f"cannot play through {self.name!r}: {exc}") from None

    def close(self) -> None:
        if self._stream is not None:
            stream, self._stream = self._stream, None
            stream.abort()
            stream.close()
