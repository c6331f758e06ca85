"""The one exception hierarchy. Which exit status each becomes is decided in livecli.cli.exit_status.

    LivecliError
     ├── UsageError          bad flags, refused by preflight
     │    └── OutputError    the reply or stdout cannot be written (full disk, closed stdout, input as output)
     ├── CredentialsError    missing key, HTTP 401/403 at upgrade
     ├── ConnectError        connect/setup timeout, refused, DNS, TLS, abnormal close
     │    ├── ServerClosed   a close frame: code, reason and phase (before/after setupComplete), kept verbatim
     │    └── ProtocolError  a frame livecli cannot understand
     ├── NoReplyError        reply timeout, or a turn that completed with nothing
     ├── AudioInputError     missing/unreadable/corrupt/empty input media
     │    └── MediaInputError  an --image (or --video) that cannot be read, decoded or sent
     └── QuotaError          HTTP 429, RESOURCE_EXHAUSTED

This module imports only the standard library and knows no exit codes: the sans-I/O protocol core uses it.
"""

from __future__ import annotations

__all__ = [
    "QUOTA_REASON_PREFIX",
    "TOKEN_USED_UP_REASON",
    "AudioInputError",
    "ConnectError",
    "CredentialsError",
    "LivecliError",
    "MediaInputError",
    "NoReplyError",
    "OutputError",
    "ProtocolError",
    "QuotaError",
    "ServerClosed",
    "UsageError",
    "cannot_open",
    "http_error",
]

# docs/wire.md, "Close codes": quota closes arrive as 1011 with this reason, cut at 123 bytes.
QUOTA_REASON_PREFIX = "You exceeded your current quota"
# docs/wire.md, "Ephemeral tokens": the service's refusal of an ephemeral token with no uses left (reported with
# close 1011, which alone would read as a passing fault).
TOKEN_USED_UP_REASON = "Token has been used too many times"


class LivecliError(Exception):
    """Base of every error livecli reports as one line on stderr."""


class UsageError(LivecliError):
    """Bad flags or arguments, or a setup the preflight knows the server refuses."""


class OutputError(UsageError):
    """Where the reply or the data goes cannot take it: an unwritable or full destination, a closed stdout, an
    output that would replace an input. The OSError behind it, if any, is its __cause__."""


class MissingExtra(UsageError):
    """An option needs an optional extra (`livecli[media]`, `livecli[mcp]`) that is not installed; the message
    names the pip command."""


class CredentialsError(LivecliError):
    """Missing or refused credentials, or a setup the server refused."""


class ConnectError(LivecliError):
    """The connection could not be made, or ended with an error."""


class ProtocolError(ConnectError):
    """A frame that is not a valid server (or client) message."""


class NoReplyError(LivecliError):
    """The server went silent while a reply was expected, or replied with nothing."""


class AudioInputError(LivecliError):
    """Input media that cannot be read or decoded."""


class MediaInputError(AudioInputError):
    """An image or video input that cannot be read, decoded or sent (bad input media, like audio: exit 6)."""


class QuotaError(LivecliError):
    """Quota or rate limit."""


class ServerClosed(ConnectError):
    """The server closed the WebSocket; `code` and `reason` are kept verbatim.

    Args:
        code: the close code (1006 when no close frame arrived).
        reason: the close reason exactly as received.
        after_setup: whether setupComplete had arrived before the close.
    """

    def __init__(self, code: int, reason: str, *, after_setup: bool) -> None:
        self.code = code
        self.reason = reason
        self.after_setup = after_setup
        if code == 1006:  # websockets' code for "no close frame": the TCP connection just ended
            text = "connection dropped without a close frame (1006)"
        else:
            text = f"server closed the connection: {code} {reason}".rstrip()
        super().__init__(text)

    @property
    def quota(self) -> bool:
        """Whether the close reports a quota or rate limit (docs/wire.md, "Close codes")."""
        return self.reason.startswith(QUOTA_REASON_PREFIX) or "RESOURCE_EXHAUSTED" in self.reason

    @property
    def token_used_up(self) -> bool:
        """Whether the close refuses a used-up ephemeral token: a credentials failure whatever the code."""
        return TOKEN_USED_UP_REASON in self.reason


def http_error(status: int, body: str = "") -> LivecliError:
    """Map an HTTP refusal (WebSocket upgrade or REST call) to the error class."""
    detail = f"HTTP {status}" + (f": {body}" if body else "")
    if status in (401, 403):
        return CredentialsError(f"credentials refused: {detail}")
    if status == 429 or "RESOURCE_EXHAUSTED" in body:
        return QuotaError(f"quota or rate limit: {detail}")
    return ConnectError(f"endpoint refused the connection: {detail}")


def cannot_open(path: str, exc: OSError | ValueError) -> str:
    """The one line for an input file that cannot be opened (audio, an image): missing, refused by the system,
    or a name with a NUL byte in it (the ValueError `open` raises)."""
    if isinstance(exc, FileNotFoundError):
        return f"{path}: no such file"
    if isinstance(exc, OSError):
        return f"{path}: cannot open: {exc.strerror or exc}"
    return f"{path!r}: not a valid file name"
