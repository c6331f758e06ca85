"""wss: a self-signed certificate written by the server (SAN 127.0.0.1 and localhost), or given PEM files."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from cryptography import x509
from helpers import local_server

from livecli.errors import UsageError
from livecli.server import ServerConfig
from livecli.server.probe import ask
from livecli.server.tls import server_ssl_context, write_self_signed


def test_self_signed_certificate_names_loopback(tmp_path: Path) -> None:
    cert_path, key_path = write_self_signed(str(tmp_path))
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in san.get_values_for_type(x509.DNSName)
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert key_path.stat().st_mode & 0o077 == 0


async def test_wss_with_a_self_signed_directory(tmp_path: Path) -> None:
    with local_server(tls_self_signed_dir=str(tmp_path)) as server:
        assert server.url.startswith("wss://127.0.0.1:")
        context = ssl.create_default_context(cafile=str(tmp_path / "cert.pem"))

        assert (await ask(server.url, "secure", ssl_context=context)).input_transcripts == ["secure"]


def test_cert_files_and_bad_files(tmp_path: Path) -> None:
    cert, key = write_self_signed(str(tmp_path))
    assert server_ssl_context(ServerConfig(tls_cert=str(cert), tls_key=str(key))) is not None
    assert server_ssl_context(ServerConfig()) is None
    with pytest.raises(UsageError):
        server_ssl_context(ServerConfig(tls_cert=str(key), tls_key=str(cert)))
    with pytest.raises(UsageError):
        server_ssl_context(ServerConfig(tls_key=str(key)))
