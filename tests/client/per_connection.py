"""A real WebSocket server scripted per connection, for the client's failure paths (closes, drops, refusals)."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from typing import Any

import pytest
from helpers import RawFrameServer

from livecli.auth.target import ConnectOptions
from livecli.client.resume import Resumer
from livecli.commands.request import RunRequest
from livecli.env import Env
from livecli.protocol import server_messages as sm
from tests.commands.send_helpers import HELLO_WAV, run


class PerConnection(RawFrameServer):
    """A real WebSocket server whose handler `script(ws, n)` runs after setup on its n-th connection.

    `setup_reply(n)` decides how the n-th setup is answered: None → setupComplete, else a (code, reason) close
    instead; "mute" → never answered (the socket stays open).
    """

    def __init__(
        self,
        script: Callable[[Any, int], None],
        setup_reply: Callable[[int], tuple[int, str] | str | None] = lambda n: None,
    ) -> None:
        super().__init__([])
        self.script = script
        self.setup_reply = setup_reply
        self.connections = 0

    def _handle(self, ws: Any) -> None:
        self.connections += 1
        n = self.connections
        ws.recv()  # setup
        answer = self.setup_reply(n)
        with contextlib.suppress(Exception):
            if answer is None:
                ws.send(sm.setup_complete())
                self.script(ws, n)
            elif isinstance(answer, tuple):
                ws.close(*answer)
            while True:
                ws.recv()


def await_input_end(ws: Any) -> None:
    """Read client frames until the input's end marker."""
    while True:
        frame = str(ws.recv())
        if any(marker in frame for marker in RawFrameServer.END_MARKERS):
            return


def await_audio(ws: Any, chunks: int) -> None:
    """Read client frames until `chunks` audio messages have arrived (the input is still streaming)."""
    seen = 0
    while seen < chunks:
        seen += '"audio"' in str(ws.recv())


def reply(ws: Any, pcm: bytes, *, complete: bool = True) -> None:
    """One reply: `pcm` as a single chunk, then turnComplete unless told otherwise."""
    ws.send(sm.audio_content(pcm))
    if complete:
        ws.send(sm.turn_complete())


def send_to(
    server: PerConnection, inputs: list[str] | None = None, *, stdout: io.BytesIO | None = None, **kw: Any
) -> bytes:
    """The use case (unpaced unless told) against the server; returns its stdout (also kept in `stdout` when
    given, for a run that raises), raises what it raises."""
    stdout = stdout if stdout is not None else io.BytesIO()
    kw.setdefault("speed", 0.0)
    req = RunRequest(connect=ConnectOptions(endpoint=server.url), inputs=inputs or [HELLO_WAV], **kw)
    env = Env(stdin=io.BytesIO(), stdout=stdout, stderr=io.StringIO(), environ={})
    assert run(req, env) == 0
    return stdout.getvalue()


def skip_backoff(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Reconnects wait no backoff (the delays are still reported); returns the delays asked for, in order."""
    asked: list[float] = []

    async def pause(seconds: float) -> None:
        asked.append(seconds)

    monkeypatch.setattr(Resumer, "pause", staticmethod(pause))
    return asked
