"""Inputs longer than a connection (issue 10): with activity brackets on the Gemini API, an input that cannot fit
in one connection is reported once a goAway tells how long connections last, instead of being sent again from its
start after every reconnect until --max-reconnects runs out; on Vertex it goes on across connections; under server
VAD only the audio after the last answered turn is sent again."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from helpers import local_server

from livecli.cli.exit_status import exit_status_for
from livecli.errors import ConnectError
from tests.commands.send_helpers import at, events, make_env, run, tone

KEY = "AIzaSyLongInputKey0123456789abcdefghijk"


class Opened(logging.Handler):
    """Counts the connections the server opened."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += " opened " in record.getMessage()


def serve_logged() -> tuple[logging.Logger, Opened]:
    opened = Opened()
    logger = logging.getLogger(f"test-long-input-{id(opened)}")
    logger.addHandler(opened)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger, opened


@pytest.mark.timeout(20)
def test_an_activity_input_longer_than_a_connection_is_reported_not_resent(tmp_path: Path) -> None:
    """Connections live 1 s (goAway at 0.5 s); the input takes 2 s to send at --speed 2: one connection, then a
    clear error naming both durations and the way out (was: resent from its start until the budget ran out)."""
    long = tone(tmp_path / "long.wav", 4.0)
    logger, opened = serve_logged()
    with local_server(max_connection_s=1.0, logger=logger) as server:
        env, stdout, stderr = make_env()
        req = at(server.url, inputs=[long], speed=2.0, max_reconnects=3)
        req.connect.api_key = KEY
        with pytest.raises(ConnectError) as raised:
            run(req, env)
    assert exit_status_for(raised.value) == 4
    message = str(raised.value)
    assert "takes 2.0 s to send" in message
    assert "last about 1.0 s" in message
    assert "--turn-end vad" in message
    assert events(stdout, "reconnect") == []
    assert opened.count == 1
    assert KEY not in stdout.getvalue().decode()
    assert KEY not in stderr.getvalue()


@pytest.mark.timeout(20)
def test_an_activity_input_that_fits_a_fresh_connection_is_still_resent(tmp_path: Path) -> None:
    """The check is against a whole connection, not what was left of the one that ended: 0.7 s of sending
    under 1 s connections, started late in the first one, is sent again on the next and answered."""
    files = [tone(tmp_path / "a.wav", 1.2), tone(tmp_path / "b.wav", 1.4)]  # 0.6 s + 0.7 s at --speed 2
    logger, opened = serve_logged()
    with local_server(max_connection_s=1.0, logger=logger) as server:
        env, stdout, _ = make_env()
        assert run(at(server.url, inputs=files, speed=2.0, max_reconnects=3), env) == 0
    assert len(events(stdout, "turn_complete")) == 2
    assert opened.count >= 2


# --- the Gemini API under server VAD: only the audio after the last answered turn is sent again ---------------

REPLY = b"\x10\x00" * 2400  # 0.1 s at 24 kHz


def drain(ws: Any) -> None:
    """Read what the client still sends while the server closes (websockets' sync server stops reading a full
    queue and would wait out its close timeout)."""
    import contextlib

    with contextlib.suppress(Exception):
        while True:
            ws.recv()


class VadServer:
    """Answers the first VAD turn after 8 audio chunks, closes 1011 after 16; the next connection answers at
    audioStreamEnd. Records which chunk numbers each connection received."""

    def __init__(self) -> None:
        self.chunks: list[list[int]] = []

    def handle(self, ws: Any) -> None:
        import base64
        import contextlib
        import json
        import threading

        from livecli.protocol import server_messages as sm

        first = not self.chunks
        got: list[int] = []
        self.chunks.append(got)
        ws.recv()
        ws.send(sm.setup_complete())
        ws.send(sm.resumption_update(f"h{len(self.chunks)}", True))
        with contextlib.suppress(Exception):
            while True:
                body = json.loads(ws.recv())["realtimeInput"]
                if "audio" in body:
                    got.append(int.from_bytes(base64.b64decode(body["audio"]["data"])[:2], "little"))
                if first and len(got) == 8:
                    ws.send(sm.audio_content(REPLY))
                    ws.send(sm.turn_complete())
                    ws.send(sm.resumption_update("h-answered", True))
                if first and len(got) == 16:
                    threading.Thread(target=drain, args=(ws,), daemon=True).start()
                    ws.close(1011, "Internal error encountered.")
                    return
                if "audioStreamEnd" in body:
                    ws.send(sm.audio_content(REPLY))
                    ws.send(sm.turn_complete())


@pytest.mark.timeout(30)
def test_server_vad_resends_only_the_audio_after_the_last_answered_turn(tmp_path: Path) -> None:
    """A close after 16 of 30 chunks, the first turn answered after chunk 8: the next connection gets the audio
    from about chunk 9 on (not from chunk 1), and the reply holds both answers once."""
    import numpy as np
    import soundfile as sf
    from helpers import ws_server_thread

    samples = np.repeat(np.arange(1, 31, dtype=np.int16), 1600)  # 30 chunks of 100 ms, chunk k holds k
    sf.write(tmp_path / "n.wav", samples, 16000, subtype="PCM_16")
    server = VadServer()
    with ws_server_thread(server.handle) as url:
        env, stdout, stderr = make_env()
        req = at(url, inputs=[str(tmp_path / "n.wav")], speed=4.0, chunk_ms=100, turn_end="vad", settle_ms=200)
        req.connect.api_key = KEY
        req.output = str(tmp_path / "reply.wav")
        assert run(req, env) == 0
    first, second = server.chunks
    assert first[:16] == list(range(1, 17))
    assert 9 <= second[0] <= 12  # where the answered turn's reply began, give or take the pacing
    assert second == list(range(second[0], 31))
    reply, _ = sf.read(tmp_path / "reply.wav", dtype="int16")
    assert len(reply) == 2 * (len(REPLY) // 2)  # both answers, each once (samples of 2 bytes)
    assert KEY not in stdout.getvalue().decode()
    assert KEY not in stderr.getvalue()


@pytest.mark.timeout(30)
def test_on_vertex_an_activity_input_longer_than_a_connection_goes_on_across_connections(tmp_path: Path) -> None:
    """A 4 s input sent at --speed 4 under 0.5 s connections (the Gemini API reports it as never fitting): on
    Vertex the tail is resent and the activity goes on, so it is answered, and the server got every sample once,
    in order."""
    import numpy as np
    import soundfile as sf

    from livecli.auth.target import ConnectOptions

    samples = (np.arange(4 * 16000) % 30000).astype(np.int16)
    sf.write(tmp_path / "ramp.wav", samples, 16000, subtype="PCM_16")
    with local_server(max_connection_s=0.5, keep_received_audio=True) as server:
        env, stdout, stderr = make_env()
        req = at(server.url, inputs=[str(tmp_path / "ramp.wav")], speed=4.0, max_reconnects=5)
        req.connect = ConnectOptions(endpoint=server.url, vertex=True, api_key=KEY)
        assert run(req, env) == 0
        received = server.thread.running.received_audio()
    assert len(events(stdout, "reconnect")) >= 1
    assert len(events(stdout, "turn_complete")) == 1
    [pcm] = received.values()
    assert np.array_equal(np.frombuffer(pcm, dtype=np.int16), samples)
    assert KEY not in stdout.getvalue().decode()
    assert KEY not in stderr.getvalue()
