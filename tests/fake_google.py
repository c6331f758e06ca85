"""A local HTTPS stand-in for Google's OAuth token endpoint and the auth_tokens REST method (tests only).

The token endpoint verifies the RS256 signature of the service-account JWT google-auth sends (the
jwt-bearer grant) with the public key of a key pair generated here, so the real google-auth code does the real
signing and refresh. The TLS certificate comes from a trustme CA the tests trust through REQUESTS_CA_BUNDLE
(google-auth) or SSL_CERT_FILE (livecli token).
"""

from __future__ import annotations

import base64
import functools
import json
import os
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import trustme
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

# google-auth reads NO_GCE_CHECK when its metadata module is imported; set it before anything imports it.
os.environ["NO_GCE_CHECK"] = "true"
# google-auth releases without NO_GCE_CHECK (2.30 and older) probe the metadata server instead: point them at a
# closed loopback port, so the probe is refused at once and never leaves this machine. Also read at import time.
NO_METADATA_SERVER = "127.0.0.1:1"
os.environ["GCE_METADATA_HOST"] = NO_METADATA_SERVER
os.environ["GCE_METADATA_IP"] = NO_METADATA_SERVER

CREDENTIAL_ENV = (
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "LIVECLI_EPHEMERAL_TOKEN",
    "LIVECLI_MODEL",
    "GOOGLE_GENAI_USE_VERTEXAI",
    "GOOGLE_CLOUD_PROJECT",
    "GCLOUD_PROJECT",
    "GOOGLE_CLOUD_LOCATION",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "GOOGLE_CLOUD_QUOTA_PROJECT",
    "GOOGLE_GENAI_API_VERSION",
)
FAKE_KEY = "AIzaFAKE-livecli-test-key-0123456789abcd"
FAKE_TOKEN = "auth_tokens/FAKEephemeralTOKEN0123456789"
FAKE_ACCESS_TOKEN = "ya29.FAKE-access-token-livecli-0123456789"
FAKE_REFRESH_TOKEN = "1//FAKE-refresh-token-livecli-0123456789"
SA_EMAIL = "livecli-test@sa-project.iam.gserviceaccount.com"
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"


@dataclass
class Recorded:
    """One request the fake endpoint received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeGoogle:
    """The running fake: base URL, CA file, records, and knobs for the auth_tokens reply."""

    base: str
    ca_file: Path
    public_key: rsa.RSAPublicKey
    records: list[Recorded] = field(default_factory=list)
    jwt_claims: list[dict[str, Any]] = field(default_factory=list)
    auth_tokens_status: int = 200
    auth_tokens_body: bytes | None = None
    auth_tokens_headers: dict[str, str] = field(default_factory=dict)
    token_status: int = 200
    private_key_pem: str = ""

    @property
    def token_uri(self) -> str:
        return f"{self.base}/token"


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _verify_jwt(fake: FakeGoogle, assertion: str) -> dict[str, Any] | None:
    """Check an RS256 JWT against the fake's public key; return its claims or None."""
    try:
        head, payload, signature = assertion.split(".")
        header = json.loads(_b64url_decode(head))
        if header.get("alg") != "RS256":
            return None
        fake.public_key.verify(
            _b64url_decode(signature), f"{head}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256()
        )
        claims: dict[str, Any] = json.loads(_b64url_decode(payload))
        return claims
    except Exception:
        return None


def _handler(fake: FakeGoogle) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep test output clean
            pass

        def _reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            fake.records.append(Recorded("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            if self.path == "/token":
                self._token(body)
            elif self.path.rstrip("/").endswith("/v1alpha/auth_tokens"):
                self._auth_tokens(body)
            else:
                self._reply(404, b'{"error": {"code": 404}}')

        def _token(self, body: bytes) -> None:
            form = parse_qs(body.decode())
            if form.get("grant_type") == ["refresh_token"]:
                ok = form.get("refresh_token") == [FAKE_REFRESH_TOKEN] and fake.token_status == 200
                reply = {"access_token": FAKE_ACCESS_TOKEN, "expires_in": 3600, "token_type": "Bearer"}
                self._reply(200, json.dumps(reply).encode()) if ok else self._reply(
                    400, b'{"error": "invalid_grant"}'
                )
                return
            claims = _verify_jwt(fake, form.get("assertion", [""])[0])
            grant_ok = form.get("grant_type") == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
            if fake.token_status != 200 or claims is None or not grant_ok:
                self._reply(fake.token_status if fake.token_status != 200 else 400, b'{"error": "invalid_grant"}')
                return
            fake.jwt_claims.append(claims)
            reply = {"access_token": FAKE_ACCESS_TOKEN, "expires_in": 3600, "token_type": "Bearer"}
            self._reply(200, json.dumps(reply).encode())

        def _auth_tokens(self, body: bytes) -> None:
            if fake.auth_tokens_status != 200:
                body = fake.auth_tokens_body or b'{"error": {"message": "no"}}'
                self._reply(fake.auth_tokens_status, body, fake.auth_tokens_headers)
                return
            request = json.loads(body)
            reply = {"name": FAKE_TOKEN, **{k: v for k, v in request.items() if k != "bidiGenerateContentSetup"}}
            self._reply(200, fake.auth_tokens_body or json.dumps(reply).encode())

    return Handler


@functools.cache
def _keys() -> tuple[trustme.CA, trustme.LeafCert, rsa.RSAPrivateKey]:
    """One CA, server certificate and service-account key pair per test process (generating them per test
    cost ~60 ms each, most of the credential tests' set-up time)."""
    ca = trustme.CA()
    return (
        ca,
        ca.issue_cert("127.0.0.1", "localhost"),
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
    )


@contextmanager
def fake_google(tmp_path: Path) -> Iterator[FakeGoogle]:
    """Run the fake HTTPS endpoint on 127.0.0.1 (port 0) in a thread."""
    ca, cert, private_key = _keys()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    fake = FakeGoogle(f"https://127.0.0.1:{server.server_address[1]}", ca_file, private_key.public_key())
    server.RequestHandlerClass = _handler(fake)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    fake.private_key_pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def write_service_account(fake: FakeGoogle, path: Path) -> Path:
    """A service-account JSON whose token_uri is the fake endpoint."""
    info: dict[str, Any] = {
        "type": "service_account",
        "project_id": "sa-project",
        "private_key_id": "fake-key-id",
        "private_key": fake.private_key_pem,
        "client_email": SA_EMAIL,
        "client_id": "1234567890",
        "token_uri": fake.token_uri,
    }
    path.write_text(json.dumps(info))
    return path


def write_authorized_user(fake: FakeGoogle, path: Path, *, quota_project: str = "quota-proj") -> Path:
    """A `gcloud auth application-default login` JSON (carries a quota project) whose token_uri is the fake."""
    info = {
        "type": "authorized_user",
        "client_id": "fake-client.apps.googleusercontent.com",
        "client_secret": "fake-client-secret",
        "refresh_token": FAKE_REFRESH_TOKEN,
        "quota_project_id": quota_project,
        "token_uri": fake.token_uri,
    }
    path.write_text(json.dumps(info))
    return path


def isolate_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Clear every credential variable and point gcloud's config at an empty directory (never the user's)."""
    for name in CREDENTIAL_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_GCE_CHECK", "true")
    monkeypatch.setenv("GCE_METADATA_HOST", NO_METADATA_SERVER)
    monkeypatch.setenv("GCE_METADATA_IP", NO_METADATA_SERVER)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    import google.auth.compute_engine._metadata as metadata

    # In case google-auth's metadata module was imported before NO_GCE_CHECK was set: never probe the network
    # (raising=False: releases without the check have no such attribute; the closed port above covers them).
    monkeypatch.setattr(metadata, "_NO_GCE_CHECK", True, raising=False)
