"""Google's JSON error body: said in one line by the client (the upgrade, `livecli token`), written by the local
server when it refuses an upgrade the way the service does.

Google answers a refused request (an upgrade refused with 401/403/429, see docs/wire.md, "Authentication"; a
refused `auth_tokens` call) with its standard error body (AIP-193):
`{"error": {"code": 401, "message": "...", "status": "UNAUTHENTICATED"}}`. livecli shows `STATUS: message` from
it; any other body (an HTML page from a proxy, plain text, JSON of another shape) is shown as its text. Either way
the result is one line, bounded, so a hostile or broken server cannot flood the terminal.
"""

from __future__ import annotations

import json

__all__ = ["MAX_SUMMARY_CHARS", "error_body", "error_summary"]

MAX_SUMMARY_CHARS = 300


def error_summary(body: bytes | bytearray | None) -> str:
    """`STATUS: message` of a Google error body (or just the message), else the body's text; one line of at most
    MAX_SUMMARY_CHARS characters ("" for no body)."""
    text = bytes(body).decode("utf-8", "replace") if body else ""
    try:
        error = json.loads(text).get("error")
    except (ValueError, AttributeError):  # not JSON, or JSON that is not an object
        error = None
    if isinstance(error, dict):
        message, status = error.get("message"), error.get("status")
        if isinstance(message, str) and message:
            text = f"{status}: {message}" if isinstance(status, str) and status else message
    return " ".join(text.split())[:MAX_SUMMARY_CHARS].rstrip()


def error_body(code: int, message: str, status: str) -> str:
    """The error body Google sends with an HTTP refusal, e.g. `error_body(401, "API key not valid...",
    "UNAUTHENTICATED")`; error_summary() reads it back as `STATUS: message`."""
    return json.dumps({"error": {"code": code, "message": message, "status": status}})
