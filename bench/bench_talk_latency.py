"""`livecli talk` latency against `livecli serve` (another process, replies in real time) with virtual devices.

Two numbers per run, both on the monotonic clock of the talking process:
- turn latency: the last captured block above -50 dBFS that was sent (the end of the user's speech) → the first
  audible reply sample played by the virtual speaker (what the live view shows; it includes the server's VAD
  silence, --vad-silence-ms, and the jitter buffer, --buffer-ms);
- barge-in flush: the `interrupted` frame's arrival → the start of the first silent block the speaker pulled
  after it (--headphones: the user speaks again while the reply plays).

The microphone plays samples/hello_48k_float.wav (0.95 s, 48 kHz) twice, the second time while the echo reply of
the first plays; the speaker pulls 20 ms blocks. The machine may be shared: report the load average with the
numbers. Usage: python bench/bench_talk_latency.py [--runs 5] [--vad-silence-ms 200] [--buffer-ms 60]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from serve_process import start_server

from livecli.audio.virtual_devices import VirtualCapture, VirtualPlayback
from livecli.auth.target import ConnectOptions
from livecli.cli.talk import talk_exit_status
from livecli.commands.request import RunRequest
from livecli.commands.session_setup import SessionOptions
from livecli.commands.talk.loop import TalkLoop
from livecli.commands.talk.request import TalkRequest
from livecli.commands.talk.run import Devices, run
from livecli.env import Env
from livecli.protocol.events import Interrupted, ServerEvent
from livecli.protocol.turns import Turn

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "hello_48k_float.wav"
RATE = 48000
SERVER_VAD_SILENCE_MS = 800  # the server's default silenceDurationMs (livecli/server/vad.py)


class NoKeys:
    def start(self, deliver: Any) -> None:
        pass

    def close(self) -> None:
        pass


def utterances(vad_silence_ms: int) -> np.ndarray[Any, Any]:
    """Speech, a pause long enough for the server to end the turn and start its reply, speech again, a tail."""
    hello, rate = sf.read(SAMPLE, dtype="float32")
    assert rate == RATE
    gap = np.zeros(int((vad_silence_ms / 1000 + 0.55) * RATE), np.float32)
    lead, tail = np.zeros(int(0.2 * RATE), np.float32), np.zeros(int(0.6 * RATE), np.float32)
    return np.concatenate([lead, hello, gap, hello, tail])


def one_run(url: str, vad_silence_ms: int | None, buffer_ms: int) -> tuple[list[float], list[float]]:
    """The turn latencies and barge-in flush times of one talk."""
    silence = vad_silence_ms if vad_silence_ms is not None else SERVER_VAD_SILENCE_MS
    capture = VirtualCapture(utterances(silence), RATE)
    sink = VirtualPlayback(buffer_ms=buffer_ms)
    session = SessionOptions(vad_silence_ms=vad_silence_ms)
    connect = ConnectOptions(endpoint=url, api_key="bench")
    req = TalkRequest(
        run=RunRequest(connect=connect, session=session, turn_end="vad"), headphones=True, buffer_ms=buffer_ms
    )
    arrivals: list[float] = []
    loops: list[TalkLoop] = []

    def observe(loop: TalkLoop) -> None:
        loops.append(loop)
        forward = loop.tap.server_event

        def spy(event: ServerEvent, turn: Turn | None) -> None:
            if isinstance(event, Interrupted):
                arrivals.append(loop.conv.last_frame_at)  # the frame being applied arrived then
            forward(event, turn)

        loop.tap.server_event = spy  # type: ignore[method-assign]

    env = Env(stdin=io.BytesIO(), stdout=io.BytesIO(), stderr=io.StringIO(), environ={})
    run(req, env, talk_exit_status, lambda: Devices(capture, sink, NoKeys()), end_settle_s=0.5, observe=observe)
    flushes = []
    for arrived in arrivals:
        after = [block for block in sink.played if block.at > arrived]
        if after:
            stopped = next(block.at for block in after if not block.audible)
            flushes.append(stopped - arrived)
    return loops[0].latencies, flushes


def describe(name: str, values: list[float]) -> str:
    if not values:
        return f"{name}: none measured"
    ms = sorted(v * 1000 for v in values)
    p90 = ms[min(len(ms) - 1, round(0.9 * (len(ms) - 1)))]
    return (
        f"{name}: n={len(ms)} median {statistics.median(ms):.0f} ms, p90 {p90:.0f} ms, "
        f"min {ms[0]:.0f} ms, max {ms[-1]:.0f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--vad-silence-ms", type=int, default=None, help="the server's default (800 ms) if not given"
    )
    parser.add_argument("--buffer-ms", type=int, default=60)
    args = parser.parse_args()
    server, url = start_server()
    latencies: list[float] = []
    flushes: list[float] = []
    try:
        for _ in range(args.runs):
            turn, flush = one_run(url, args.vad_silence_ms, args.buffer_ms)
            latencies += turn
            flushes += flush
    finally:
        server.terminate()
        server.wait(10)
    silence = args.vad_silence_ms if args.vad_silence_ms is not None else SERVER_VAD_SILENCE_MS
    print(
        f"livecli talk vs livecli serve, virtual devices (20 ms blocks), --buffer-ms {args.buffer_ms}, "
        f"server VAD silence {silence} ms, {args.runs} runs, load average {os.getloadavg()[0]:.2f}"
    )
    print(describe("end of speech -> first audible reply sample", latencies))
    print(describe("barge-in: interrupted arrives -> playback stopped", flushes))
    return 0 if latencies and flushes else 1


if __name__ == "__main__":
    sys.exit(main())
