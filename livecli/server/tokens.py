"""Ephemeral tokens, sans I/O: minting them (`POST /v1alpha/auth_tokens`) and admitting the sessions they open.

What the service documents (docs/wire.md, "Ephemeral tokens"): a token allows `uses` new sessions (0 = no limit;
resuming a session is not a use) until `newSessionExpireTime`, and messages until `expireTime`; both default to
30 min and 60 s ahead and must be less than 20 h ahead. `bidiGenerateContentSetup` locks a setup: the paths in
`fieldMask` (camelCase, comma-separated), or without a mask every field the locked setup sets.

livecli's choices where the public record is silent (docs/wire.md, "Ephemeral tokens on the local server"):
- a locked path overrides the client's value, whatever the client sent (a locked path the locked setup leaves
  unset removes the client's value); the client's resumption handle is always kept (it names a session, it is
  not configuration);
- a token past `expireTime` is refused at the upgrade with HTTP 401; a new session past `newSessionExpireTime`
  or beyond `uses` is refused after the setup with close 1008 (TOKEN_USED_UP / TOKEN_NO_NEW_SESSIONS);
  resumption stays allowed until `expireTime`, also with `uses: 1`;
- an open session is not cut at `expireTime`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from livecli.protocol import close_reasons as cr
from livecli.protocol.wire import camel
from livecli.server.validate import Refusal, parse_client_frame

__all__ = [
    "MAX_LIFETIME_S",
    "TOKEN_PREFIX",
    "Grant",
    "IssuedToken",
    "RestError",
    "TokenStore",
    "apply_lock",
    "format_time",
    "parse_time",
]

TOKEN_PREFIX = "auth_tokens/"
MAX_LIFETIME_S = 20 * 3600.0
DEFAULT_EXPIRE_S = 30 * 60.0
DEFAULT_NEW_SESSION_S = 60.0
# Minted tokens kept at most (the oldest are forgotten first), so a loop minting tokens cannot grow the server.
MAX_TOKENS = 100_000
_BODY_FIELDS = frozenset({"uses", "expireTime", "newSessionExpireTime", "bidiGenerateContentSetup", "fieldMask"})
_FRACTION = re.compile(r"(\.\d{1,6})\d*")  # RFC 3339 allows nanoseconds; datetime keeps microseconds


class RestError(Exception):
    """A refused REST call: the HTTP status, Google's status name and the message of its error body."""

    def __init__(self, http_status: int, status: str, message: str) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.status = status
        self.message = message


def _bad(message: str) -> RestError:
    return RestError(400, "INVALID_ARGUMENT", message)


def parse_time(value: object, field: str) -> float:
    """An RFC 3339 timestamp (`2026-12-03T10:00:00Z`, an offset, or fractional seconds) → POSIX seconds."""
    if not isinstance(value, str):
        raise _bad(f"Invalid value at '{field}' (type.googleapis.com/google.protobuf.Timestamp), {value!r}")
    text = _FRACTION.sub(r"\1", value.strip())
    try:
        moment = dt.datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise _bad(
            f"Invalid value at '{field}' (type.googleapis.com/google.protobuf.Timestamp), {value!r}"
        ) from None
    if moment.tzinfo is None:
        raise _bad(f"Invalid value at '{field}': a timestamp needs a time zone (Z or an offset)")
    return moment.timestamp()


def format_time(posix_s: float) -> str:
    """POSIX seconds → RFC 3339 in UTC with a `Z`, as Google writes timestamps."""
    moment = dt.datetime.fromtimestamp(posix_s, dt.UTC)
    return moment.isoformat(timespec="microseconds" if moment.microsecond else "seconds").replace("+00:00", "Z")


def _mask_paths(mask: object) -> tuple[tuple[str, ...], ...]:
    if not isinstance(mask, str):
        raise _bad(f"Invalid value at 'field_mask' (type.googleapis.com/google.protobuf.FieldMask), {mask!r}")
    paths = []
    for raw in mask.split(","):
        parts = tuple(camel(part.strip()) for part in raw.strip().split("."))
        if not all(parts):
            raise _bad(f"Invalid field mask path {raw.strip()!r}")
        paths.append(parts)
    return tuple(paths)


def apply_lock(
    client: Mapping[str, Any], locked: Mapping[str, Any], paths: tuple[tuple[str, ...], ...] | None
) -> dict[str, Any]:
    """The effective setup: `client`'s, with every locked path taken from `locked` (None: all its top-level
    fields). Both setups are camelCase (as parse_client_frame returns them); neither is changed."""
    effective: dict[str, Any] = json.loads(json.dumps(client))
    handle = (client.get("sessionResumption") or {}).get("handle")
    for path in paths if paths is not None else tuple((name,) for name in locked):
        source: Any = locked
        for part in path:
            source = source.get(part) if isinstance(source, Mapping) else None
        target = effective
        for part in path[:-1]:
            child = target.get(part)
            if not isinstance(child, dict):
                child = target[part] = {}
            target = child
        if source is None:
            target.pop(path[-1], None)
        else:
            target[path[-1]] = json.loads(json.dumps(source))
    if handle is not None:  # a handle names the session to resume; a lock cannot take it away
        effective.setdefault("sessionResumption", {})["handle"] = handle
    return effective


@dataclass
class IssuedToken:
    """One minted token and what is left of it."""

    name: str
    uses: int  # 0 = no limit
    expire_at: float  # POSIX seconds
    new_session_until: float
    locked: dict[str, Any] | None = None
    paths: tuple[tuple[str, ...], ...] | None = None
    sessions: int = 0

    def response(self) -> dict[str, Any]:
        """The auth_tokens answer: the token's name and its terms (docs/wire.md, "Ephemeral tokens")."""
        answer: dict[str, Any] = {
            "name": self.name,
            "expireTime": format_time(self.expire_at),
            "newSessionExpireTime": format_time(self.new_session_until),
            "uses": self.uses,
        }
        if self.locked is not None:
            answer["bidiGenerateContentSetup"] = self.locked
            if self.paths is not None:
                answer["fieldMask"] = ",".join(".".join(path) for path in self.paths)
        return answer

    def expired(self, now: float) -> bool:
        """Whether the token is past its expireTime."""
        return now >= self.expire_at

    def effective_setup(self, client: Mapping[str, Any]) -> dict[str, Any]:
        """The client's setup under this token's lock."""
        if self.locked is None:
            return dict(client)
        return apply_lock(client, self.locked, self.paths)

    def start_session(self, now: float) -> None:
        """Count a new (not resumed) session, or raise the Refusal the session is closed with."""
        if self.uses and self.sessions >= self.uses:
            raise Refusal.of(cr.TOKEN_USED_UP)
        if now >= self.new_session_until or self.expired(now):
            raise Refusal.of(cr.TOKEN_NO_NEW_SESSIONS)
        self.sessions += 1


@dataclass(frozen=True)
class Grant:
    """One connection's minted token, with the server's wall clock: what the session asks at its setup."""

    token: IssuedToken
    wall_clock: Callable[[], float]

    def effective_setup(self, client: Mapping[str, Any]) -> dict[str, Any]:
        """The client's setup under the token's lock."""
        return self.token.effective_setup(client)

    def start_session(self) -> None:
        """Count a new session now, or raise the Refusal the session is closed with."""
        self.token.start_session(self.wall_clock())


class TokenStore:
    """The tokens one server minted, by name; `wall_clock` is POSIX time (tests inject a fake one)."""

    def __init__(self, wall_clock: Callable[[], float], max_tokens: int = MAX_TOKENS) -> None:
        self.wall_clock = wall_clock
        self.max_tokens = max_tokens
        self._tokens: dict[str, IssuedToken] = {}

    def get(self, name: str | None) -> IssuedToken | None:
        """The minted token of that name, or None."""
        return self._tokens.get(name) if name else None

    def mint(self, body: object) -> IssuedToken:
        """Mint a token from an auth_tokens request body, or raise RestError(400) as the service refuses."""
        if not isinstance(body, dict):
            raise _bad("Invalid JSON payload received. Expected an object.")
        for name in body:
            if camel(name) not in _BODY_FIELDS:
                raise _bad(f'Invalid JSON payload received. Unknown name "{name}": Cannot find field.')
        fields = {camel(name): value for name, value in body.items()}
        now = self.wall_clock()
        uses = fields.get("uses", 1)
        if isinstance(uses, str) and uses.strip().isdigit():
            uses = int(uses)  # protobuf JSON takes integers as strings too
        if isinstance(uses, bool) or not isinstance(uses, int) or not 0 <= uses < 2**31:
            raise _bad(f"Invalid value at 'uses' (TYPE_INT32), {uses!r}")
        expire_at = self._deadline(fields, "expireTime", now, DEFAULT_EXPIRE_S)
        new_session_until = self._deadline(fields, "newSessionExpireTime", now, DEFAULT_NEW_SESSION_S)
        locked = self._locked_setup(fields.get("bidiGenerateContentSetup"))
        paths = _mask_paths(fields["fieldMask"]) if fields.get("fieldMask") else None
        if paths is not None and locked is None:
            raise _bad("field_mask needs bidi_generate_content_setup")
        token = IssuedToken(
            TOKEN_PREFIX + secrets.token_urlsafe(32), uses, expire_at, new_session_until, locked, paths
        )
        if len(self._tokens) >= self.max_tokens:
            del self._tokens[next(iter(self._tokens))]
        self._tokens[token.name] = token
        return token

    @staticmethod
    def _deadline(fields: Mapping[str, Any], name: str, now: float, default_s: float) -> float:
        if name not in fields:
            return now + default_s
        moment = parse_time(fields[name], name)
        if not now < moment < now + MAX_LIFETIME_S:
            raise _bad(f"{name} must be in the future and less than 20 hours from now")
        return moment

    @staticmethod
    def _locked_setup(setup: object) -> dict[str, Any] | None:
        """The setup to lock, checked against the setup schema and camelCased (unknown fields are refused)."""
        if setup is None:
            return None
        try:
            _kind, body = parse_client_frame(json.dumps({"setup": setup}))
        except Refusal as refusal:
            raise _bad(refusal.reason.replace("'setup", "'bidi_generate_content_setup", 1)) from None
        except (TypeError, ValueError):
            raise _bad("Invalid value at 'bidi_generate_content_setup'") from None
        return body
