"""The upgrade decision, sans I/O: which paths exist, which credentials pass, which scenario applies.

Paths: the Gemini API's BidiGenerateContent for each of its versions, BidiGenerateContentConstrained (ephemeral
tokens) on its one version, Vertex AI's for each of its versions, as livecli.protocol.endpoints spells them
(docs/wire.md, "Endpoints"); a leading `//` as the SDKs send it is accepted, anything else is HTTP 404.

Credentials, when the server requires any (`--require-key/--require-bearer/--require-ephemeral`): an API key as
`x-goog-api-key` or `?key=`; a bearer token as `Authorization: Bearer` (or `?access_token=` off the Constrained
path); an ephemeral token on the Constrained path as `?access_token=`, `Authorization: Token` or
`x-goog-api-key` (the SDK sends both headers). No credential at all → HTTP 401 at upgrade; a wrong API key (or
token sent as one) → the upgrade succeeds and the setup is answered with close 1007 "API key not valid. ..."
(docs/wire.md, "Close codes"); a wrong bearer or access token → HTTP 401.

A token this server minted (livecli.server.tokens) opens the Constrained path whatever is required, until its
expireTime; past it, the upgrade is refused with HTTP 401 (docs/wire.md, "Ephemeral tokens on the local server").
Its uses and its locked setup are applied by the session, at the setup.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, replace
from urllib.parse import parse_qs

from livecli.protocol import close_reasons as cr
from livecli.protocol.endpoints import (
    EPHEMERAL_VERSION,
    GEMINI_VERSIONS,
    VERTEX_VERSIONS,
    gemini_path,
    vertex_path,
)
from livecli.protocol.google_errors import error_body
from livecli.server.config import ServerConfig
from livecli.server.scenarios import BUILTIN, CloseSpec, Scenario
from livecli.server.tokens import TOKEN_PREFIX, Grant, IssuedToken, TokenStore

__all__ = ["Decision", "decide", "same_secret"]
# Every path the server answers on → whether it is the Constrained (ephemeral token) one.
_PATHS: dict[str, bool] = {
    **{gemini_path(version): False for version in GEMINI_VERSIONS},
    gemini_path(EPHEMERAL_VERSION, constrained=True): True,
    **{vertex_path(version): False for version in VERTEX_VERSIONS},
}
_VERTEX_PATHS = frozenset(vertex_path(version) for version in VERTEX_VERSIONS)


def same_secret(offered: str | None, required: str | None) -> bool:
    """Whether a credential offered equals the one required, compared in constant time (hmac.compare_digest):
    how long a wrong key takes to refuse tells nothing of how much of it was right."""
    if not offered or not required:
        return False
    return hmac.compare_digest(
        offered.encode("utf-8", "surrogateescape"), required.encode("utf-8", "surrogateescape")
    )


def _bare_path(target: str) -> str:
    """The path of a request target, without its query and with the SDKs' leading `//` made one."""
    path = target.partition("?")[0]  # not urlsplit: it reads `//ws/...` as a host name
    return path[1:] if path.startswith("//") else path


def on_vertex(target: str) -> bool:
    """Whether an upgrade came on a Vertex AI path (transparent resumption exists only there)."""
    return _bare_path(target) in _VERTEX_PATHS


@dataclass(frozen=True)
class Decision:
    """Refuse the upgrade with `status` (and `body`), or accept it and run `scenario` (under `grant`, when the
    credential is a token this server minted)."""

    status: int | None = None
    body: str = ""
    scenario: Scenario | None = None
    grant: Grant | None = None


def _error(status: int, message: str, code: str) -> Decision:
    return Decision(status, error_body(status, message, code))


def decide(
    target: str,
    headers: Mapping[str, str],
    config: ServerConfig,
    server_scenario: Scenario,
    tokens: TokenStore | None = None,
) -> Decision:
    """Decide on one upgrade request (`target` is the request path with its query)."""
    raw_query = target.partition("?")[2]
    constrained = _PATHS.get(_bare_path(target))
    if constrained is None:
        return Decision(404, "Not Found")
    query = {k: v[-1] for k, v in parse_qs(raw_query).items()}
    scenario = server_scenario
    if "scenario" in query:
        name = query["scenario"]
        if name == server_scenario.name:
            scenario = server_scenario
        elif name in BUILTIN:
            scenario = BUILTIN[name]
        else:
            return Decision(400, f"unknown scenario {name!r}")
    if scenario.upgrade_status is not None:
        return Decision(scenario.upgrade_status, scenario.upgrade_body)
    minted = _minted_token(query, headers, tokens) if constrained else None
    if minted is not None and tokens is not None:
        if minted.expired(tokens.wall_clock()):
            return _error(401, "The ephemeral token has expired (expireTime passed).", "UNAUTHENTICATED")
        return Decision(scenario=scenario, grant=Grant(minted, tokens.wall_clock))
    verdict = _check_credentials(query, headers, config, constrained=constrained)
    if verdict == "ok":
        return Decision(scenario=scenario)
    if verdict == "bad-key":
        return Decision(scenario=replace(scenario, setup_close=CloseSpec.of(cr.API_KEY_INVALID)))
    return _error(
        401,
        "Request is missing required authentication credential. Expected OAuth 2 access token, "
        "login cookie or other valid authentication credential.",
        "UNAUTHENTICATED",
    )


def _minted_token(
    query: Mapping[str, str], headers: Mapping[str, str], tokens: TokenStore | None
) -> IssuedToken | None:
    """The minted token offered as `?access_token=`, `Authorization: Token` or `x-goog-api-key`, if any."""
    if tokens is None:
        return None
    scheme, _, credential = headers.get("authorization", "").partition(" ")
    offered = (
        query.get("access_token"),
        credential.strip() if scheme.lower() == "token" else None,
        headers.get("x-goog-api-key"),
    )
    for value in offered:
        if value and value.startswith(TOKEN_PREFIX) and (token := tokens.get(value)) is not None:
            return token
    return None


def _check_credentials(
    query: Mapping[str, str], headers: Mapping[str, str], config: ServerConfig, *, constrained: bool
) -> str:
    """'ok', 'bad-key' (close 1007 after setup) or 'refuse' (HTTP 401)."""
    if not (config.require_key or config.require_bearer or config.require_ephemeral):
        return "ok"
    api_key = headers.get("x-goog-api-key") or query.get("key")
    authorization = headers.get("authorization", "")
    scheme, _, credential = authorization.partition(" ")
    bearer = credential.strip() if scheme.lower() == "bearer" else None
    token = credential.strip() if scheme.lower() == "token" else None
    access_token = query.get("access_token")
    offered: list[tuple[str, str | None]] = [("key", api_key)]
    if constrained:
        offered += [("ephemeral", access_token), ("ephemeral", token), ("ephemeral", api_key)]
    else:
        offered += [("bearer", bearer), ("bearer", access_token)]
    required = {"key": config.require_key, "bearer": config.require_bearer, "ephemeral": config.require_ephemeral}
    if any(same_secret(value, required[kind]) for kind, value in offered):
        return "ok"
    if api_key:
        return "bad-key"
    return "refuse"
