"""The driving task of `talk`: captured audio out as it comes, keys, half duplex, the turn latency.

Everything runs in the one task that drives the Conversation (client/conversation): the capture source, the keys
and the socket's reader only queue what they have and wake it through the inbox's event; `step` then applies the
frames (the PlaybackTap queues reply audio on the speaker as each is applied), the keys, and sends the captured
audio that is due. So the session is changed from this task only, also across reconnects: `converse` is the
Resumer's attempt, called again on the new connection after a goAway or a drop, and it reopens the input there.

Turn-taking (README, "Talk"): under server VAD (the default) one input stays open and the microphone streams into
it; the server decides where turns end and interrupts its reply when the user speaks. With --push-to-talk space
opens an activity (activityStart) and closes it (activityEnd). Half duplex (the default: no --headphones): while
the model speaks the microphone is muted (its audio is not sent), and Enter or space stops playback and unmutes
it, so the user is heard and the model interrupted. Full duplex (--headphones): always open; on `interrupted`
the tap flushes the speaker.

The turn latency runs from the last captured block above -50 dBFS that was sent (the end of the user's speech)
to the first audible sample of the reply played (the JitterBuffer notes when it plays).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from livecli.audio.devices import CaptureBlock, MicChunks, Speaker
from livecli.audio.pacing import MAX_DUE_AT_ONCE
from livecli.client.conversation import Conversation, ReconnectNow
from livecli.commands.talk.keys import SPACE, KeySource
from livecli.commands.talk.playback import PlaybackTap
from livecli.protocol.report import NEAR_SILENT_DBFS
from livecli.protocol.session import State

if TYPE_CHECKING:
    from livecli.audio.devices import CaptureSource
    from livecli.media.images import ImageFrame
    from livecli.protocol.turns import Turn

__all__ = ["TalkDisplay", "TalkLoop"]

POLL_S = 0.05  # the longest the loop sleeps with nothing arriving (meter, state and latency stay fresh)
SPEECH_END_S = 0.3  # this long below -50 dBFS after speech: the user has stopped, the state says "thinking"
END_SETTLE_S = 1.0  # after the end of input: done once the server was quiet this long and playback is over
END_LIMIT_S = 30.0  # ...or this long after the end of input at the most
# Half duplex: the microphone stays muted this long after the buffer ran dry, while the device plays its own
# buffer out and the room's echo fades (a key press unmutes at once).
ECHO_TAIL_S = 0.2


class TalkDisplay(Protocol):
    """What the loop tells the display besides the Reporter's events (commands/talk/view)."""

    def level(self, dbfs: float) -> None: ...

    def set_state(self, state: str, *, muted: bool = False) -> None: ...

    def latency(self, seconds: float) -> None: ...

    def notice(self, text: str) -> None: ...


class TalkLoop:
    """One conversation's driving loop over `conv` (see the module docstring)."""

    def __init__(
        self,
        conv: Conversation,
        tap: PlaybackTap,
        display: TalkDisplay,
        capture: CaptureSource,
        keys: KeySource,
        *,
        chunk_ms: int,
        push_to_talk: bool,
        headphones: bool,
        images: Sequence[ImageFrame] = (),
        end_settle_s: float = END_SETTLE_S,
        on_reply: Callable[[], None] = lambda: None,
    ) -> None:
        self.conv = conv
        self.tap = tap
        self.speaker: Speaker = tap.speaker
        self.display = display
        self.capture = capture
        self.keys = keys
        self.mic = MicChunks(capture.rate, chunk_ms)
        self.push_to_talk = push_to_talk
        self.headphones = headphones
        self.images = list(images)  # sent at the start of the first turn, then forgotten
        self.end_settle_s = end_settle_s
        self.on_reply = on_reply  # a turn was answered: the connection is healthy (the Resumer's budget resets)
        self.clock = conv.clock
        self.talking = False  # push-to-talk: an activity is open
        self.captured: deque[CaptureBlock] = deque()
        self.pressed: deque[str] = deque()
        self.input_ended = False  # the capture source has no more: finish the turn, then the conversation
        self.capture_error: BaseException | None = None
        self.done = False
        self.last_speech_at: float | None = None  # the last sent block above -50 dBFS (capture clock)
        self.latencies: list[float] = []  # every turn latency measured, in seconds
        self.muted_blocks = 0  # blocks captured while the microphone was muted (half duplex)
        self.sent_blocks = 0
        self._measured_from: float | None = None  # the speech end the last latency was measured from
        self._answered = 0  # the newest turn known to have a whole reply
        self._echo_until = 0.0  # half duplex: muted until then (the echo tail after playback)
        self.stopped_at: list[float] = []  # when a key stopped playback (the clock)

    # --- the sources: queue and wake the driver ---------------------------------------------------------------

    def start(self) -> None:
        """Start the microphone and the keys (on the event loop's thread)."""
        self.capture.start(self._captured, self._capture_ended)
        self.keys.start(self._pressed)
        self.speaker.start()

    def close(self) -> None:
        self.keys.close()
        self.capture.close()
        self.speaker.close()

    def _wake(self) -> None:
        self.conv.inbox.arrived.set()

    def _captured(self, block: CaptureBlock) -> None:
        self.captured.append(block)
        self._wake()

    def _capture_ended(self, error: BaseException | None) -> None:
        self.input_ended, self.capture_error = True, error
        self._wake()

    def _pressed(self, key: str) -> None:
        self.pressed.append(key)
        self._wake()

    # --- the Resumer's attempt --------------------------------------------------------------------------------

    async def converse(self) -> None:
        """Talk until the input ends (or Ctrl-C cancels it); a close or goAway surfaces as the Resumer expects."""
        while not self.input_ended:
            await self.step()
        if self.capture_error is not None:
            raise self.capture_error
        await self._finish()
        self.done = True

    async def step(self) -> None:
        """Apply what arrived (waiting for something at most POLL_S), then keys, then the captured audio."""
        # Blocks or keys that came while this task was sending are taken at once (their wake-up was spent).
        await self.conv.poll(0.0 if self.captured or self.pressed or self.input_ended else POLL_S)
        self.conv.raise_if_failed()
        await self._reopen_input()
        await self._apply_keys()
        await self._send_captured()
        self._after_replies()
        due = self.conv.reconnect_due_at()
        if due is not None and (self.clock() >= due or self._quiet()):
            raise ReconnectNow()  # the goAway's deadline, or sooner at a quiet moment (nothing is cut)

    def _quiet(self) -> bool:
        """Nobody speaks and nothing is pending: no reply playing, and whatever the user said was answered (the
        microphone's audio is not sent again after a reconnect). A goAway's reconnect now goes unnoticed
        (docs/wire.md, "goAway and resumption": a handle is resumable only between turns)."""
        if self.model_speaking or self.talking:
            return False
        spoke = self.last_speech_at
        if spoke is None:
            return True
        turn = self.conv.session.current_turn
        ended = turn.ended_at if turn is not None and turn.over else None
        return ended is not None and ended > spoke and self.clock() - spoke >= SPEECH_END_S

    async def _reopen_input(self) -> None:
        """The input is open whenever audio may flow: always under server VAD, while talking with push-to-talk
        (again on a new connection: a reconnect that was not transparent closed it)."""
        session = self.conv.session
        if session.state is State.STREAMING or (self.push_to_talk and not self.talking):
            return
        session.label_input(1, "microphone")
        await self.conv.send(session.begin_input())
        # The images after activityStart: a frame before it is dropped (docs/wire.md, "Video frames").
        for image in self.images:
            await self.conv.send([session.video(image.data, image.mime)])
        self.images = []

    async def _apply_keys(self) -> None:
        while self.pressed:
            key = self.pressed.popleft()
            if self.push_to_talk and key == SPACE:
                if self.talking:
                    self.talking = False
                    await self.conv.send(self.conv.session.end_input())
                else:
                    self._stop_playback()
                    self.talking = True
                    await self._reopen_input()
            elif self.model_speaking:
                self._stop_playback()
                self.display.notice("playback stopped: the microphone is open")

    def _stop_playback(self) -> None:
        """Stop playing, drop the rest of the reply (a key press): in half duplex this unmutes the microphone."""
        turn = self._reply_turn()
        self.tap.skip(turn)
        self._echo_until = 0.0
        self.stopped_at.append(self.clock())

    async def _send_captured(self) -> None:
        session = self.conv.session
        frames: list[str] = []
        while self.captured:
            block = self.captured.popleft()
            chunks = self.mic.feed(block)
            self.display.level(self.mic.level_dbfs)
            if self.muted:
                self.muted_blocks += 1
                continue
            if session.state is not State.STREAMING:
                continue  # push-to-talk between activities: not sent
            if self.mic.level_dbfs >= NEAR_SILENT_DBFS:
                self.last_speech_at = block.at
            self.sent_blocks += 1
            frames.extend(session.audio(chunk) for chunk in chunks)
        for start in range(0, len(frames), MAX_DUE_AT_ONCE):
            await self.conv.send(frames[start : start + MAX_DUE_AT_ONCE])

    # --- state ------------------------------------------------------------------------------------------------

    def _reply_turn(self) -> Turn | None:
        """The turn whose reply is arriving or playing (the latest)."""
        return self.conv.session.current_turn

    @property
    def model_speaking(self) -> bool:
        """Playback is under way, or reply audio of an open turn is still coming (and was not stopped)."""
        if self.speaker.playing:
            return True
        turn = self._reply_turn()
        return turn is not None and not turn.over and bool(turn.audio) and turn.index not in self.tap.skipped

    @property
    def muted(self) -> bool:
        """Half duplex: the microphone is muted while the model speaks, and for the echo tail after it."""
        return not self.headphones and (self.model_speaking or self.clock() < self._echo_until)

    def _after_replies(self) -> None:
        """The latency of a reply that started playing, the state shown, the Resumer told of answered turns."""
        if self.model_speaking:
            self._echo_until = self.clock() + ECHO_TAIL_S
        for onset in self.speaker.buffer.take_onsets():
            spoke = self.last_speech_at
            if spoke is not None and onset > spoke and spoke != self._measured_from:
                self._measured_from = spoke
                self.latencies.append(onset - spoke)
                self.display.latency(onset - spoke)
        turn = self.conv.session.current_turn
        if turn is not None and turn.over and turn.has_reply and turn.index > self._answered:
            self._answered = turn.index
            self.on_reply()
        self.display.set_state(self._state(), muted=self.muted)

    def _state(self) -> str:
        if self.model_speaking:
            return "speaking"
        spoke = self.last_speech_at
        if self.push_to_talk:
            waiting = not self.talking and self.conv.session.state is State.AWAITING_REPLY
        else:
            waiting = spoke is not None and spoke != self._measured_from and self.clock() - spoke >= SPEECH_END_S
        return "thinking" if waiting else "listening"

    # --- the end of input -------------------------------------------------------------------------------------

    async def _finish(self) -> None:
        """The input ended: close the open turn, let the reply come and play out, then return."""
        session = self.conv.session
        if session.state is State.STREAMING:
            await self.conv.send(session.end_input(stream_end=not self.push_to_talk))
            self.talking = False
        ended = self.clock()
        while True:
            await self.conv.poll(POLL_S)
            self.conv.raise_if_failed()
            self._after_replies()
            now = self.clock()
            quiet = now - max(self.conv.last_frame_at, ended)
            settled = quiet >= self.end_settle_s and not self.model_speaking
            if settled and (session.state is State.READY or quiet >= 2 * self.end_settle_s):
                return
            if now - ended >= END_LIMIT_S:
                return
            await asyncio.sleep(0)
