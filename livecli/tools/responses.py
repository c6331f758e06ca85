"""What a handler returned → the function response object sent in a toolResponse (one rule for every source).

A dict is the response; any other value `v` answers `{"result": v}` (README, "Tools"). The response must be
JSON: values JSON has no form for (a datetime, a set) are sent as their text, NaN and infinities are refused.
"""

from __future__ import annotations

import json
from typing import Any

from livecli.tools.base import ToolFailed

__all__ = ["as_response"]


def as_response(value: Any, what: str) -> dict[str, Any]:
    """The function response for `value` (what `what`, e.g. "lookup", returned), as plain JSON data."""
    response = value if isinstance(value, dict) else {"result": value}
    try:
        data: dict[str, Any] = json.loads(json.dumps(response, default=str, allow_nan=False))
    except (TypeError, ValueError, RecursionError) as exc:
        raise ToolFailed(f"{what} returned a value that is not JSON: {exc}") from None
    return data
