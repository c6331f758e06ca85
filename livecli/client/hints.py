"""One-line hints for close reasons whose cause is known (protocol.md §5, peers.md §B4).

The reason itself is always shown verbatim; the hint only follows it. Reasons are cut at 123 bytes by the
WebSocket close frame, so matching is on substrings that fit in that limit.
"""

from __future__ import annotations

from livecli.errors import QUOTA_REASON_PREFIX, LivecliError, ServerClosed

__all__ = ["close_hint", "with_hint"]

# (substring of the reason, hint) — the first match wins.
_HINTS: tuple[tuple[str, str], ...] = (
    (
        "Cannot find field",
        "the setup has a field this server does not know (misplaced, or too new for this model or "
        "--api-version); `--dry-run` shows the exact setup",
    ),
    ("No matching speaker voice", "this model has no such voice: pick another --voice (or drop it)"),
    (
        "non-audio request",
        "this native-audio model answers only in AUDIO: drop --modality text (the reply is transcribed)",
    ),
    ("User location is not supported", "the API is not offered where this request comes from (geo block)"),
    ("API key expired", "renew the API key (--api-key / GEMINI_API_KEY)"),
    ("API key not valid", "the API key is not valid: check --api-key / GEMINI_API_KEY"),
    (QUOTA_REASON_PREFIX, "quota exhausted: check the plan and billing, or wait before retrying"),
    ("RESOURCE_EXHAUSTED", "quota or concurrent-session limit reached: close other sessions or wait"),
    (
        "DEADLINE_EXCEEDED",
        "the server's deadline ran out (long reply or long connection): try shorter inputs",
    ),
    ("Deadline expired", "the connection outlived its deadline: a goAway came too late or was ignored"),
    (
        "Operation is not implemented",
        "this model or feature is not available on this backend: check --model against the backend",
    ),
)
_INVALID_ARGUMENT = "Request contains an invalid argument"
_CLIENT_CONTENT_HINT = (
    "gemini-3.1 models take clientContent only as initial history: drop --client-content "
    "(text is then sent as realtimeInput.text)"
)
_INVALID_HINT = "the server refused a setup field or value; `--dry-run` shows the exact setup sent"


def close_hint(code: int, reason: str, *, client_content: bool = False) -> str | None:
    """The hint for a close reason, or None when its cause is not known."""
    for needle, hint in _HINTS:
        if needle in reason:
            return hint
    if _INVALID_ARGUMENT in reason:
        return _CLIENT_CONTENT_HINT if client_content else _INVALID_HINT
    return None


def with_hint(exc: LivecliError, *, client_content: bool = False) -> None:
    """Append the hint to a close error's message (the verbatim reason stays first and intact)."""
    if not isinstance(exc, ServerClosed) or "(hint: " in str(exc):
        return
    hint = close_hint(exc.code, exc.reason, client_content=client_content)
    if hint is not None:
        exc.args = (f"{exc} (hint: {hint})",)
