"""Auth at upgrade as the service does it: HTTP 401 without credentials, close 1007 for a wrong API key."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from helpers import LocalServer, local_server
from websockets.exceptions import InvalidStatus

from livecli.protocol.close_reasons import API_KEY_INVALID
from livecli.protocol.endpoints import EPHEMERAL_VERSION, gemini_path, vertex_path
from livecli.server.probe import GEMINI_PATH, Probe

CONSTRAINED = gemini_path(EPHEMERAL_VERSION, constrained=True)
VERTEX = vertex_path("v1beta1")


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with local_server(require_key="KEY1", require_bearer="BEARER1", require_ephemeral="auth_tokens/t1") as server:
        yield server


async def _outcome(server: LocalServer, path: str, headers: dict[str, str] | None = None) -> str:
    """'ok', 'http <status>' or 'close <code> <reason>'."""
    try:
        probe = await Probe.open(server.url, path, headers=headers)
    except InvalidStatus as exc:
        return f"http {exc.response.status_code}"
    await probe.send({"setup": {"model": "models/gemini-3.8-live"}})
    try:
        message = await probe.recv()
    except Exception:
        code, reason = await probe.closed()
        return f"close {code} {reason}"
    await probe.close()
    return "ok" if "setupComplete" in message else "unexpected"


@pytest.mark.parametrize(
    ("path", "headers", "expected"),
    [
        (GEMINI_PATH, {"x-goog-api-key": "KEY1"}, "ok"),
        (GEMINI_PATH + "?key=KEY1", None, "ok"),
        ("/" + GEMINI_PATH + "?key=KEY1", None, "ok"),
        (VERTEX, {"Authorization": "Bearer BEARER1"}, "ok"),
        (CONSTRAINED + "?access_token=auth_tokens/t1", None, "ok"),
        (CONSTRAINED, {"Authorization": "Token auth_tokens/t1", "x-goog-api-key": "auth_tokens/t1"}, "ok"),
        (GEMINI_PATH, None, "http 401"),
        (GEMINI_PATH, {"x-goog-api-key": "WRONG"}, f"close 1007 {API_KEY_INVALID.text}"),
        (GEMINI_PATH + "?key=WRONG", None, f"close 1007 {API_KEY_INVALID.text}"),
        (VERTEX, {"Authorization": "Bearer WRONG"}, "http 401"),
        (CONSTRAINED + "?access_token=auth_tokens/nope", None, "http 401"),
        (
            CONSTRAINED,
            {"Authorization": "Token auth_tokens/x", "x-goog-api-key": "auth_tokens/x"},
            f"close 1007 {API_KEY_INVALID.text}",
        ),
        (GEMINI_PATH, {"Authorization": "Token auth_tokens/t1"}, "http 401"),  # ephemeral only on Constrained
    ],
)
async def test_credentials(server: LocalServer, path: str, headers: dict[str, str] | None, expected: str) -> None:
    assert await _outcome(server, path, headers) == expected


async def test_no_requirement_accepts_anything_and_unknown_scenario_is_400() -> None:
    with local_server() as open_server:
        assert await _outcome(open_server, GEMINI_PATH) == "ok"
        assert await _outcome(open_server, GEMINI_PATH + "?key=whatever") == "ok"
        assert await _outcome(open_server, GEMINI_PATH + "?scenario=nope") == "http 400"
