"""Inputs longer than a connection, on Vertex (issue 10): with transparent resumption 100 s of audio go through
connections that each take 40 s of it (goAway, then close 1008), and the server receives every sample exactly once
and in order; the reply has no repeated audio (it is the reply an uninterrupted connection gives)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from helpers import local_server

from livecli.auth.target import ConnectOptions
from livecli.commands.request import RunRequest
from tests.commands.send_helpers import events, make_env, run

KEY = "AIzaSyTransparentKey0123456789abcdefghi"
SECONDS = 100


def numbered_ramp(path: Path, seconds: int) -> np.ndarray[Any, np.dtype[np.int16]]:
    """Sample i is i mod 30000: any sample missing, repeated or out of order shows in the received audio."""
    samples = (np.arange(seconds * 16000) % 30000).astype(np.int16)
    sf.write(path, samples, 16000, subtype="PCM_16")
    return samples


def vertex_request(url: str, tmp_path: Path, output: str, **kw: Any) -> RunRequest:
    connect = ConnectOptions(endpoint=url, vertex=True, api_key=KEY)
    return RunRequest(
        connect=connect,
        json=True,
        inputs=[str(tmp_path / "ramp.wav")],
        speed=0,
        chunk_ms=100,
        output=str(tmp_path / output),
        **kw,
    )


@pytest.mark.timeout(60)
def test_100_s_through_two_go_aways_arrive_once_in_order_and_the_reply_is_not_repeated(tmp_path: Path) -> None:
    samples = numbered_ramp(tmp_path / "ramp.wav", SECONDS)
    with local_server(max_connection_audio_s=40, keep_received_audio=True) as server:
        env, stdout, stderr = make_env()
        assert run(vertex_request(server.url, tmp_path, "reply.wav", max_reconnects=5), env) == 0
        received = server.thread.running.received_audio()
    assert len(events(stdout, "go_away")) >= 2
    assert len(events(stdout, "reconnect")) >= 2
    assert len(events(stdout, "resumed")) >= 2
    assert events(stdout, "warning") == []  # no fallback to resending from the start
    [pcm] = received.values()  # one session, resumed on each new connection
    heard = np.frombuffer(pcm, dtype=np.int16)
    assert len(heard) == len(samples)
    first_wrong = np.flatnonzero(heard != samples)
    assert first_wrong.size == 0, f"sample {first_wrong[:1]} differs"
    assert len(events(stdout, "turn_complete")) == 1
    assert KEY not in stdout.getvalue().decode()
    assert KEY not in stderr.getvalue()

    # The same input on one connection that never ends: the reply is the same, so nothing in it is repeated.
    with local_server() as server:
        env, stdout, _ = make_env()
        assert run(vertex_request(server.url, tmp_path, "whole.wav"), env) == 0
    assert events(stdout, "reconnect") == []
    reply, rate = sf.read(tmp_path / "reply.wav", dtype="int16")
    whole, whole_rate = sf.read(tmp_path / "whole.wav", dtype="int16")
    assert rate == whole_rate
    assert len(reply) > 0
    assert np.array_equal(reply, whole)


@pytest.mark.parametrize(("backend", "transparent"), [(["--vertex"], True), ([], False)])
def test_transparent_is_asked_for_on_vertex_only(backend: list[str], transparent: bool) -> None:
    """--dry-run shows the setup as sent: `transparent` on Vertex, never on the Gemini API (which refuses it)."""
    from helpers import SAMPLES, run_cli

    result = run_cli("send", str(SAMPLES / "hello_16k.wav"), "--dry-run", "--json", "--api-key", KEY, *backend)
    [report] = result.json_lines
    resumption = report["setup"]["setup"]["sessionResumption"]
    assert resumption.get("transparent", False) is transparent
    assert KEY not in result.stdout
