"""A hostile or failing server, seen from the client: every fault is reported as what happened, in bounded time.

Servers here are small websockets servers of our own on 127.0.0.1 port 0 (or the local server), never mocks; the
guards on elapsed time are generous (they catch a hang, not a slow machine).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from helpers import SAMPLES, LocalServer, local_server, run_cli, ws_server_thread

from livecli.client.conversation import Conversation
from livecli.client.resume import retryable
from livecli.client.transport import Closed
from livecli.errors import ConnectError, ProtocolError, ServerClosed
from livecli.protocol.client_messages import SetupConfig
from livecli.protocol.endpoints import Target
from livecli.protocol.report import Reporter

KEY = "AIzaSyFAKE-fault-key-0123456789abcdefghij"
# Far more than loopback socket buffers hold (a few MB each way), so a server that stops reading blocks the client.
LONG_INPUT_S = 600


@pytest.fixture(scope="module")
def long_wav(tmp_path_factory: pytest.TempPathFactory) -> str:
    """LONG_INPUT_S seconds of a quiet tone at 16 kHz (19 MB): sent at --speed 0 it fills any socket buffer."""
    path = tmp_path_factory.mktemp("long") / "long.wav"
    tone = (np.sin(np.arange(16000) * 2 * np.pi * 440 / 16000) * 3000).astype(np.int16)
    sf.write(path, np.tile(tone, LONG_INPUT_S), 16000, subtype="PCM_16")
    return str(path)


@contextlib.contextmanager
def deaf_server(close: tuple[int, str] | None = None) -> Iterator[str]:
    """A server that completes the setup, then stops reading (its queue of one message fills, so it pauses its
    socket reads); yields its URL.

    With `close`, it sends that close frame once the first audio message has arrived, still without reading: the
    client's close echo stays stuck behind what it is sending.
    """
    release = threading.Event()
    connections: list[Any] = []

    def handle(ws: Any) -> None:
        connections.append(ws)
        ws.recv()
        ws.send(b'{"setupComplete": {}}')
        if close is not None:
            ws.recv()
            ws.close(*close)
        release.wait(30)

    with ws_server_thread(handle, max_queue=1, close_timeout=30) as url:
        try:
            yield url
        finally:
            release.set()
            for ws in connections:  # it reads nothing, so it would wait out its close timeout: cut it short
                ws.close_socket()


def _send(url: str, wav: str, *extra: str) -> tuple[int, str, float]:
    started = time.monotonic()
    result = run_cli(
        "send", wav, "--endpoint", url, "--api-key", KEY, "--speed", "0", "--max-reconnects", "0", *extra,
        expect=None,
    )  # fmt: skip
    return result.exit_code, result.stderr, time.monotonic() - started


def test_a_server_that_stops_reading_fails_the_send_after_the_timeout(long_wav: str) -> None:
    """No timeout covered sending: livecli hung forever. Now a send blocked for --timeout ends the run (exit 4)."""
    with deaf_server() as url:
        status, stderr, elapsed = _send(url, long_wav, "--timeout", "1")
    assert status == 4
    assert "the server stopped reading: nothing could be sent for 1 s" in stderr
    assert elapsed < 25  # a hang would be stopped by nothing at all
    assert KEY not in stderr


def test_a_close_while_the_client_is_stuck_sending_is_reported_at_once(long_wav: str) -> None:
    """The server closes 1011 while the client's writes are stuck: the close is what happened, reported before
    the send's stall limit (--timeout 5) and without waiting out the server's close timeout."""
    with deaf_server(close=(1011, "Internal error encountered.")) as url:
        status, stderr, elapsed = _send(url, long_wav, "--timeout", "5")
    assert status == 4
    assert "1011 Internal error encountered." in stderr
    assert "stopped reading" not in stderr
    assert "no reply" not in stderr
    assert elapsed < 25


def test_a_close_from_a_server_that_reads_nothing_is_reported_before_the_reply_timeout() -> None:
    """The input fits in the socket buffers, so the client waits for the reply when the 1011 arrives; the server
    reads nothing (not the close echo either) and would end the TCP connection only after its close timeout. The
    close is reported at once: not "no reply" after --timeout 2."""
    with deaf_server(close=(1011, "Internal error encountered.")) as url:
        status, stderr, elapsed = _send(url, str(SAMPLES / "hello_16k.wav"), "--timeout", "2")
    assert status == 4
    assert "1011 Internal error encountered." in stderr
    assert "no reply" not in stderr
    assert elapsed < 25


async def test_a_prompt_over_the_servers_frame_limit_is_reported_as_its_1009(live_server: LocalServer) -> None:
    """The server closes 1009 on a 17 MiB prompt (its limit is the service's 16 MiB) while the client still
    writes it; livecli then closed a transport that had already closed itself and failed with `AttributeError …
    call_soon` (an internal error). The 1009 is what the caller gets, and closing afterwards is quiet. (Driven
    below the CLI, which reads at most 1 MiB of prompt.)"""
    conv = Conversation(SetupConfig(model="models/gemini-3.8-live"), Reporter(), time.monotonic)
    target = Target(live_server.endpoint(), {}, "models/gemini-3.8-live", "local", (), False)
    await conv.open(target, timeout=10, environ={})
    try:
        attempt = conv.session.label_input(1, "text")
        with pytest.raises(ServerClosed) as info:
            await conv.send(conv.session.text("a" * (17 * 2**20)))
            await conv.wait_reply(attempt, settle_s=0.0, timeout_s=20)
        assert info.value.code == 1009
    finally:
        await conv.close()


@contextlib.contextmanager
def raw_bytes_server(raw: bytes) -> Iterator[str]:
    """A server that completes the setup, then writes `raw` straight to the socket once the first audio message
    arrives: frames websockets' own server would never send. Yields its URL."""

    def handle(ws: Any) -> None:
        ws.recv()
        ws.send(b'{"setupComplete": {}}')
        ws.recv()
        ws.socket.sendall(raw)
        with contextlib.suppress(Exception):
            while True:
                ws.recv()

    with ws_server_thread(handle, close_timeout=1) as url:
        yield url


@pytest.mark.parametrize(
    ("raw", "code", "what"),
    [
        (b"\x82\x7f" + (65 * 2**20).to_bytes(8, "big"), 1009, "livecli takes frames up to 64 MiB"),
        (b"\x83\x00", 1002, "invalid opcode"),
        (b"\x81\x02\xff\xfe", 1007, "invalid start byte"),
    ],
    ids=["too-big", "bad-opcode", "bad-utf8"],
)
def test_a_frame_livecli_refuses_is_reported_as_its_own_close(raw: bytes, code: int, what: str) -> None:
    """websockets fails the connection with 1009/1002/1007 on such a frame; livecli said the server "dropped the
    connection without a close frame (1006)". It says that it closed the connection, with the code and why."""
    with raw_bytes_server(raw) as url:
        status, stderr, _ = _send(url, str(SAMPLES / "hello_16k.wav"), "--timeout", "5")
    assert status == 4
    assert f"livecli closed the connection: {code}" in stderr
    assert what in stderr
    assert "1006" not in stderr


def test_a_huge_http_error_on_the_upgrade_is_not_called_a_wss_server() -> None:
    """A 5 MB HTTP 500 body is over what websockets reads: an oversized HTTP answer, not "a wss:// server?"."""
    body = b"x" * 5_000_000
    head = f"HTTP/1.1 500 Internal Server Error\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    listener = socket.create_server(("127.0.0.1", 0))

    def answer() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            with contextlib.suppress(OSError):  # the client stops reading at websockets' 1 MiB limit
                conn.sendall(head.encode() + body)

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    try:
        url = f"ws://127.0.0.1:{listener.getsockname()[1]}"
        result = run_cli("text", "hi", "--endpoint", url, "--api-key", KEY, expect=None)
    finally:
        thread.join(5)
        listener.close()
    assert result.exit_code == 4
    assert "HTTP response too large to read (body too large: 5000000 bytes)" in result.stderr
    assert "wss://" not in result.stderr


@pytest.fixture(scope="module")
def two_second_wav(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("two") / "two.wav"
    tone = (np.sin(np.arange(32000) * 2 * np.pi * 440 / 16000) * 3000).astype(np.int16)
    sf.write(path, tone, 16000, subtype="PCM_16")
    return str(path)


@pytest.mark.parametrize(
    ("scenario", "status", "needle"),
    [("quota", 7, "1011 You exceeded your current quota"), ("goaway", 4, "1008 Connection lifetime exceeded.")],
)
def test_a_close_while_input_streams_maps_to_its_class(
    live_server: LocalServer, two_second_wav: str, scenario: str, status: int, needle: str
) -> None:
    """The close lands while the input streams in real time (it came as `RuntimeError: cannot send media in state
    closed`, exit 1, in some runs): it gets its own exit status and line."""
    result = run_cli(
        "send", two_second_wav, "--endpoint", live_server.endpoint(scenario), "--api-key", KEY,
        "--max-reconnects", "0", expect=None,
    )  # fmt: skip
    assert result.exit_code == status
    assert needle in result.stderr
    assert "internal error" not in result.stderr


def test_a_connection_time_limit_while_input_streams_is_a_1008(two_second_wav: str) -> None:
    """`serve --max-connection-s` ends the connection while the input streams: exit 4 with the server's 1008."""
    with local_server(max_connection_s=0.5) as server:
        result = run_cli(
            "send", two_second_wav, "--endpoint", server.endpoint(), "--api-key", KEY, "--max-reconnects", "0",
            expect=None,
        )  # fmt: skip
    assert result.exit_code == 4
    assert "1008 Connection lifetime exceeded." in result.stderr
    assert "internal error" not in result.stderr


@pytest.mark.parametrize(
    ("code", "reason", "kind", "retried"),
    [
        (1009, "frame with 70000000 bytes exceeds limit of 67108864 bytes", ProtocolError, False),
        (1002, "invalid opcode: 3", ProtocolError, False),
        (1007, "invalid start byte at position 0", ProtocolError, False),
        (1011, "keepalive ping timeout", ConnectError, True),
    ],
)
def test_livecli_s_own_closes_are_named_and_retried_only_when_a_new_connection_may_cure_them(
    code: int, reason: str, kind: type[Exception], retried: bool
) -> None:
    """A refused frame would be refused again (no reconnect); a missed pong is like a drop (reconnect)."""
    error = Closed(code, reason, by_us=False, refused=True).refusal()
    assert type(error) is kind
    assert str(error).startswith(f"livecli closed the connection: {code} {reason}")
    assert retryable(error, after_go_away=False) is retried
