"""Fixtures of the server tests that talk TLS."""

from __future__ import annotations

from pathlib import Path

import pytest

from livecli.server.tls import write_self_signed


@pytest.fixture(scope="session")
def tls_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A self-signed certificate (cert.pem, key.pem) for 127.0.0.1, made once for the session."""
    path = tmp_path_factory.mktemp("tls")
    write_self_signed(str(path))
    return path
