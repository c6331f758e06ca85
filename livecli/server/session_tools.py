"""Tool calls the local server has made and awaits a toolResponse for, matched by id (docs/wire.md, "Tool calls").

A ServerSession owns one ToolCalls: `call` gives the toolCall frame and remembers what to do with the response;
`respond` runs that for each functionResponse of a toolResponse; `cancel` forgets them all (a barge-in).
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Callable
from typing import Any

from livecli.protocol import server_messages as sm

__all__ = ["OnResponse", "ToolCalls", "contains", "short_json"]

# Called with the time the response arrived and the functionResponse object.
OnResponse = Callable[[float, dict[str, Any]], None]

# Call ids are unique across the server's sessions, as the service's are.
_call_ids = itertools.count(1)


class ToolCalls:
    """Pending function calls by id."""

    def __init__(self, log: logging.Logger) -> None:
        self.log = log
        self._pending: dict[str, OnResponse] = {}

    def __bool__(self) -> bool:
        return bool(self._pending)

    def __len__(self) -> int:
        return len(self._pending)

    def call(self, name: str, args: dict[str, Any], on_response: OnResponse) -> bytes:
        """The toolCall frame for one new call; `on_response` runs when its functionResponse arrives."""
        call_id = f"call-{next(_call_ids)}"
        self._pending[call_id] = on_response
        return sm.tool_call([{"id": call_id, "name": name, "args": args}])

    def respond(self, body: dict[str, Any], now: float) -> None:
        """Match each functionResponse to its pending call by id; unknown ids are logged and ignored."""
        for response in body.get("functionResponses", []):
            on_response = self._pending.pop(str(response.get("id")), None)
            if on_response is None:
                self.log.warning("toolResponse for unknown call id %r", response.get("id"))
                continue
            on_response(now, response)

    def cancel(self) -> list[str]:
        """Forget every pending call; return their ids (for toolCallCancellation)."""
        ids = list(self._pending)
        self._pending.clear()
        return ids


def contains(actual: Any, expected: Any) -> bool:
    """Whether `actual` holds `expected`: every key of an expected object, recursively; other values equal."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            k in actual and contains(actual[k], v) for k, v in expected.items()
        )
    return bool(actual == expected)


def short_json(value: Any) -> str:
    """Compact JSON of a tool result, cut to 80 characters for the reply's transcript."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:77] + "..."
