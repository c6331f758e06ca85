"""One-line hints for the service's close reasons (docs/wire.md, "Close codes").

The reasons themselves are the table in livecli.protocol.close_reasons, which the local server sends from too;
every reason in it has its hint here (tests/client/test_hints.py checks both ways). The reason is always shown
verbatim; the hint only follows it.
"""

from __future__ import annotations

from collections.abc import Mapping

from livecli.errors import LivecliError, ServerClosed
from livecli.protocol import close_reasons as cr

__all__ = ["HINTS", "close_hint", "with_hint"]

_SETUP_SHOWN = "`--dry-run` shows the exact setup sent"

HINTS: Mapping[cr.CloseReason, str] = {
    cr.UNKNOWN_FIELD: "the setup has a field this server does not know (misplaced, or too new for this model or "
    "--api-version); `--dry-run` shows the exact setup",
    cr.NO_VOICE: "this model has no such voice: pick another --voice (or drop it)",
    cr.NON_AUDIO: "this native-audio model answers only in AUDIO: drop --modality text (the reply is transcribed)",
    cr.GEO_BLOCKED: "the API is not offered where this request comes from (geo block)",
    cr.API_KEY_EXPIRED: "renew the API key (--api-key / GEMINI_API_KEY)",
    cr.API_KEY_INVALID: "the API key is not valid: check --api-key / GEMINI_API_KEY",
    cr.QUOTA: "quota exhausted: check the plan and billing, or wait before retrying",
    cr.RESOURCE_EXHAUSTED: "quota or concurrent-session limit reached: close other sessions or wait",
    cr.SETUP_TIMEOUT: "the server received no setup in time after the connection opened",
    cr.DEADLINE_EXCEEDED: "the server's deadline ran out (long reply or long connection): try shorter inputs",
    cr.DEADLINE_EXPIRED: "the connection outlived its deadline: a goAway came too late or was ignored",
    cr.NOT_SUPPORTED: "this model or feature is not available on this backend: check --model against the backend",
    cr.INVALID_VALUE: f"the server refused a value of the wrong type; {_SETUP_SHOWN}",
    cr.NOT_JSON: "the server could not parse a frame as JSON (a client bug: please report it)",
    cr.UNSUPPORTED_AUDIO: "the local server hears raw 16-bit PCM only (audio/pcm;rate=N)",
    cr.BAD_IMAGE: "the local server takes video frames that are JPEG or PNG, decode, and say so in mimeType",
    cr.TOOL_CALL_ID: "each toolResponse id must answer one pending toolCall id, once",
    cr.TOOL_RESPONSE_MISMATCH: "the toolResponse lacks what the scenario's `expect` asks for",
    cr.LIFETIME_EXCEEDED: "the connection reached its time limit: keep --resume on to carry on after a goAway",
    cr.SESSION_LIMIT: "the session reached its duration limit: use shorter inputs",
    cr.TOKEN_USED_UP: "the ephemeral token has no new sessions left: mint another (`livecli token`, --uses N)",
    cr.TOKEN_NO_NEW_SESSIONS: "the ephemeral token's window for new sessions closed: mint another (`livecli "
    "token --new-session-expires ...`)",
    cr.INTERNAL_ERROR: "a fault on the server's side, often passing: try again",
    cr.OVERLOADED: "the service is overloaded: wait and try again",
    cr.INVALID_ARGUMENT: f"the server refused a setup field or value; {_SETUP_SHOWN}",
}
_CLIENT_CONTENT_HINT = (
    "gemini-3.1 models take clientContent only as initial history: drop --client-content "
    "(text is then sent as realtimeInput.text)"
)


def close_hint(code: int, reason: str, *, client_content: bool = False) -> str | None:
    """The hint for a close reason (any code: the reason's wording identifies it), or None when it is unknown."""
    known = cr.identify(reason)
    if known is None:
        return None
    if known is cr.INVALID_ARGUMENT and client_content:
        return _CLIENT_CONTENT_HINT
    return HINTS[known]


def with_hint(exc: LivecliError, *, client_content: bool = False) -> None:
    """Append the hint to a close error's message (the verbatim reason stays first and intact)."""
    if not isinstance(exc, ServerClosed) or "(hint: " in str(exc):
        return
    hint = close_hint(exc.code, exc.reason, client_content=client_content)
    if hint is not None:
        exc.args = (f"{exc} (hint: {hint})",)
