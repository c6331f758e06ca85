"""The mcp SDK's log records (a line a server wrote that is not JSON-RPC, a failed read) as one-line warnings.

Unconfigured, Python's logging prints such a record with its traceback on stderr, through the display. While an
MCP source is open, the `mcp` logger's warnings and errors go instead to the warn callback of the first source
still open, as one escaped line (the exception's type, no traceback); the logger is given back when the last
source closes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from livecli.protocol.redact import printable

__all__ = ["listen", "unlisten"]

_LOGGER = "mcp"


class _OneLine(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.listeners: list[Callable[[str], None]] = []
        self.propagated = True

    def emit(self, record: logging.LogRecord) -> None:
        if not self.listeners:
            return
        try:
            line = record.getMessage()
        except Exception:  # a malformed record must not raise inside the SDK
            line = str(record.msg)
        if record.exc_info and record.exc_info[0] is not None:
            line = f"{line} ({record.exc_info[0].__name__})"
        self.listeners[0](f"the MCP SDK: {printable(line)}")


_HANDLER = _OneLine()


def listen(warn: Callable[[str], None]) -> None:
    """Send the SDK's warnings to `warn` (the first listener gets them) until `unlisten(warn)`."""
    logger = logging.getLogger(_LOGGER)
    if not _HANDLER.listeners:
        _HANDLER.propagated = logger.propagate
        logger.addHandler(_HANDLER)
        logger.propagate = False
    _HANDLER.listeners.append(warn)


def unlisten(warn: Callable[[str], None]) -> None:
    """Stop sending to `warn`; the last one gone, the logger is as it was. Unknown callbacks are ignored."""
    if warn not in _HANDLER.listeners:
        return
    _HANDLER.listeners.remove(warn)
    if not _HANDLER.listeners:
        logger = logging.getLogger(_LOGGER)
        logger.removeHandler(_HANDLER)
        logger.propagate = _HANDLER.propagated
