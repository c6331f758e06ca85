"""One exception hierarchy and the one exit-status table.

    LivecliError                      exit status
     ├── UsageError                   2  bad flags, refused by preflight
     ├── CredentialsError             3  missing key, HTTP 401/403 at upgrade, close 1007,
     │                                   close 1008 before setupComplete
     ├── ConnectError                 4  connect/setup timeout, refused, DNS, TLS, abnormal close
     │    ├── ServerClosed(code, reason)  a close frame; its status depends on code/reason/phase
     │    └── ProtocolError           4  a frame we cannot understand
     ├── NoReplyError                 5  reply timeout, or a turn that completed with nothing
     ├── AudioInputError              6  missing/unreadable/corrupt/empty input media
     └── QuotaError                   7  HTTP 429, RESOURCE_EXHAUSTED, "You exceeded your current quota"

    KeyboardInterrupt                130
    BrokenPipeError on stdout        141
    SIGTERM                          143  (handled like Ctrl-C)
    anything else                    1  internal error

The server's close code and reason are carried verbatim and shown verbatim.
This module imports only the standard library: the sans-I/O protocol core uses it.
"""

from __future__ import annotations

import enum

__all__ = [
    "QUOTA_REASON_PREFIX",
    "AudioInputError",
    "ConnectError",
    "CredentialsError",
    "ExitStatus",
    "LivecliError",
    "NoReplyError",
    "ProtocolError",
    "QuotaError",
    "ServerClosed",
    "UsageError",
    "exit_status_for",
    "http_error",
]

# protocol.md §5: quota closes arrive as 1011 with this reason, cut at 123 bytes.
QUOTA_REASON_PREFIX = "You exceeded your current quota"


class ExitStatus(enum.IntEnum):
    """The one exit-status table (README and `--help` print it from here)."""

    OK = 0
    INTERNAL_ERROR = 1
    USAGE = 2
    CREDENTIALS = 3
    CONNECTION = 4
    NO_REPLY = 5
    BAD_INPUT = 6
    QUOTA = 7
    INTERRUPTED = 130
    BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports for a writer whose reader went away
    TERMINATED = 143  # 128 + SIGTERM, handled like Ctrl-C


EXIT_STATUS_HELP: dict[ExitStatus, str] = {
    ExitStatus.OK: "ok",
    ExitStatus.INTERNAL_ERROR: "internal error (a bug: please report it)",
    ExitStatus.USAGE: "usage error: bad flags, or refused by preflight",
    ExitStatus.CREDENTIALS: (
        "credentials or setup refused: missing key, HTTP 401/403, close 1007, or 1008 before setupComplete"
    ),
    ExitStatus.CONNECTION: (
        "connection failed or ended with an error: connect/setup timeout, 1011, "
        "abnormal close, 1008 after setupComplete, protocol error"
    ),
    ExitStatus.NO_REPLY: "no reply: reply timeout, or a turn completed with no audio or text",
    ExitStatus.BAD_INPUT: "bad input media",
    ExitStatus.QUOTA: 'quota or rate limit: HTTP 429, RESOURCE_EXHAUSTED, "You exceeded..."',
    ExitStatus.INTERRUPTED: "interrupted (Ctrl-C); the reply so far is still written",
    ExitStatus.BROKEN_PIPE: "stdout closed by its reader (e.g. `-o - | head`); nothing more to write",
    ExitStatus.TERMINATED: "terminated (SIGTERM, e.g. a CI timeout); handled like Ctrl-C",
}


class LivecliError(Exception):
    """Base of every error livecli reports as one line on stderr."""

    exit_status: ExitStatus = ExitStatus.INTERNAL_ERROR


class UsageError(LivecliError):
    """Bad flags or arguments, or a setup the preflight knows the server refuses."""

    exit_status = ExitStatus.USAGE


class CredentialsError(LivecliError):
    """Missing or refused credentials, or a setup the server refused."""

    exit_status = ExitStatus.CREDENTIALS


class ConnectError(LivecliError):
    """The connection could not be made, or ended with an error."""

    exit_status = ExitStatus.CONNECTION


class ProtocolError(ConnectError):
    """A frame that is not a valid server (or client) message."""


class NoReplyError(LivecliError):
    """The server went silent while a reply was expected, or replied with nothing."""

    exit_status = ExitStatus.NO_REPLY


class AudioInputError(LivecliError):
    """Input media that cannot be read or decoded."""

    exit_status = ExitStatus.BAD_INPUT


class QuotaError(LivecliError):
    """Quota or rate limit."""

    exit_status = ExitStatus.QUOTA


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
    def exit_status(self) -> ExitStatus:  # type: ignore[override]
        return close_exit_status(self.code, self.reason, after_setup=self.after_setup)


def close_exit_status(code: int, reason: str, *, after_setup: bool) -> ExitStatus:
    """Map a close code and reason to the exit status (protocol.md §5)."""
    if reason.startswith(QUOTA_REASON_PREFIX) or "RESOURCE_EXHAUSTED" in reason:
        return ExitStatus.QUOTA
    if code == 1007 or (code == 1008 and not after_setup):
        return ExitStatus.CREDENTIALS
    if code == 1000:
        return ExitStatus.NO_REPLY
    return ExitStatus.CONNECTION


def http_error(status: int, body: str = "") -> LivecliError:
    """Map an HTTP refusal (WebSocket upgrade or REST call) to the error class."""
    detail = f"HTTP {status}" + (f": {body}" if body else "")
    if status in (401, 403):
        return CredentialsError(f"credentials refused: {detail}")
    if status == 429 or "RESOURCE_EXHAUSTED" in body:
        return QuotaError(f"quota or rate limit: {detail}")
    return ConnectError(f"endpoint refused the connection: {detail}")


def exit_status_for(exc: BaseException) -> ExitStatus:
    """The exit status for any exception reaching the CLI's error boundary."""
    if isinstance(exc, KeyboardInterrupt):
        return ExitStatus.INTERRUPTED
    if isinstance(exc, BrokenPipeError):
        return ExitStatus.BROKEN_PIPE
    if isinstance(exc, LivecliError):
        return exc.exit_status
    return ExitStatus.INTERNAL_ERROR
