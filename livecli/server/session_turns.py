"""Where user turns come from: activity brackets, the VAD, and realtimeInput text (sans I/O).

A ServerSession owns one InputTurns once the setup is known and hands it each realtimeInput. InputTurns calls
back `on_speech(now)` when the user starts speaking (a possible barge-in) and `on_turn(now, heard)` when a user
turn ends (docs/wire.md, "Voice activity").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from livecli.protocol import close_reasons as cr
from livecli.server.frames import NO_FRAMES, FramesSeen, FrameTally, check_frame, is_image_blob, only_activity
from livecli.server.image_headers import ImageHeader
from livecli.server.replies import INPUT_RATE, MAX_TURN_AUDIO_S, InboundAudio
from livecli.server.vad import EnergyVad, VadParams
from livecli.server.validate import Refusal, SetupInfo, decode_audio_blob

__all__ = ["Heard", "InputTurns"]

# The text kept from one activity's realtimeInput.text messages, so many of them cannot grow a turn without end
# (a single message is bounded by the frame size); the rest is dropped.
MAX_ACTIVITY_TEXT_CHARS = 1 << 20


@dataclass(frozen=True)
class Heard:
    """One finished user turn: `text`, or 16 kHz PCM `audio` of a turn lasting `seconds`, or both (an activity's
    audio and the text sent inside it).

    `seconds` may exceed the audio's length: at most MAX_TURN_AUDIO_S of a turn is kept, all of it is counted.
    `frames`: the video frames that belong to the turn (livecli.server.frames).
    """

    audio: bytes = b""
    seconds: float = 0.0
    text: str | None = None
    frames: FramesSeen = NO_FRAMES


class InputTurns:
    """The input side of one session: automatic activity detection (the VAD) or explicit activity brackets."""

    def __init__(
        self,
        setup: SetupInfo,
        *,
        on_speech: Callable[[float], None],
        on_turn: Callable[[float, Heard], None],
        stream_end_ignored: bool = False,
    ) -> None:
        self.automatic = setup.automatic_vad
        self.vad = (
            EnergyVad(VadParams.from_setup(setup.vad), max_turn_s=MAX_TURN_AUDIO_S) if self.automatic else None
        )
        self.on_speech = on_speech
        self.on_turn = on_turn
        self.stream_end_ignored = stream_end_ignored
        self.inbound = InboundAudio()
        self.activity_open = False
        self._reset_activity()
        self.frames = FrameTally(only_activity(setup.turn_coverage, setup.info))

    def _reset_activity(self) -> None:
        """Nothing heard yet in the (next) activity: its audio, and the realtimeInput.text sent inside it."""
        self._activity_audio: list[bytes] = []
        self._activity_bytes = 0
        self._activity_text: list[str] = []
        self._activity_text_chars = 0

    def deadline(self) -> float | None:
        """When the VAD next has something to decide (a silence long enough to end the turn), or None."""
        return self.vad.deadline() if self.vad is not None else None

    def poll(self, now: float) -> None:
        """Let the VAD end a turn whose trailing silence has lasted long enough by `now`."""
        if self.vad is not None:
            self._vad_events(self.vad.poll(now), now)

    def realtime_input(self, body: dict[str, Any], now: float) -> None:
        """audio / video / mediaChunks / text / activityStart / activityEnd / audioStreamEnd."""
        if "audio" in body:
            self._on_audio(*decode_audio_blob(body["audio"], "realtime_input.audio"), now)
        if "video" in body:
            self._on_frame(check_frame(body["video"], "realtime_input.video"))
        for index, blob in enumerate(body.get("mediaChunks", [])):
            if is_image_blob(blob):
                self._on_frame(check_frame(blob, f"realtime_input.media_chunks[{index}]"))
            elif str(blob.get("mimeType", "audio/pcm")).startswith("audio/"):
                self._on_audio(*decode_audio_blob(blob, f"realtime_input.media_chunks[{index}]"), now)
        if "activityStart" in body:
            if self.automatic:
                raise Refusal.of(cr.INVALID_ARGUMENT)
            self.on_speech(now)
            self.activity_open = True
            self._reset_activity()
        if "activityEnd" in body:
            if self.automatic:
                raise Refusal.of(cr.INVALID_ARGUMENT)
            if self.activity_open:
                self._keep(self.inbound.flush())
                self.activity_open = False
                seconds = self._activity_bytes / 2 / INPUT_RATE
                text = "\n".join(self._activity_text) if self._activity_text else None
                heard = Heard(b"".join(self._activity_audio), seconds, text, frames=self.frames.take())
                self._reset_activity()
                self.on_turn(now, heard)
        if "text" in body and self.activity_open:  # part of the activity's turn (docs/wire.md, "Voice activity")
            room = MAX_ACTIVITY_TEXT_CHARS - self._activity_text_chars
            if room > 0:
                self._activity_text.append(body["text"][:room])
                self._activity_text_chars += len(self._activity_text[-1])
        elif "text" in body:
            self.on_speech(now)
            self.on_turn(now, Heard(text=body["text"], frames=self.frames.take()))
        if body.get("audioStreamEnd") is True and self.vad is not None and not self.stream_end_ignored:
            self._vad_events(self.vad.feed(self.inbound.flush(), now) + self.vad.end(), now)

    def _on_frame(self, header: ImageHeader) -> None:
        """A checked frame joins the turn under way (or is dropped outside an activity, as the coverage says)."""
        in_activity = self.vad.in_speech if self.vad is not None else self.activity_open
        self.frames.arrived(header, in_activity=in_activity)

    def _on_audio(self, pcm: bytes, rate: int, now: float) -> None:
        """Audio arrives at any declared rate and is heard at 16 kHz (resampled as it streams in)."""
        if self.vad is not None:
            self._vad_events(self.vad.feed(self.inbound.convert(pcm, rate), now), now)
        elif self.activity_open:
            self._keep(self.inbound.convert(pcm, rate))

    def _keep(self, pcm: bytes) -> None:
        """Add to the open activity's audio: at most MAX_TURN_AUDIO_S is stored, all of it is counted."""
        cap = int(MAX_TURN_AUDIO_S * INPUT_RATE) * 2
        room = cap - min(self._activity_bytes, cap)
        if room > 0 and pcm:
            self._activity_audio.append(pcm[:room])
        self._activity_bytes += len(pcm)

    def _vad_events(self, events: list[str], now: float) -> None:
        assert self.vad is not None
        for event in events:
            if event == "start":
                self.on_speech(now)
            else:
                self.on_turn(now, Heard(self.vad.take_turn(), self.vad.turn_s, frames=self.frames.take()))
