"""The one exit-status table: every failure class, close code and signal mapped to the process's exit status.

The layers below report what happened (an exception class, a close code, reason and phase); only here does that
become a number. `--help` and the README print the table from EXIT_STATUS_HELP.
"""

from __future__ import annotations

import enum

from livecli.errors import (
    AudioInputError,
    ConnectError,
    CredentialsError,
    LivecliError,
    NoReplyError,
    QuotaError,
    ServerClosed,
    UsageError,
)

__all__ = ["EXIT_STATUS_HELP", "ExitStatus", "close_exit_status", "exit_status_for"]


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
    ExitStatus.OK: "ok; for talk and chat also the user ending the conversation (Ctrl-C, /quit, end of input)",
    ExitStatus.INTERNAL_ERROR: "internal error (a bug: please report it)",
    ExitStatus.USAGE: "usage error: bad flags, refused by preflight, or a missing optional extra",
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


_BY_CLASS: tuple[tuple[type[LivecliError], ExitStatus], ...] = (
    (UsageError, ExitStatus.USAGE),
    (CredentialsError, ExitStatus.CREDENTIALS),
    (ConnectError, ExitStatus.CONNECTION),
    (NoReplyError, ExitStatus.NO_REPLY),
    (AudioInputError, ExitStatus.BAD_INPUT),
    (QuotaError, ExitStatus.QUOTA),
)


def close_exit_status(closed: ServerClosed) -> ExitStatus:
    """A server's close, by code, reason and phase (docs/wire.md, "Close codes")."""
    if closed.quota:
        return ExitStatus.QUOTA
    if closed.token_used_up:  # the service sends it with 1011 (docs/wire.md, "Ephemeral tokens")
        return ExitStatus.CREDENTIALS
    if closed.code == 1007 or (closed.code == 1008 and not closed.after_setup):
        return ExitStatus.CREDENTIALS
    if closed.code == 1000:
        return ExitStatus.NO_REPLY
    return ExitStatus.CONNECTION


def exit_status_for(exc: BaseException) -> ExitStatus:
    """The exit status for any exception reaching the CLI's error boundary."""
    if isinstance(exc, KeyboardInterrupt):
        return ExitStatus.INTERRUPTED
    if isinstance(exc, BrokenPipeError):
        return ExitStatus.BROKEN_PIPE
    if isinstance(exc, ServerClosed):
        return close_exit_status(exc)
    for cls, status in _BY_CLASS:
        if isinstance(exc, cls):
            return status
    return ExitStatus.INTERNAL_ERROR
