"""What one connection may cost the local server, and how it is closed past that (docs/wire.md, "Limits of the
local server").

No client can stall or bloat the server: each bound here is what keeps one hostile or broken client from
delaying every other connection's frames or holding memory without end. Where the service's own behaviour is
not on record, the close codes and reasons are livecli's choices, documented in docs/wire.md.
"""

from __future__ import annotations

import re
from typing import Any

from livecli.protocol.close_reasons import CloseReason

__all__ = [
    "IDLE_TIMEOUT",
    "MAX_INPUT_RATES",
    "TOO_MANY_RATES",
    "has_lone_surrogate",
]

# Audio at a rate other than 16 kHz is resampled on arrival, and each rate needs its own filter plan (tens of
# milliseconds to build, up to a fraction of a second for odd rates): a connection may declare this many
# distinct rates besides 16 kHz; one more is refused with TOO_MANY_RATES.
MAX_INPUT_RATES = 4
TOO_MANY_RATES = CloseReason(
    1007, f"Too many audio sample rates on one connection (at most {MAX_INPUT_RATES} besides 16000 Hz)."
)
# A connection past its setup that sends nothing for ServerConfig.idle_timeout_s while no reply is in flight; the
# service's own idle close is not on record: its deadline close's code and gRPC status, as SETUP_TIMEOUT does.
IDLE_TIMEOUT = CloseReason(
    1011, "RPC::DEADLINE_EXCEEDED: no client message for {seconds} s (idle)", needle="(idle)"
)

# An escaped UTF-16 surrogate in a JSON text: either half of a pair (an emoji escaped by an ASCII-only encoder)
# or a lone one, which has no UTF-8 form.
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")
_ESCAPED_SURROGATE_BYTES = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def has_lone_surrogate(frame: str | bytes, message: Any) -> bool:
    """Whether the parsed `message` holds a lone surrogate in any string (only possible when the raw `frame`
    escapes one, so an ordinary frame costs a search for one backslash, which CPython does with memchr: ten times
    faster than the regular expression or a two-character search). The service reads such a frame as invalid
    JSON."""
    if isinstance(frame, bytes):
        escaped = b"\\" in frame and _ESCAPED_SURROGATE_BYTES.search(frame) is not None
    else:
        escaped = "\\" in frame and _ESCAPED_SURROGATE.search(frame) is not None
    if not escaped:
        return False
    stack = [message]
    while stack:  # iterative: the nesting depth is the client's choice
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False
