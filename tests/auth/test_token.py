"""`livecli token`: the auth_tokens body, fieldMask rules, the endpoint rule, and the command over local HTTPS."""

from __future__ import annotations

import datetime as dt
import gc
import json
import socket
import ssl

import pytest
from fake_google import FAKE_KEY, FAKE_TOKEN, FakeGoogle
from helpers import run_cli

from livecli.auth.token import (
    TokenRequest,
    field_mask,
    mint_token,
    parse_cli_duration,
    parse_lock_config,
    token_body,
    token_url,
)
from livecli.errors import ConnectError, CredentialsError, UsageError

NOW = dt.datetime(2026, 11, 22, 18, 40, tzinfo=dt.UTC)


pytestmark = pytest.mark.usefixtures("isolated_credentials")


def test_unlocked_body_has_uses_and_both_expiry_times() -> None:
    body = token_body(TokenRequest(), NOW)
    assert body == {
        "uses": 1,
        "expireTime": "2026-11-22T19:10:00+00:00",
        "newSessionExpireTime": "2026-11-22T18:41:00+00:00",
    }


def test_locked_body_matches_what_google_genai_sends() -> None:
    """docs/wire.md, "Ephemeral tokens": set fields one level deep, then the extra fields mapped into
    generationConfig."""
    config = parse_lock_config(
        '{"generationConfig":{"responseModalities":["AUDIO"],"temperature":0.7},"sessionResumption":{}}'
    )
    request = TokenRequest(lock_model="gemini-3.8-live", lock_config=config, lock_fields=["temperature"])
    body = token_body(request, NOW)
    assert body["bidiGenerateContentSetup"] == {
        "model": "models/gemini-3.8-live",
        "generationConfig": {"responseModalities": ["AUDIO"], "temperature": 0.7},
        "sessionResumption": {},
    }
    assert body["fieldMask"] == (
        "model,generationConfig.responseModalities,generationConfig.temperature,sessionResumption,"
        "generationConfig.temperature"
    )


def test_whole_setup_lock_sends_no_field_mask() -> None:
    body = token_body(TokenRequest(lock_model="models/m", lock_whole_setup=True), NOW)
    assert body["bidiGenerateContentSetup"] == {"model": "models/m"}
    assert "fieldMask" not in body


def test_field_mask_of_unknown_extra_is_kept_top_level() -> None:
    assert field_mask({"model": "m"}, ["systemInstruction"]) == "model,systemInstruction"


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (TokenRequest(uses=-1), "--uses"),
        (TokenRequest(expires=dt.timedelta(hours=20)), "--expires"),
        (TokenRequest(new_session_expires=dt.timedelta(0)), "--new-session-expires"),
        (TokenRequest(lock_fields=["temperature"]), "--lock-fields needs"),
    ],
)
def test_bad_requests_are_usage_errors(request_: TokenRequest, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        token_body(request_, NOW)


def test_durations_and_lock_config_parsing() -> None:
    assert [parse_cli_duration(t).total_seconds() for t in ("90s", "30m", "2h", "1.5")] == [90, 1800, 7200, 1.5]
    with pytest.raises(UsageError, match="bad duration"):
        parse_cli_duration("soon")
    assert parse_lock_config('{"setup": {"model": "models/x"}}') == {"model": "models/x"}
    for bad in ("[1]", "{nope"):
        with pytest.raises(UsageError, match="--lock-config"):
            parse_lock_config(bad)


def test_token_url_follows_the_endpoint_rule() -> None:
    assert token_url(None) == "https://generativelanguage.googleapis.com/v1alpha/auth_tokens"
    assert token_url("https://gw.example:8443") == "https://gw.example:8443/v1alpha/auth_tokens"
    assert token_url("https://gw.example/custom/tokens?x=1") == "https://gw.example/custom/tokens?x=1"
    assert token_url("http://127.0.0.1:9") == "http://127.0.0.1:9/v1alpha/auth_tokens"
    for bad in ("http://gw.example", "wss://gw.example", "gw.example"):
        with pytest.raises(UsageError, match="https://"):
            token_url(bad)


def test_mint_posts_the_key_in_a_header_over_verified_tls(fake: FakeGoogle) -> None:
    response = mint_token(TokenRequest(uses=3), FAKE_KEY, endpoint=fake.base, now=lambda: NOW)
    assert response["name"] == FAKE_TOKEN
    assert response["uses"] == 3
    (record,) = fake.records
    assert (record.method, record.path) == ("POST", "/v1alpha/auth_tokens")
    assert record.headers["x-goog-api-key"] == FAKE_KEY
    assert record.headers["content-type"] == "application/json"
    assert json.loads(record.body)["expireTime"] == "2026-11-22T19:10:00+00:00"


def test_untrusted_certificate_is_refused(fake: FakeGoogle, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSL_CERT_FILE")
    monkeypatch.setenv("SSL_CERT_DIR", str(fake.ca_file.parent / "empty"))
    with pytest.raises(ConnectError, match="SSL_CERT_FILE"):
        mint_token(TokenRequest(), FAKE_KEY, endpoint=fake.base)
    assert fake.records == []


def test_token_command_prints_the_name_or_json(fake: FakeGoogle, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", FAKE_KEY)
    result = run_cli("token", "--endpoint", fake.base, "--lock-model", "gemini-3.8-live")
    assert result.stdout == FAKE_TOKEN + "\n"
    assert json.loads(fake.records[-1].body)["fieldMask"] == "model"
    result = run_cli("token", "--endpoint", fake.base, "--json", "--uses", "0")
    assert json.loads(result.stdout)["uses"] == 0
    assert FAKE_KEY not in result.stdout + result.stderr


@pytest.mark.parametrize(("status", "exit_status"), [(401, 3), (403, 3), (429, 7), (500, 4)])
def test_refusals_map_to_exit_statuses_and_never_show_the_key(
    fake: FakeGoogle, status: int, exit_status: int
) -> None:
    fake.auth_tokens_status = status
    fake.auth_tokens_body = json.dumps({"error": {"message": f"bad key {FAKE_KEY}", "status": "X"}}).encode()
    result = run_cli("token", "--endpoint", fake.base, "--api-key", FAKE_KEY, expect=exit_status)
    assert f"HTTP {status}" in result.stderr
    assert FAKE_KEY not in result.stdout + result.stderr
    assert "***" in result.stderr


def test_missing_key_exits_3_before_any_request(fake: FakeGoogle) -> None:
    result = run_cli("token", "--endpoint", fake.base, expect=3)
    assert "no API key" in result.stderr
    assert fake.records == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"name": "not-a-token"}', "without a valid token name"),
        (b'{"uses": 1}', "without a valid token name"),
        (b'{"name": ["auth_tokens/x"]}', "without a valid token name"),
        (b'{"name": "auth_tokens/ok\\u001b[2J\\nrm -rf"}', "without a valid token name"),
        (b"<html>502 Bad Gateway</html>", "not JSON"),
        (b"\xff\xfe garbage", "not JSON"),
        (b'["auth_tokens/x"]', "without a valid token name"),
        (b'{"name": "auth_tokens/x", "pad": "' + b"x" * (80 << 10) + b'"}', "more than 64 KiB"),
    ],
)
def test_hostile_answers_are_one_line_errors_without_traceback(
    fake: FakeGoogle, body: bytes, message: str
) -> None:
    """Whatever a server answers with 200, the command exits 4 with one line; nothing reaches stdout."""
    fake.auth_tokens_body = body
    result = run_cli("token", "--endpoint", fake.base, "--api-key", FAKE_KEY, expect=4)
    assert result.stdout == ""
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert "\x1b" not in result.stderr


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirect_is_not_followed_so_the_key_stays_home(fake: FakeGoogle, status: int) -> None:
    """urllib follows a POST's 301-303 as a GET that keeps x-goog-api-key: the other listener must see nothing."""
    with socket.create_server(("127.0.0.1", 0)) as elsewhere:
        elsewhere.setblocking(False)
        port = elsewhere.getsockname()[1]
        fake.auth_tokens_status = status
        fake.auth_tokens_headers = {"Location": f"http://127.0.0.1:{port}/steal?k={FAKE_KEY}"}
        result = run_cli("token", "--endpoint", fake.base, "--api-key", FAKE_KEY, expect=4)
        with pytest.raises(BlockingIOError):
            elsewhere.accept()
    assert "does not follow redirects" in result.stderr
    assert f"127.0.0.1:{port}/steal" in result.stderr
    assert FAKE_KEY not in result.stderr
    assert len(fake.records) == 1


def _open_client_tls_sockets() -> list[ssl.SSLSocket]:
    gc.collect()
    return [o for o in gc.get_objects() if isinstance(o, ssl.SSLSocket) and not o.server_side and o.fileno() != -1]


@pytest.mark.parametrize("status", [302, 307])
def test_refused_redirect_closes_its_connection(fake: FakeGoogle, status: int) -> None:
    """Fault 4 of issue 9: refusing a redirect left the TLS socket open until the garbage collector found it (a
    ResourceWarning under -W default). The socket must be closed while the error is still being reported."""
    fake.auth_tokens_status = status
    fake.auth_tokens_headers = {"Location": "https://elsewhere.invalid/x"}
    before = _open_client_tls_sockets()
    with pytest.raises(ConnectError, match="does not follow redirects") as info:
        mint_token(TokenRequest(), FAKE_KEY, endpoint=fake.base)
    assert info.traceback  # the error, and every frame it holds, is still alive here
    assert _open_client_tls_sockets() == before


def test_refusal_closes_its_connection(fake: FakeGoogle) -> None:
    """An HTTP refusal's body is read (its first 4 KiB), then its connection closed, even while the error lives."""
    fake.auth_tokens_status = 403
    fake.auth_tokens_body = json.dumps(
        {"error": {"message": "no " * 4000, "status": "PERMISSION_DENIED"}}
    ).encode()
    before = _open_client_tls_sockets()
    with pytest.raises(CredentialsError, match="HTTP 403") as info:
        mint_token(TokenRequest(), FAKE_KEY, endpoint=fake.base)
    assert info.traceback
    assert _open_client_tls_sockets() == before


@pytest.mark.parametrize("timeout", ["0", "-1", "inf", "nan"])
def test_bad_timeout_is_a_usage_error_before_any_request(fake: FakeGoogle, timeout: str) -> None:
    result = run_cli("token", "--endpoint", fake.base, "--api-key", FAKE_KEY, "--timeout", timeout, expect=2)
    assert "--timeout" in result.stderr
    assert "internal error" not in result.stderr
    assert fake.records == []


def test_silent_server_times_out_with_exit_4() -> None:
    """A server that accepts and never answers: the --timeout bounds the wait."""
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        with pytest.raises(ConnectError, match=r"could not reach http://127\.0\.0\.1"):
            mint_token(TokenRequest(), FAKE_KEY, endpoint=f"http://127.0.0.1:{port}", timeout_s=0.2)
