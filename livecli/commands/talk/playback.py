"""The reply into the speaker as it arrives: the one playback path of `talk`, `send --play`, `text --play` and
`chat --play`.

A `Reporter` in front of the display, as `-o -` streams the reply (commands/stream_out): every reply audio chunk
the client reports is queued on the Speaker (audio/devices) at once; `interrupted` flushes it, so playback stops
within one block (barge-in), and the rest of that turn's audio is dropped, as is the rest of a turn the user
silenced with a key (`skip`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from livecli.commands.forwarding import ForwardingReporter
from livecli.protocol.events import AudioChunk, Interrupted, ServerEvent
from livecli.protocol.report import Reporter

if TYPE_CHECKING:
    from livecli.audio.devices import Speaker
    from livecli.protocol.turns import Turn

__all__ = ["PlaybackTap", "finish_playback", "open_speaker"]


class PlaybackTap(ForwardingReporter):
    """Plays reply audio through `speaker` and passes every report on to `inner`."""

    def __init__(self, inner: Reporter, speaker: Speaker) -> None:
        super().__init__(inner)
        self.speaker = speaker
        self.skipped: set[int] = set()  # turns whose remaining audio is not played
        self.interrupted_at: list[float] = []  # when each `interrupted` was applied (the speaker's clock)

    def skip(self, turn: Turn | None) -> None:
        """Stop playing now, and drop the rest of `turn`'s audio."""
        self.speaker.flush()
        if turn is not None:
            self.skipped.add(turn.index)

    def server_event(self, event: ServerEvent, turn: Turn | None) -> None:
        if isinstance(event, AudioChunk) and event.data:
            if turn is None or turn.index not in self.skipped:
                self.speaker.write(event.data, event.rate)
        elif isinstance(event, Interrupted):
            self.interrupted_at.append(self.speaker.clock())
            self.skip(turn)
        self.inner.server_event(event, turn)


def open_speaker(device: str | None, buffer_ms: int, *, needed_by: str) -> Speaker:
    """The real speaker (`--output-device`, index or name substring; None: the default) behind a Speaker."""
    import time

    from livecli.audio.devices import Speaker
    from livecli.audio.sound_device import SoundDevicePlayback

    sink = SoundDevicePlayback(device, buffer_ms=buffer_ms, needed_by=needed_by)
    return Speaker(sink, time.monotonic)


def finish_playback(speaker: Speaker, *, stop_now: bool) -> None:
    """After a run (send/text --play, no event loop): let what is queued play out (a second more than it lasts at
    most) unless the run failed or was interrupted (`stop_now`); the device is closed either way (Ctrl-C too)."""
    import time

    try:
        deadline = time.monotonic() + (
            0.0 if stop_now else speaker.buffer.queued_s + speaker.buffer.buffer_s + 1.0
        )
        while speaker.playing and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        speaker.close()
