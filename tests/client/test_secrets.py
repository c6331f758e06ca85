"""Secrets never reach the terminal through text a server wrote (S1), nor another host through a redirect (S2)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from helpers import SAMPLES, LocalServer, RawFrameServer, local_server, run_cli

from livecli.protocol.redact import Redactor

KEY = "AIzaSyFAKE-leaky-key-0123456789abcdefghij"
HELLO_WAV = str(SAMPLES / "hello_16k.wav")


@pytest.fixture(scope="module")
def echoing_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """A server whose every turn closes 1011 with a reason that quotes the client's API key."""
    folder = tmp_path_factory.mktemp("leaky")
    (folder / "leak.toml").write_text(
        'name = "leak"\nrepeat_last_turn = true\n'
        f'[[turns]]\nclose = {{ code = 1011, reason = "Internal error encountered. key={KEY}" }}\n'
    )
    with local_server(scenario=str(folder / "leak.toml")) as server:
        yield server


def _send_through_reconnects(server: LocalServer, *extra: str) -> tuple[int, str, str]:
    result = run_cli(
        "send", HELLO_WAV, "--endpoint", server.endpoint(), "--api-key", KEY, "--speed", "0",
        "--max-reconnects", "1", *extra, expect=None,
    )  # fmt: skip
    return result.exit_code, result.stdout, result.stderr


def test_close_reason_quoting_the_key_is_redacted_in_reconnect_lines(echoing_server: LocalServer) -> None:
    """The reconnect line, which quotes the close that caused it, shows *** where the server echoed the key."""
    status, _, stderr = _send_through_reconnects(echoing_server, "-v")
    assert status == 4
    assert "reconnecting" in stderr
    assert KEY not in stderr
    assert "key=***" in stderr


def test_close_reason_quoting_the_key_is_redacted_in_every_json_line(echoing_server: LocalServer) -> None:
    """--json: `reconnect.cause`, the error event and the summary never carry the key."""
    status, stdout, stderr = _send_through_reconnects(echoing_server, "--json")
    assert status == 4
    lines = [line for line in stdout.splitlines() if line.strip()]
    assert any('"reconnect"' in line for line in lines)
    leaking = [line for line in lines if KEY in line]
    assert leaking == []
    assert KEY not in stderr


def _escaped(text: str) -> str:
    """`text` as JSON with every character escaped as \\uXXXX: the key never appears verbatim in the frame."""
    return "".join(f"\\u{ord(ch):04x}" for ch in text)


def test_a_key_echoed_in_reply_text_is_redacted_even_when_json_escaped() -> None:
    """Transcripts and text parts quote the key verbatim and spelled with JSON escapes: neither reaches --json."""
    plain = f'{{"serverContent":{{"outputTranscription":{{"text":"said {KEY}"}}}}}}'.encode()
    hidden = f'{{"serverContent":{{"modelTurn":{{"parts":[{{"text":"{_escaped(KEY)}"}}]}}}}}}'.encode()
    done = b'{"serverContent":{"turnComplete":true}}'
    with RawFrameServer([plain, hidden, done]) as server:
        result = run_cli(
            "text", "hi", "--endpoint", server.url, "--api-key", KEY, "--json", "-vv", expect=None,
        )  # fmt: skip
    assert result.exit_code == 0
    assert KEY not in result.stdout
    assert KEY not in result.stderr
    assert result.stdout.count("***") >= 2


def test_the_redactor_leaves_frames_without_a_secret_untouched() -> None:
    """The hot path: a frame that quotes no secret is returned as the very same object."""
    redactor = Redactor([KEY])
    frame = b'{"serverContent":{"modelTurn":{"parts":[{"text":"caf\\u00e9"}]}}}'
    assert redactor.frame(frame) is frame
    assert redactor.frame(frame.decode()) == frame.decode()


def test_the_redactor_replaces_url_encoded_and_escaped_secrets() -> None:
    token = "auth_tokens/abcdef123456"
    redactor = Redactor([token])
    assert redactor.frame(b'{"a":"auth_tokens\\/abcdef123456"}') == b'{"a":"***"}'
    assert redactor.text("x auth_tokens%2Fabcdef123456 y") == "x *** y"


class _RedirectingHTTP:
    """A raw HTTP server on 127.0.0.1:0 answering every request with a 302 to `location`; counts requests and
    keeps the header blocks it received."""

    def __init__(self, location: str) -> None:
        self.location = location
        self.requests: list[bytes] = []
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.url = f"ws://127.0.0.1:{self._sock.getsockname()[1]}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(5)
                head = b""
                while b"\r\n\r\n" not in head and len(head) < 65536:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    head += chunk
                self.requests.append(head)
                conn.sendall(
                    f"HTTP/1.1 302 Found\r\nLocation: {self.location}\r\nContent-Length: 0\r\n"
                    "Connection: close\r\n\r\n".encode()
                )

    def __enter__(self) -> _RedirectingHTTP:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self._sock.close()


@pytest.mark.parametrize("where", ["same-host", "other-host"])
def test_a_redirect_on_the_upgrade_is_never_followed(live_server: LocalServer, where: str) -> None:
    """A 302 is a connection error (exit 4) naming the Location with its secrets masked; the credentials are
    sent once, to the endpoint given, and never again (no redirect, no reconnect)."""
    target = f"/elsewhere?key={KEY}" if where == "same-host" else f"{live_server.url}/moved/{KEY}?key={KEY}"
    with _RedirectingHTTP(target) as server:
        result = run_cli("text", "hi", "--endpoint", server.url, "--api-key", KEY, "--json", expect=4)
    assert len(server.requests) == 1
    assert KEY.encode() in server.requests[0]  # the one request that was meant for this endpoint
    assert "HTTP 302" in result.stderr
    assert "redirecting to ws://127.0.0.1" in result.stderr
    assert "--endpoint" in result.stderr
    assert KEY not in result.stderr
    assert KEY not in result.stdout
