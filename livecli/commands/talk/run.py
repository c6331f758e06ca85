"""`talk`: the use case, from a TalkRequest to a conversation through the microphone and the speaker.

The setup is built and checked as for send/text (commands/request), the devices are opened before connecting (a
missing extra, PortAudio or device is one line, exit 2, with no connection made), the tools start first and
close last (commands/tool_setup), `--local` starts the in-process server, `--record DIR` records every frame
(client/record). The conversation is the TalkLoop's, delivered through the Resumer: a goAway or a drop is a
short "reconnecting" line and the talk goes on. Ctrl-C (and the end of the capture) closes the socket cleanly
(1000) and writes the recording; whether that is a failure is the CLI's `status_of` to say (for talk, Ctrl-C is
the user ending the conversation; SIGTERM stays a termination).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from livecli.client.conversation import Conversation
from livecli.client.resume import Resumer, retryable
from livecli.commands.before_connect import load_request_images, preview_target, reach_for, start_recorder
from livecli.commands.input_loop import Reach, RunState, open_conversation
from livecli.commands.reply_limits import ReplyLimits
from livecli.commands.reply_spill import ReplySpill, spill_directory
from livecli.commands.request import build_setup
from livecli.commands.talk.keys import KeySource, NoKeys, TerminalKeys
from livecli.commands.talk.loop import END_SETTLE_S, TalkDisplay, TalkLoop
from livecli.commands.talk.playback import PlaybackTap
from livecli.commands.talk.request import TalkRequest
from livecli.commands.talk.view import TalkView
from livecli.errors import LivecliError
from livecli.protocol.endpoints import Target
from livecli.protocol.report import Reporter

if TYPE_CHECKING:
    from livecli.audio.devices import CaptureSource, PlaybackSink
    from livecli.env import Env
    from livecli.media.images import ImageFrame
    from livecli.protocol.client_messages import SetupConfig
    from livecli.render.json_lines import JsonLinesRenderer

__all__ = ["Devices", "run"]


@dataclass
class Devices:
    """The microphone, the speaker and the keys one talk uses (real ones, or the tests' virtual ones)."""

    capture: CaptureSource
    sink: PlaybackSink
    keys: KeySource


def real_devices(req: TalkRequest, env: Env) -> Devices:
    """PortAudio's devices (`--input-device`, `--output-device`) and the terminal's keys when stdin is one."""
    from livecli.audio.sound_device import SoundDeviceCapture, SoundDevicePlayback

    capture = SoundDeviceCapture(req.input_device)
    sink = SoundDevicePlayback(req.output_device, buffer_ms=req.buffer_ms)
    keys: KeySource = NoKeys()
    with contextlib.suppress(AttributeError, OSError, ValueError):
        if env.stdin.isatty():
            keys = TerminalKeys(env.stdin.fileno())
    return Devices(capture, sink, keys)


class _NoTalkDisplay:
    """-qq, or no stderr: the talk's own reports are not shown."""

    def level(self, dbfs: float) -> None:
        pass

    def set_state(self, state: str, *, muted: bool = False) -> None:
        pass

    def latency(self, seconds: float) -> None:
        pass

    def notice(self, text: str) -> None:
        pass


class _JsonTalk(_NoTalkDisplay):
    """--json: the talk's own reports besides the Reporter's events: each turn latency (`turn_latency`, README,
    "livecli talk"); the level and the state change too often to be events."""

    def __init__(self, events: JsonLinesRenderer) -> None:
        self.events = events

    def latency(self, seconds: float) -> None:
        self.events.emit("turn_latency", latency_s=round(seconds, 3))


def run(
    req: TalkRequest,
    env: Env,
    status_of: Callable[[BaseException], int],
    devices: Callable[[], Devices] | None = None,
    *,
    end_settle_s: float | None = None,
    observe: Callable[[TalkLoop], None] | None = None,
) -> int:
    """Hold one conversation; returns 0, or raises what ended it when `status_of` says it is a failure.

    `devices` makes the devices (default: PortAudio's); `end_settle_s`: how long the server must be quiet after the
    end of input before the talk ends (tests shorten it); `observe` is handed the loop (tests, the bench).
    """
    r = req.run
    preview = preview_target(r, env)
    setup = build_setup(r, preview.model)
    images = load_request_images(r)
    chosen = (devices or (lambda: real_devices(req, env)))()  # a missing extra or device fails before connecting
    display: Reporter
    talk_display: TalkDisplay
    if r.json:
        from livecli.render.json_lines import JsonLinesRenderer

        events = JsonLinesRenderer(env.stdout, env.clock)
        display, talk_display = events, _JsonTalk(events)
    elif r.verbosity <= -2 or env.stderr_closed:  # -qq: errors only (the boundary prints them)
        display, talk_display = Reporter(), _NoTalkDisplay()
    else:
        view = TalkView(env.stderr, live=env.stderr_isatty and r.verbosity >= 0, quiet=r.verbosity < 0)
        display, talk_display = view, view
    from livecli.audio.devices import Speaker

    tap = PlaybackTap(ReplyLimits(display, r.max_reply_s), Speaker(chosen.sink, env.clock))
    recorder = start_recorder(r, preview, env, command="talk")
    failure: BaseException | None = None
    status = 0
    with ReplySpill(spill_directory((None,))) as spill:
        state = RunState(secrets=preview.secrets, new_reply_audio=spill.new_audio, tap=recorder)
        reach = reach_for(r, env, tap, preview)
        settle = END_SETTLE_S if end_settle_s is None else end_settle_s
        talk = _Talk(req, env, tap, talk_display, chosen, images, settle)
        talk.observe = observe or (lambda loop: None)
        try:
            asyncio.run(talk.converse(setup, state, reach))
        except BaseException as exc:
            status = status_of(exc)
            if status:
                failure = exc
                _report(functools.partial(tap.error, exc, status))
        turns = state.conversation.session.turns if state.conversation is not None else []
        answered = [t for t in turns if t.has_reply]
        reconnects = state.resumer.total if state.resumer is not None else 0
        _report(
            lambda: tap.summary(
                1,
                len(answered),
                sum(len(t.audio) for t in answered),
                status,
                reconnects=reconnects,
                usage_turns=sum(t.usage is not None for t in answered),
            )
        )
        _report(tap.close)
    if recorder is not None:
        recorder.finish(status, failure)
    if failure is not None:
        raise failure
    return 0


def _report(call: Callable[[], None]) -> None:
    with contextlib.suppress(Exception):  # a display that fails while closing does not change the outcome
        call()


class _Talk:
    """The async part: tools, the server, the connection, the loop, reconnects."""

    def __init__(
        self,
        req: TalkRequest,
        env: Env,
        tap: PlaybackTap,
        display: TalkDisplay,
        devices: Devices,
        images: list[ImageFrame],
        settle: float,
    ) -> None:
        self.req, self.env, self.tap, self.display = req, env, tap, display
        self.devices, self.images, self.settle = devices, images, settle
        self.observe: Callable[[TalkLoop], None] = lambda loop: None  # (tests and the bench read its measurements)

    async def converse(self, setup_in: SetupConfig, state: RunState, reach: Reach) -> None:
        r, tap = self.req.run, self.tap
        async with open_conversation(r, self.env, setup_in, tap, state, reach) as live:
            conv = live.conversation
            loop = TalkLoop(
                conv,
                tap,
                self.display,
                self.devices.capture,
                self.devices.keys,
                chunk_ms=r.chunk_ms,
                push_to_talk=self.req.push_to_talk,
                headphones=self.req.headphones,
                images=self.images,
                end_settle_s=self.settle,
            )
            self.observe(loop)
            try:  # the devices close before the conversation does, also when connecting fails
                resumer = await live.connect()
                loop.on_reply = lambda: setattr(resumer, "used", 0)  # a healthy connection: the budget is whole
                loop.start()
                while True:
                    await resumer.deliver(loop.converse, 1, "microphone")
                    if loop.done:
                        return
                    await _reconnect_between_turns(conv, resumer, live.target)
            finally:
                loop.close()


async def _reconnect_between_turns(conv: Conversation, resumer: Resumer, target: Target) -> None:
    """The connection ended while no input was open (push-to-talk between turns: the Resumer counts the input
    answered and gives up): reconnect here within the same budget, or raise what cannot be cured."""
    error = conv.error
    if error is not None and not (isinstance(error, LivecliError) and resumer.max_reconnects > 0):
        raise error
    if isinstance(error, LivecliError) and not retryable(error, after_go_away=conv.go_away_pending):
        raise error
    if resumer.used >= resumer.max_reconnects:
        if error is not None:
            raise error
        return  # a goAway with no budget left: the connection goes on until it closes
    cause = str(error) if error is not None else "goAway: the connection's time is nearly up"
    await resumer.reconnect(cause, None, failed=error is not None and not conv.go_away_pending)
