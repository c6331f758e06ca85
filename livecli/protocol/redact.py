"""Keep secrets out of everything livecli prints: `redact` for text, `mask` for showing which secret is used,
`printable` for text a server wrote (its control characters could drive the terminal).

`Redactor` is the one place where text that came from a server loses the secrets it quotes: the client's
transport builds one from the target's secrets and passes every frame, close reason and upgrade refusal through
it before anything (session, renderers, errors) sees them (docs/wire.md, "Connection").
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from livecli.errors import LivecliError, ServerClosed

__all__ = ["MASK", "Redactor", "mask", "printable", "redact", "redact_url"]

MASK = "***"
# Secrets shorter than this are not redacted inside text: replacing e.g. "a" everywhere would garble output
# without protecting anything real (real keys and tokens are far longer).
_MIN_SECRET = 6
# A JSON escape may spell a secret's characters without the secret appearing verbatim in the frame (`\uXXXX` for
# any character, `\/` for the slash of `auth_tokens/…`): a frame with a backslash is decoded to be searched. Audio
# frames (base64) have none, so the hot path is one search for it and one per secret.
_ESCAPE = "\\"


def mask(secret: str | None) -> str:
    """Show which secret this is without revealing it: its first 4 characters (at most) and its length."""
    if not secret:
        return "(none)"
    if secret.startswith("auth_tokens/"):
        return f"auth_tokens/…({len(secret)} chars)"
    shown = secret[:4] if len(secret) >= 16 else ""
    return f"{shown}…({len(secret)} chars)"


class Redactor:
    """Replaces every secret (also URL-encoded) by *** in text, in server frames and in errors."""

    def __init__(self, secrets: Iterable[str]) -> None:
        variants: set[str] = set()
        for secret in secrets:
            if secret and len(secret) >= _MIN_SECRET:
                variants.update({secret, quote(secret, safe=""), quote(secret, safe="/")})
        # Longest first, so a secret that contains another is replaced whole.
        self._text = sorted(variants, key=len, reverse=True)
        self._bytes = [variant.encode() for variant in self._text]

    def __bool__(self) -> bool:
        return bool(self._text)

    def text(self, text: str) -> str:
        """`text` with every secret replaced by ***."""
        # Repeat until none is left: a replacement can join its surroundings into a new occurrence. Ends because
        # every replacement shortens the text (secrets are longer than the mask).
        while any(variant in text for variant in self._text):
            for variant in self._text:
                text = text.replace(variant, MASK)
        return text

    def frame(self, frame: str | bytes) -> str | bytes:
        """A server frame with every secret replaced, also one spelled with JSON escapes (then re-encoded).

        The hot path (audio frames: no secret, no escape) only searches the frame; it is returned as is.
        """
        if not self._text:
            return frame
        if isinstance(frame, bytes):
            escaped = _ESCAPE.encode() in frame
            if not escaped and not any(variant in frame for variant in self._bytes):
                return frame
            text = frame.decode("utf-8", "replace")
        else:
            escaped = _ESCAPE in frame
            if not escaped and not any(variant in frame for variant in self._text):
                return frame
            text = frame
        if escaped:
            try:
                value = json.loads(text)
            except (ValueError, RecursionError):
                pass  # not JSON: the parser refuses it; the verbatim text is still redacted below
            else:
                cleaned = self._json(value)
                if cleaned == value:
                    return frame
                text = json.dumps(cleaned, ensure_ascii=False, separators=(",", ":"))
                return text.encode() if isinstance(frame, bytes) else text
        cleaned_text = self.text(text)
        return cleaned_text.encode() if isinstance(frame, bytes) else cleaned_text

    def _json(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self._json(item) for item in value]
        if isinstance(value, dict):
            return {self.text(key): self._json(item) for key, item in value.items()}
        return value

    def error(self, exc: LivecliError) -> LivecliError:
        """`exc` with its message (and a close reason) redacted, in place; returns it."""
        text = str(exc)
        cleaned = self.text(text)
        if cleaned != text:
            exc.args = (cleaned,)
        if isinstance(exc, ServerClosed):
            exc.reason = self.text(exc.reason)
        return exc


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace every occurrence of each secret (also URL-encoded) in `text` by ***."""
    return Redactor(secrets).text(text)


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
