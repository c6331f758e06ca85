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

from livecli.protocol import close_reasons as cr
from livecli.protocol import server_messages as sm
from livecli.server.validate import Refusal

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
        self._answered: set[str] = set()
        self._cancelled: set[str] = set()

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
        """Match each functionResponse to its pending call by id (docs/wire.md, "Tool calls").

        An id never sent, or answered already, closes the session with 1007; an id cancelled by a barge-in is
        ignored (the client may have answered before the toolCallCancellation reached it).
        """
        for response in body.get("functionResponses", []):
            call_id = str(response.get("id", ""))
            on_response = self._pending.pop(call_id, None)
            if on_response is None:
                if call_id in self._cancelled:
                    self.log.info("toolResponse for cancelled call %s ignored", call_id)
                    continue
                why = "was already answered" if call_id in self._answered else "matches no pending function call"
                raise Refusal.of(cr.TOOL_CALL_ID, id=short_json(call_id, 40), why=why)
            self._answered.add(call_id)
            on_response(now, response)

    def cancel(self) -> list[str]:
        """Forget every pending call; return their ids (for toolCallCancellation)."""
        ids = list(self._pending)
        self._pending.clear()
        self._cancelled.update(ids)
        return ids


def contains(actual: Any, expected: Any) -> bool:
    """Whether `actual` holds `expected`: every key of an expected object, recursively; other values equal."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            k in actual and contains(actual[k], v) for k, v in expected.items()
        )
    return bool(actual == expected)


def short_json(value: Any, limit: int = 80) -> str:
    """Compact JSON of a tool result (or a client's id), cut to `limit` characters for a transcript or a reason."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."
