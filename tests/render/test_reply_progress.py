"""On a terminal the display shows the reply arriving (seconds received, real-time factor), not only the input
being sent; off a terminal (a log, a pipe) it prints no progress at all."""

from __future__ import annotations

import io

from livecli.protocol.events import AudioChunk
from livecli.protocol.turns import Turn
from livecli.render.console import RichRenderer

RATE = 24000
HALF_SECOND = b"\x01\x00" * (RATE // 2)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _receive(renderer: RichRenderer, turn: Turn, clock: FakeClock, chunks: int, step_s: float) -> None:
    """`chunks` half-second chunks into `turn`, `step_s` apart on the fake clock, as the session would."""
    for _ in range(chunks):
        turn.audio += HALF_SECOND
        turn.audio_rate = RATE
        renderer.server_event(AudioChunk(HALF_SECOND, RATE, "audio/pcm;rate=24000"), turn)
        clock.now += step_s


def test_a_terminal_shows_seconds_received_and_the_real_time_factor() -> None:
    out, clock = io.StringIO(), FakeClock()
    renderer = RichRenderer(out, is_tty=True, clock=clock)
    _receive(renderer, Turn(index=1, started_at=0.0), clock, chunks=3, step_s=0.25)
    renderer.close()
    shown = out.getvalue()
    assert "reply: 0.50 s received" in shown
    assert "1.50 s received, 3.0x real time" in shown  # 1.5 s of audio in 0.5 s of clock


def test_no_progress_off_a_terminal() -> None:
    out, clock = io.StringIO(), FakeClock()
    renderer = RichRenderer(out, is_tty=False, clock=clock)
    _receive(renderer, Turn(index=1, started_at=0.0), clock, chunks=3, step_s=0.25)
    renderer.close()
    assert "received" not in out.getvalue()


def test_no_reply_progress_under_quiet() -> None:
    out, clock = io.StringIO(), FakeClock()
    renderer = RichRenderer(out, is_tty=True, verbosity=-1, clock=clock)
    _receive(renderer, Turn(index=1, started_at=0.0), clock, chunks=3, step_s=0.25)
    renderer.close()
    assert "received" not in out.getvalue()
