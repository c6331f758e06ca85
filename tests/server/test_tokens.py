"""Ephemeral tokens on the local server: minting (POST /v1alpha/auth_tokens beside the upgrades, on one port),
the lock and the uses, sans I/O and over real sockets (plain and TLS)."""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import LocalServer, local_server
from hypothesis import given
from hypothesis import strategies as st
from websockets.exceptions import InvalidStatus

from livecli.protocol import close_reasons as cr
from livecli.protocol.endpoints import EPHEMERAL_VERSION, gemini_path
from livecli.server.probe import GEMINI_PATH, Probe
from livecli.server.tokens import RestError, TokenStore, apply_lock, format_time, parse_time
from livecli.server.validate import Refusal

CONSTRAINED = gemini_path(EPHEMERAL_VERSION, constrained=True)
KEY = "KEY-for-tokens-0123456789"
SETUP = {"model": "models/gemini-3.8-live"}


class WallClock:
    """POSIX time with an offset a test moves forward."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


# -- sans I/O ------------------------------------------------------------------------------------------------


def test_lock_with_a_mask_overrides_only_the_masked_paths() -> None:
    client = {"model": "models/a", "generationConfig": {"temperature": 0.1, "topK": 3}, "systemInstruction": "x"}
    locked = {"model": "models/b", "generationConfig": {"temperature": 0.9}}
    effective = apply_lock(client, locked, (("generationConfig", "temperature"),))
    assert effective == {
        "model": "models/a",
        "generationConfig": {"temperature": 0.9, "topK": 3},
        "systemInstruction": "x",
    }
    assert client["generationConfig"] == {"temperature": 0.1, "topK": 3}  # the client's setup is not changed


def test_lock_without_a_mask_takes_every_field_the_locked_setup_sets() -> None:
    client = {"model": "models/a", "generationConfig": {"topK": 3}, "inputAudioTranscription": {}}
    locked = {"model": "models/b", "generationConfig": {"temperature": 0.9}}
    effective = apply_lock(client, locked, None)
    assert effective == {
        "model": "models/b",
        "generationConfig": {"temperature": 0.9},
        "inputAudioTranscription": {},
    }


def test_a_locked_path_left_unset_removes_the_clients_value_but_never_the_resumption_handle() -> None:
    client = {"model": "models/a", "tools": [{"googleSearch": {}}], "sessionResumption": {"handle": "h1"}}
    locked = {"model": "models/a", "sessionResumption": {}}
    effective = apply_lock(client, locked, (("tools",), ("sessionResumption",)))
    assert "tools" not in effective
    assert effective["sessionResumption"] == {"handle": "h1"}


def test_mint_fills_the_services_defaults_and_answers_with_the_terms() -> None:
    clock = WallClock()
    token = TokenStore(clock).mint({})
    answer = token.response()
    assert answer["name"].startswith("auth_tokens/")
    assert answer["uses"] == 1
    assert parse_time(answer["expireTime"], "t") == pytest.approx(clock() + 1800, abs=5)
    assert parse_time(answer["newSessionExpireTime"], "t") == pytest.approx(clock() + 60, abs=5)
    assert "bidiGenerateContentSetup" not in answer


def test_mint_camelcases_the_locked_setup_and_keeps_the_mask() -> None:
    store = TokenStore(WallClock())
    body = {"bidi_generate_content_setup": {"model": "m", "generation_config": {"temperature": 0.5}}}
    token = store.mint({**body, "field_mask": "generation_config.temperature"})
    assert token.locked == {"model": "m", "generationConfig": {"temperature": 0.5}}
    assert token.response()["fieldMask"] == "generationConfig.temperature"
    assert store.get(token.name) is token


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"usesX": 1}, 'Unknown name "usesX"'),
        ({"uses": -1}, "'uses'"),
        ({"uses": True}, "'uses'"),
        ({"uses": 1.5}, "'uses'"),
        ({"expireTime": "tomorrow"}, "'expireTime'"),
        ({"expireTime": "2026-01-01T00:00:00"}, "time zone"),
        ({"expireTime": format_time(time.time() + 21 * 3600)}, "20 hours"),
        ({"newSessionExpireTime": format_time(time.time() - 5)}, "in the future"),
        ({"fieldMask": "model"}, "field_mask needs"),
        ({"bidiGenerateContentSetup": {"modle": "x"}}, 'Unknown name "modle"'),
        ({"bidiGenerateContentSetup": {"model": "x"}, "fieldMask": "model,,x"}, "field mask path"),
        ([1], "Expected an object"),
    ],
)
def test_mint_refuses_what_the_service_refuses_with_400(body: Any, needle: str) -> None:
    with pytest.raises(RestError) as caught:
        TokenStore(WallClock()).mint(body)
    assert caught.value.http_status == 400
    assert needle in caught.value.message


def test_uses_count_new_sessions_until_the_window_closes() -> None:
    clock = WallClock()
    token = TokenStore(clock).mint({"uses": 2})
    token.start_session(clock())
    token.start_session(clock())
    with pytest.raises(Refusal) as used_up:
        token.start_session(clock())
    assert (used_up.value.code, used_up.value.reason) == (1008, cr.TOKEN_USED_UP.text)
    unlimited = TokenStore(clock).mint({"uses": 0})
    for _ in range(50):
        unlimited.start_session(clock())
    with pytest.raises(Refusal) as late:
        unlimited.start_session(clock() + 61)
    assert late.value.reason == cr.TOKEN_NO_NEW_SESSIONS.text


def test_the_store_forgets_the_oldest_token_past_its_bound() -> None:
    store = TokenStore(WallClock(), max_tokens=3)
    names = [store.mint({}).name for _ in range(4)]
    assert store.get(names[0]) is None
    assert all(store.get(name) is not None for name in names[1:])


@given(st.floats(min_value=0, max_value=4e9, allow_nan=False))
def test_timestamps_read_back_as_written(posix_s: float) -> None:
    assert parse_time(format_time(posix_s), "t") == pytest.approx(posix_s, abs=1e-5)


@given(st.text(max_size=40))
def test_any_timestamp_text_is_read_or_refused_with_400(text: str) -> None:
    try:
        parse_time(text, "expireTime")
    except RestError as exc:
        assert exc.http_status == 400


# -- over sockets --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keyed() -> Iterator[tuple[LocalServer, WallClock]]:
    clock = WallClock()
    with local_server(require_key=KEY, wall_clock=clock) as server:
        yield server, clock


def _post(
    url: str, body: bytes, headers: dict[str, str], context: ssl.SSLContext | None = None
) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    opener = urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=context), urllib.request.ProxyHandler({})
    )
    try:
        with opener.open(request, timeout=10) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read())


def _mint(server: LocalServer, body: dict[str, Any] | None = None, key: str | None = KEY) -> dict[str, Any]:
    status, answer = _post(
        server.url.replace("ws://", "http://") + "/v1alpha/auth_tokens",
        json.dumps(body or {}).encode(),
        {"Content-Type": "application/json", **({"x-goog-api-key": key} if key else {})},
    )
    assert status == 200, answer
    return answer


def test_the_key_is_required_as_the_service_requires_it(keyed: tuple[LocalServer, WallClock]) -> None:
    server, _ = keyed
    url = server.url.replace("ws://", "http://") + "/v1alpha/auth_tokens"
    missing = _post(url, b"{}", {})
    wrong = _post(url, b"{}", {"x-goog-api-key": "WRONG"})
    in_query = _post(url + "?key=" + KEY, b"{}", {})
    assert missing[0] == 401
    assert missing[1]["error"]["status"] == "UNAUTHENTICATED"
    assert wrong[0] == 400
    assert wrong[1]["error"]["message"] == cr.API_KEY_INVALID.text
    assert in_query[0] == 200


def test_other_paths_and_methods_and_bad_bodies_are_refused(keyed: tuple[LocalServer, WallClock]) -> None:
    server, _ = keyed
    base = server.url.replace("ws://", "http://")
    headers = {"x-goog-api-key": KEY}
    assert _post(base + "/v1beta/auth_tokens", b"{}", headers)[0] == 404
    assert _post(base + "/v1alpha/auth_tokens", b"{not json", headers)[0] == 400
    assert _post(base + "/v1alpha/auth_tokens", b'{"uses": -2}', headers)[0] == 400


async def _raw_exchange(port: int, chunks: list[bytes]) -> bytes:
    """Send `chunks` as separate writes and read the whole answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for chunk in chunks:
        writer.write(chunk)
        await writer.drain()
        await asyncio.sleep(0)
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    return answer


async def test_a_request_split_byte_by_byte_is_answered(keyed: tuple[LocalServer, WallClock]) -> None:
    server, _ = keyed
    body = b'{"uses": 3}'
    request = (
        b"POST /v1alpha/auth_tokens HTTP/1.1\r\nHost: x\r\nx-goog-api-key: " + KEY.encode() + b"\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    answer = await _raw_exchange(server.port, [request[i : i + 1] for i in range(len(request))])
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["uses"] == 3


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"POST /v1alpha/auth_tokens HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", b"411"),
        (b"POST /v1alpha/auth_tokens HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n", b"413"),
        (b"POST /v1alpha/auth_tokens HTTP/1.1\r\nContent-Length: x\r\n\r\n", b"400"),
        (b"POST /v1alpha/auth_tokens\r\n\r\n", b"400"),
        (b"POST /x HTTP/1.1\r\nX-Pad: " + b"a" * (20 << 10), b"431"),
        (b"DELETE /v1alpha/auth_tokens HTTP/1.1\r\n\r\n", b"405"),
    ],
)
async def test_malformed_or_oversized_requests_get_one_bounded_answer(
    keyed: tuple[LocalServer, WallClock], request_bytes: bytes, status: bytes
) -> None:
    server, _ = keyed
    answer = await _raw_exchange(server.port, [request_bytes])
    assert answer.split(b" ")[1] == status
    assert len(answer) < 4096


async def test_tls_serves_the_rest_call_and_the_upgrade_on_one_port(tls_dir: Path) -> None:
    context = ssl.create_default_context(cafile=str(tls_dir / "cert.pem"))
    tls = {"tls_cert": str(tls_dir / "cert.pem"), "tls_key": str(tls_dir / "key.pem")}
    with local_server(require_key=KEY, **tls) as server:
        url = server.url.replace("wss://", "https://") + "/v1alpha/auth_tokens"
        status, answer = _post(url, b'{"uses": 1}', {"x-goog-api-key": KEY}, context)
        assert status == 200
        probe = await Probe.open(server.url, CONSTRAINED + "?access_token=" + answer["name"], ssl_context=context)
        complete = await probe.setup()
        await probe.close()
    assert "setupComplete" in complete


async def _outcome(server: LocalServer, path: str, headers: dict[str, str] | None = None, **setup: Any) -> str:
    """'ok' (or 'ok resumable' when handles are issued), 'http <status>' or 'close <code> <reason>'."""
    try:
        probe = await Probe.open(server.url, path, headers=headers)
    except InvalidStatus as exc:
        return f"http {exc.response.status_code}"
    await probe.send({"setup": {**SETUP, **setup}})
    try:
        message = await probe.recv()
    except Exception:
        code, reason = await probe.closed()
        return f"close {code} {reason}"
    if "setupComplete" not in message:
        return f"unexpected {message}"
    # One text turn: a handle update issued at the setup comes before its reply (no waiting for an absence).
    await probe.send({"realtimeInput": {"text": "hi"}})
    turn = await probe.turn()
    await probe.close()
    return "ok resumable" if "sessionResumptionUpdate" in turn.kinds() else "ok"


async def test_a_minted_token_opens_the_constrained_path_in_every_form(
    keyed: tuple[LocalServer, WallClock],
) -> None:
    server, _ = keyed
    name = _mint(server, {"uses": 0})["name"]
    as_query = await _outcome(server, CONSTRAINED + "?access_token=" + name)
    as_sdk_headers = await _outcome(
        server, CONSTRAINED, {"Authorization": f"Token {name}", "x-goog-api-key": name}
    )
    as_key_on_gemini_path = await _outcome(server, GEMINI_PATH, {"x-goog-api-key": name})
    assert as_query == "ok"
    assert as_sdk_headers == "ok"
    assert as_key_on_gemini_path == f"close 1007 {cr.API_KEY_INVALID.text}"  # tokens open Constrained only


async def test_a_used_up_token_is_refused_after_the_setup(keyed: tuple[LocalServer, WallClock]) -> None:
    server, _ = keyed
    path = CONSTRAINED + "?access_token=" + _mint(server, {"uses": 1})["name"]
    first = await _outcome(server, path)
    second = await _outcome(server, path)
    assert first == "ok"
    assert second == f"close 1008 {cr.TOKEN_USED_UP.text}"


async def test_an_expired_token_is_refused_at_the_upgrade(keyed: tuple[LocalServer, WallClock]) -> None:
    server, clock = keyed
    path = CONSTRAINED + "?access_token=" + _mint(server, {"uses": 0})["name"]
    clock.offset += 1801
    try:
        outcome = await _outcome(server, path)
    finally:
        clock.offset -= 1801
    assert outcome == "http 401"


async def test_resuming_is_not_a_use_and_outlives_the_new_session_window(
    keyed: tuple[LocalServer, WallClock],
) -> None:
    server, clock = keyed
    path = CONSTRAINED + "?access_token=" + _mint(server, {"uses": 1})["name"]
    probe = await Probe.open(server.url, path)
    await probe.setup(sessionResumption={})
    update = await probe.recv()
    handle = update["sessionResumptionUpdate"]["newHandle"]
    await probe.close()
    clock.offset += 120  # past newSessionExpireTime (60 s), before expireTime (30 min)
    try:
        resumed = await _outcome(server, path, sessionResumption={"handle": handle})
        new_session = await _outcome(server, path)
    finally:
        clock.offset -= 120
    assert resumed == "ok resumable"
    assert new_session == f"close 1008 {cr.TOKEN_USED_UP.text}"


async def test_the_locked_setup_is_applied(keyed: tuple[LocalServer, WallClock]) -> None:
    """A token that locks `sessionResumption` turns resumption on for a client that did not ask for it; with a
    mask that leaves it out, it stays off."""
    server, _ = keyed
    locked = {"model": "models/gemini-3.8-live", "sessionResumption": {}}
    whole = _mint(server, {"uses": 0, "bidiGenerateContentSetup": locked})["name"]
    masked = _mint(server, {"uses": 0, "bidiGenerateContentSetup": locked, "fieldMask": "model"})["name"]
    whole_outcome = await _outcome(server, CONSTRAINED + "?access_token=" + whole)
    masked_outcome = await _outcome(server, CONSTRAINED + "?access_token=" + masked)
    assert whole_outcome == "ok resumable"
    assert masked_outcome == "ok"


async def test_a_locked_model_overrides_the_clients(keyed: tuple[LocalServer, WallClock]) -> None:
    """The client asks for a model that does not exist; the locked one is used, so the setup completes."""
    server, _ = keyed
    body = {"uses": 0, "bidiGenerateContentSetup": {"model": "models/gemini-3.8-live"}, "fieldMask": "model"}
    name = _mint(server, body)["name"]
    unlocked = _mint(server, {"uses": 0})["name"]
    locked_outcome = await _outcome(server, CONSTRAINED + "?access_token=" + name, model="")
    unlocked_outcome = await _outcome(server, CONSTRAINED + "?access_token=" + unlocked, model="")
    assert locked_outcome == "ok"
    assert unlocked_outcome.startswith("close 1007")


class _Lines(logging.Handler):
    """Keeps every message logged."""

    def __init__(self, level: int) -> None:
        super().__init__(level)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


async def test_the_servers_log_shows_neither_the_key_nor_a_token(keyed: tuple[LocalServer, WallClock]) -> None:
    server, _ = keyed
    logger = server.thread.config.logger
    handler = _Lines(logging.DEBUG)
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        name = _mint(server, {"uses": 1})["name"]
        first = await _outcome(server, CONSTRAINED + "?access_token=" + name)
        used_up = await _outcome(server, CONSTRAINED, {"Authorization": f"Token {name}", "x-goog-api-key": name})
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    log = "\n".join(handler.lines)
    assert first == "ok"
    assert used_up.startswith("close 1008")
    assert "minted ephemeral token auth_tokens/…" in log
    assert KEY not in log
    assert name not in log
    assert name[len("auth_tokens/") :][:12] not in log


async def test_expect_100_continue_is_answered_before_the_body(keyed: tuple[LocalServer, WallClock]) -> None:
    """curl sends `Expect: 100-continue` with bodies over 1 KiB and waits for the go-ahead."""
    server, _ = keyed
    body = json.dumps(
        {
            "uses": 4,
            "bidiGenerateContentSetup": {"model": "m", "systemInstruction": {"parts": [{"text": "x" * 2000}]}},
        }
    )
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(
        f"POST /v1alpha/auth_tokens HTTP/1.1\r\nHost: x\r\nx-goog-api-key: {KEY}\r\nExpect: 100-continue\r\n"
        f"Content-Length: {len(body)}\r\n\r\n".encode()
    )
    go_ahead = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    writer.write(body.encode())
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    assert go_ahead == b"HTTP/1.1 100 Continue\r\n\r\n"
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["uses"] == 4
