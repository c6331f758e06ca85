"""Where the turn timings start (issue 10, T5): under `--turn-end silence` at the end of the user's audio, before
the appended silence, and never clamped at zero (docs/wire.md, "Reply timing")."""

from __future__ import annotations

import dataclasses
import time

from helpers import LocalServer

from livecli.audio.decode import open_input
from livecli.auth.target import ConnectOptions, resolve_target
from livecli.client.metrics import TurnTimes, measure
from livecli.commands.input_loop import RunState, converse, reach_target
from livecli.commands.request import RunRequest, build_setup
from livecli.env import Env
from livecli.protocol.client_messages import SetupConfig
from livecli.protocol.report import InputInfo, Reporter
from livecli.protocol.session import ClientSession
from livecli.protocol.turns import Turn
from tests.commands.send_helpers import HELLO_WAV, make_env


def test_a_reply_before_the_end_of_input_has_a_negative_ttfb() -> None:
    """Server VAD may answer before the input is over: the offset is negative, not clamped (was `TTFB 0 ms`)."""
    turn = Turn(index=1, started_at=0.0, input_ended_at=2.0, first_reply_at=1.25, ended_at=3.0)
    metrics = measure(turn, TurnTimes(generation_complete_at=1.5))
    assert metrics.ttfb_s == -0.75
    assert metrics.generation_complete_s == -0.5
    assert metrics.turn_complete_s == 1.0


def _sending_session(now: list[float]) -> ClientSession:
    """A session past setupComplete with an input begun, on a clock the test moves through `now[0]`."""
    session = ClientSession(SetupConfig(model="models/m"), clock=lambda: now[0])
    session.start()
    session.receive(b'{"setupComplete": {}}')
    session.begin_input()
    return session


def test_the_end_of_the_users_audio_is_kept_when_the_silence_tail_ends() -> None:
    """end_of_audio() marks the end of input; end_input() after the silence tail does not move it."""
    now = [0.0]
    session = _sending_session(now)
    now[0] = 1.0
    session.end_of_audio()
    now[0] = 2.5
    session.end_input()
    turn = session.current_turn
    assert turn is not None
    assert turn.input_ended_at == 1.0


def test_end_input_still_marks_the_end_when_nothing_was_appended() -> None:
    """Without a silence tail (activity brackets, vad) the end of input stays the end_input() call."""
    now = [0.0]
    session = _sending_session(now)
    now[0] = 3.0
    session.end_input()
    turn = session.current_turn
    assert turn is not None
    assert turn.input_ended_at == 3.0


class _JumpingClock(Reporter):
    """The real clock, pushed 100 s ahead by every progress report: a mark taken while the silence tail is sent
    is at least 100 s later than one taken when the speech ended (deterministic, whatever the machine's speed)."""

    JUMP_S = 100.0

    def __init__(self) -> None:
        self.offset = 0.0
        self.ended_at: float | None = None

    def clock(self) -> float:
        return time.monotonic() + self.offset

    def input_progress(self, info: InputInfo, chunks: int, sent_bytes: int) -> None:
        self.offset += self.JUMP_S

    def input_ended(self, info: InputInfo, chunks: int, sent_bytes: int) -> None:
        self.ended_at = self.clock()


async def test_silence_turn_end_measures_from_the_last_chunk_of_speech(live_server: LocalServer) -> None:
    """With --turn-end silence the input ends when the file's last chunk is sent, not after the silence tail."""
    req = RunRequest(
        connect=ConnectOptions(endpoint=live_server.endpoint()),
        inputs=[HELLO_WAV],
        speed=0.0,
        turn_end="silence",
        silence_ms=2000,
        chunk_ms=40,
        settle_ms=50,
    )
    reporter = _JumpingClock()
    base, _, _ = make_env()
    env: Env = dataclasses.replace(base, clock=reporter.clock)
    target = resolve_target(req.connect, env.environ)
    setup = build_setup(req, target.model)
    state = RunState()
    with open_input(HELLO_WAV) as audio:
        await converse(req, env, setup, [audio], reporter, state, reach_target(target))
    first = state.reply_turns(1)[0]
    assert first.input_ended_at is not None
    assert reporter.ended_at is not None
    # 50 silence chunks leave in at least two writes, each followed by a progress report (a jump)
    assert reporter.ended_at - first.input_ended_at >= reporter.JUMP_S  # before: the same instant
