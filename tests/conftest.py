"""Shared fixtures: a clean environment for every test, and one local Live server per test session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fake_google import FakeGoogle, fake_google, isolate_credentials

from livecli.protocol.endpoints import GEMINI_DEFAULT_VERSION, gemini_path
from livecli.server import ServerConfig, ServerThread

# Variables that would change what livecli connects to or with which credentials.
_CLEARED_PREFIXES = ("LIVECLI_", "GOOGLE_", "GEMINI_")
_CLEARED_NAMES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "WSS_PROXY", "WS_PROXY")


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No LIVECLI_*/GOOGLE_*/GEMINI_* variable or proxy from the developer's shell leaks into a test."""
    for name in list(os.environ):
        if name.startswith(_CLEARED_PREFIXES) or name.upper() in _CLEARED_NAMES:
            monkeypatch.delenv(name, raising=False)


@pytest.fixture
def isolated_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No credential variable, no gcloud config and no metadata-server probe: never the user's credentials."""
    isolate_credentials(monkeypatch, tmp_path)


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGoogle]:
    """A local HTTPS stand-in for Google's token and auth_tokens endpoints, trusted by google-auth
    (REQUESTS_CA_BUNDLE) and by urllib/websockets (SSL_CERT_FILE)."""
    with fake_google(tmp_path) as running:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(running.ca_file))
        monkeypatch.setenv("SSL_CERT_FILE", str(running.ca_file))
        yield running


@dataclass(frozen=True)
class LocalServer:
    """The session's local server: `url` is its base URL; `endpoint(scenario)` picks a scenario per connection."""

    url: str
    thread: ServerThread

    def endpoint(self, scenario: str | None = None) -> str:
        """A URL for --endpoint (the backend's path is appended by the client), with ?scenario= if given."""
        path = gemini_path(GEMINI_DEFAULT_VERSION)
        return self.url + path + (f"?scenario={scenario}" if scenario else "")


@pytest.fixture(scope="session")
def live_server() -> Iterator[LocalServer]:
    """One local server on 127.0.0.1, port 0, unpaced replies, for the whole test session."""
    with ServerThread(ServerConfig(host="127.0.0.1", port=0, reply_speed=0)) as thread:
        yield LocalServer(thread.url, thread)
