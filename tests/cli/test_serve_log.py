"""`livecli serve`'s log as a script or CI reads it: one plain line per event with an ISO-8601 timestamp, a hint
when a TLS client dials the plain port, and the SSL_CERT_FILE line for a self-signed certificate."""

from __future__ import annotations

import io
import logging
import re
import signal
import socket
import ssl
import time
from pathlib import Path

import pytest
from helpers import local_server, serve_subprocess

from livecli.server.main import PlainLogFormatter, _log_handler, trust_line

ISO_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d (INFO|WARNING|ERROR|DEBUG) \S")


def _record(message: str, *, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logging.LogRecord("livecli.server", logging.INFO, __file__, 1, message, None, exc_info)


def test_a_log_line_has_an_iso_timestamp_and_no_padding() -> None:
    line = PlainLogFormatter(tracebacks=False).format(_record("turn 1: hi"))
    assert ISO_LINE.match(line), line
    assert line.endswith("INFO turn 1: hi")


def test_a_long_message_stays_on_one_line() -> None:
    message = "listening on ws://127.0.0.1:1 " + "x" * 200
    line = PlainLogFormatter(tracebacks=False).format(_record(message))
    assert "\n" not in line
    assert line.endswith(message)


def test_a_newline_from_a_client_is_escaped() -> None:
    line = PlainLogFormatter(tracebacks=False).format(_record("turn 1: one\ntwo\x1b[2J"))
    assert "\n" not in line
    assert "\x1b" not in line
    assert "one\\ntwo\\x1b[2J" in line


def test_an_exception_is_one_line_unless_verbose() -> None:
    try:
        raise ValueError("bad frame")
    except ValueError as exc:
        record = _record("internal error; closing the connection with 1011", exc=exc)
    line = PlainLogFormatter(tracebacks=False).format(record)
    assert "\n" not in line
    assert line.endswith("closing the connection with 1011: ValueError: bad frame")
    verbose = PlainLogFormatter(tracebacks=True).format(record)
    assert "Traceback (most recent call last)" in verbose


def test_a_non_terminal_gets_the_plain_formatter() -> None:
    handler = _log_handler(0, io.StringIO())
    assert isinstance(handler.formatter, PlainLogFormatter)
    assert handler.level == logging.INFO


def test_a_tls_client_on_the_plain_port_is_logged_with_a_hint() -> None:
    seen = io.StringIO()
    handler = logging.StreamHandler(seen)
    with local_server() as server:
        logger = server.thread.config.logger
        logger.addHandler(handler)
        try:
            context = ssl.create_default_context()
            with (
                socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw,
                pytest.raises((ssl.SSLError, OSError)),
            ):
                context.wrap_socket(raw, server_hostname="localhost")
            for _ in range(100):  # the server logs from its own thread
                if "TLS ClientHello" in seen.getvalue():
                    break
                time.sleep(0.02)
        finally:
            logger.removeHandler(handler)
    assert "a TLS ClientHello from 127.0.0.1:" in seen.getvalue()
    assert "--tls-self-signed DIR" in seen.getvalue()


def test_a_plain_client_gets_no_tls_hint() -> None:
    seen = io.StringIO()
    handler = logging.StreamHandler(seen)
    with local_server() as server:
        logger = server.thread.config.logger
        logger.addHandler(handler)
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw:
                raw.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                raw.recv(100)
        finally:
            logger.removeHandler(handler)
    assert "TLS" not in seen.getvalue()


def test_the_trust_line_names_the_absolute_cert_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    line = trust_line("certs dir")
    assert line.endswith(f"export SSL_CERT_FILE='{tmp_path / 'certs dir' / 'cert.pem'}'")


def test_serve_on_a_pipe_logs_plain_lines_and_the_trust_line(tmp_path: Path) -> None:
    """The whole command: the log is a pipe, so every line is an ISO-stamped event, never Rich's columns."""
    proc = serve_subprocess("--port", "0", "--tls-self-signed", str(tmp_path / "tls"), env={"COLUMNS": "80"})
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("wss://127.0.0.1:")
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    lines = err.splitlines()
    assert f"export SSL_CERT_FILE={tmp_path / 'tls' / 'cert.pem'}" in err
    events = [line for line in lines if not line.startswith("clients trust")]
    assert events, err
    for line in events:
        assert ISO_LINE.match(line), line
        assert not line.endswith(" "), line
