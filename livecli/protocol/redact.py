"""Keep secrets out of everything livecli prints: `redact` for text, `mask` for showing which secret is used,
`printable` for text a server wrote (its control characters could drive the terminal)."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote

__all__ = ["MASK", "mask", "printable", "redact", "redact_url"]

MASK = "***"
# Secrets shorter than this are not redacted inside text: replacing e.g. "a" everywhere would garble output
# without protecting anything real (real keys and tokens are far longer).
_MIN_SECRET = 6


def mask(secret: str | None) -> str:
    """Show which secret this is without revealing it: its first 4 characters (at most) and its length."""
    if not secret:
        return "(none)"
    if secret.startswith("auth_tokens/"):
        return f"auth_tokens/…({len(secret)} chars)"
    shown = secret[:4] if len(secret) >= 16 else ""
    return f"{shown}…({len(secret)} chars)"


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace every occurrence of each secret (also URL-encoded) in `text` by ***."""
    variants: set[str] = set()
    for secret in secrets:
        if secret and len(secret) >= _MIN_SECRET:
            variants.update({secret, quote(secret, safe=""), quote(secret, safe="/")})
    # Longest first, so a secret that contains another is replaced whole.
    ordered = sorted(variants, key=len, reverse=True)
    # Repeat until none is left: a replacement can join its surroundings into a new occurrence. Ends because
    # every replacement shortens the text (secrets are longer than the mask).
    while any(variant in text for variant in ordered):
        for variant in ordered:
            text = text.replace(variant, MASK)
    return text


def redact_url(url: str, secrets: Iterable[str]) -> str:
    """A URL with its secrets, and any key/access_token query value, replaced by ***."""
    from urllib.parse import parse_qsl, urlsplit, urlunsplit

    url = redact(url, secrets)
    parts = urlsplit(url)
    if not parts.query:
        return url
    query = "&".join(
        f"{name}={MASK if name.lower() in ('key', 'access_token', 'token') else quote(value, safe='/*')}"
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
    )
    return urlunsplit(parts._replace(query=query))


def printable(text: str, *, keep_newlines: bool = False) -> str:
    """`text` with every non-printable character (ESC, C1 controls, bidi overrides, newlines) shown escaped."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or (keep_newlines and ch == "\n") else repr(ch)[1:-1] for ch in text)
