"""The service's close codes and reasons, one table (docs/wire.md, "Close codes").

The local server sends these reasons (livecli.server) and the client explains them (livecli.client.hints), so the
wording lives here once. A reason is recognised by its `needle`: a fixed part of it that fits in the 123-byte limit
of a close frame (the service cuts longer reasons), so a cut or a varying prefix (a trace id) still matches.

`text` is the reason exactly as sent; a templated one (`{name}` fields, filled with `str.format`) names what
varies. Reasons marked "local" are the local server's own: the service's wording for that case is not on record.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

from livecli.errors import QUOTA_REASON_PREFIX, TOKEN_USED_UP_REASON

__all__ = [
    "ALL",
    "API_KEY_EXPIRED",
    "API_KEY_INVALID",
    "BAD_IMAGE",
    "CLOSE_REASON_LIMIT",
    "DEADLINE_EXCEEDED",
    "DEADLINE_EXPIRED",
    "GEO_BLOCKED",
    "INTERNAL_ERROR",
    "INVALID_ARGUMENT",
    "INVALID_VALUE",
    "LIFETIME_EXCEEDED",
    "NON_AUDIO",
    "NOT_JSON",
    "NOT_SUPPORTED",
    "NO_VOICE",
    "OVERLOADED",
    "QUOTA",
    "RESOURCE_EXHAUSTED",
    "SESSION_LIMIT",
    "SETUP_TIMEOUT",
    "TOKEN_NO_NEW_SESSIONS",
    "TOKEN_USED_UP",
    "TOOL_CALL_ID",
    "TOOL_RESPONSE_MISMATCH",
    "UNKNOWN_FIELD",
    "UNSUPPORTED_AUDIO",
    "CloseReason",
    "cut_reason",
    "identify",
]

# A close frame's reason is at most 123 bytes of UTF-8 (RFC 6455, 5.5: 125-byte payload minus the 2-byte code).
CLOSE_REASON_LIMIT = 123


def cut_reason(reason: str, limit: int = CLOSE_REASON_LIMIT) -> str:
    """A close reason cut to the close-frame limit, never inside a UTF-8 character (as the service cuts it)."""
    raw = reason.encode("utf-8")
    if len(raw) <= limit:
        return reason
    return raw[:limit].decode("utf-8", "ignore")


@dataclass(frozen=True)
class CloseReason:
    """One close reason: its code, its wording (`text`, maybe a template) and what identifies it (`needle`)."""

    code: int
    text: str
    needle: str = ""

    @property
    def match(self) -> str:
        """The substring that identifies this reason in a received close reason."""
        return self.needle or self.text

    def fields(self) -> tuple[str, ...]:
        """The names of the template's fields (empty for a fixed reason)."""
        return tuple(name for _, name, _, _ in string.Formatter().parse(self.text) if name)

    def format(self, **values: str) -> str:
        """The reason as sent, its fields filled in (KeyError if one is missing), cut to the close-frame limit."""
        return cut_reason(self.text.format(**values))


# --- 1007: the request is invalid -------------------------------------------------------------------------------
UNKNOWN_FIELD = CloseReason(
    1007,
    'Invalid JSON payload received. Unknown name "{name}"{where}: Cannot find field.',
    needle="Cannot find field",
)
NO_VOICE = CloseReason(1007, "No matching speaker voice found")
NON_AUDIO = CloseReason(1007, "Cannot extract voices from a non-audio request", needle="non-audio request")
GEO_BLOCKED = CloseReason(
    1007, "User location is not supported for the API use.", needle="User location is not supported"
)
API_KEY_EXPIRED = CloseReason(1007, "API key expired. Please renew the API key.", needle="API key expired")
API_KEY_INVALID = CloseReason(1007, "API key not valid. Please pass a valid API key.", needle="API key not valid")
# Protobuf JSON's own refusal of a value of the wrong type ("(TYPE_INT32)" names the expected type).
INVALID_VALUE = CloseReason(
    1007,
    "Invalid JSON payload received. Invalid value at '{path}'{kind}, {value}",
    needle="Invalid JSON payload received. Invalid value at",
)
NOT_JSON = CloseReason(1007, "Invalid JSON payload received. Unexpected token.", needle="Unexpected token")
# local: the local server hears raw PCM only, and checks tool responses against its scenario.
UNSUPPORTED_AUDIO = CloseReason(
    1007,
    "Unsupported audio mime type {mime}: the local server takes audio/pcm",
    needle="Unsupported audio mime type",
)
# local: a video frame must be a JPEG or PNG that decodes, declared as what it is (docs/wire.md, "Video frames").
BAD_IMAGE = CloseReason(1007, "Invalid image at '{path}' ({mime}): {why}", needle="Invalid image at '")
# local: every toolResponse id must answer a pending function call, once (docs/wire.md, "Tool calls").
TOOL_CALL_ID = CloseReason(1007, "toolResponse id {id}: {why}", needle="toolResponse id ")
# The needle precedes the name, so that a long name cut at 123 bytes leaves it whole.
TOOL_RESPONSE_MISMATCH = CloseReason(
    1007, "toolResponse for {name} does not match the scenario", needle="toolResponse for "
)

# --- 1008: refused by policy, or the connection's time is up ----------------------------------------------------
NOT_SUPPORTED = CloseReason(
    1008, "Operation is not implemented, or supported, or enabled.", needle="Operation is not implemented"
)
# local: the service closes an expired connection with 1008 after goAway; its reason is not on record.
LIFETIME_EXCEEDED = CloseReason(1008, "Connection lifetime exceeded.")
SESSION_LIMIT = CloseReason(1008, "Session duration limit exceeded.")
# An ephemeral token asked for one new session too many (resuming is not a use). The wording is the service's as
# reported (with code 1011, for a resumption it should have allowed); the code is the local server's choice
# (docs/wire.md, "Ephemeral tokens on the local server").
TOKEN_USED_UP = CloseReason(1008, TOKEN_USED_UP_REASON)
# local: a new session after the token's newSessionExpireTime.
TOKEN_NO_NEW_SESSIONS = CloseReason(1008, "Token can no longer start new sessions (newSessionExpireTime passed).")

# --- 1011: the server failed, ran out of time, or of quota ------------------------------------------------------
QUOTA = CloseReason(
    1011,
    cut_reason(
        QUOTA_REASON_PREFIX + ", please check your plan and billing details. For more information on this "
        "error, head to: https://ai.google.dev/gemini-api/docs/rate-limits"
    ),
    needle=QUOTA_REASON_PREFIX,
)
# The service's wording is not on record: any reason naming the gRPC status.
RESOURCE_EXHAUSTED = CloseReason(1011, "RESOURCE_EXHAUSTED")
# local: no setup within the server's setup timeout (before DEADLINE_EXCEEDED, whose needle it contains).
SETUP_TIMEOUT = CloseReason(
    1011,
    "RPC::DEADLINE_EXCEEDED: no setup message received in time",
    needle="no setup message received in time",
)
DEADLINE_EXCEEDED = CloseReason(
    1011, "Request trace id: {trace}, [ORIGINAL ERROR] RPC::DEADLINE_EXCEEDED: ", needle="DEADLINE_EXCEEDED"
)
DEADLINE_EXPIRED = CloseReason(1011, "Deadline expired")
# Also seen as "Internal error occurred.".
INTERNAL_ERROR = CloseReason(1011, "Internal error encountered.", needle="Internal error")
OVERLOADED = CloseReason(1011, "The service is currently unavailable.")

# The generic refusal comes last: other reasons are more specific.
INVALID_ARGUMENT = CloseReason(
    1007, "Request contains an invalid argument.", needle="Request contains an invalid argument"
)

# In matching order: the first whose needle is in a received reason names it (specific before general).
ALL: tuple[CloseReason, ...] = (
    UNKNOWN_FIELD,
    NO_VOICE,
    NON_AUDIO,
    GEO_BLOCKED,
    API_KEY_EXPIRED,
    API_KEY_INVALID,
    QUOTA,
    RESOURCE_EXHAUSTED,
    SETUP_TIMEOUT,
    DEADLINE_EXCEEDED,
    DEADLINE_EXPIRED,
    NOT_SUPPORTED,
    INVALID_VALUE,
    NOT_JSON,
    UNSUPPORTED_AUDIO,
    BAD_IMAGE,
    TOOL_CALL_ID,
    TOOL_RESPONSE_MISMATCH,
    LIFETIME_EXCEEDED,
    SESSION_LIMIT,
    TOKEN_USED_UP,
    TOKEN_NO_NEW_SESSIONS,
    INTERNAL_ERROR,
    OVERLOADED,
    INVALID_ARGUMENT,
)


def identify(reason: str) -> CloseReason | None:
    """The table's entry for a received close reason (matched on its needle, whatever the code), or None."""
    for known in ALL:
        if known.match in reason:
            return known
    return None
