"""Session resumption handles, shared by every connection of one server (protocol.md §3.1, §4, §7)."""

from __future__ import annotations

import secrets
from collections import deque
from dataclasses import dataclass, field
from typing import Any

__all__ = ["HandleStore", "Snapshot"]


@dataclass(frozen=True)
class Snapshot:
    """What a handle restores: the conversation so far and how long the session has lived."""

    turns: int
    history: tuple[dict[str, Any], ...] = ()
    session_elapsed_s: float = 0.0
    session_id: str = field(default_factory=lambda: secrets.token_hex(8))


class HandleStore:
    """Issues opaque handles and resolves them until they expire (`ttl_s` after issue, 2 h by default)."""

    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._handles: dict[str, tuple[float, Snapshot]] = {}
        self._order: deque[tuple[float, str]] = deque()  # issue order = expiry order (one ttl)

    def issue(self, snapshot: Snapshot, now: float) -> str:
        """A fresh handle for `snapshot`."""
        self._expire(now)
        handle = "livecli-" + secrets.token_urlsafe(18)
        self._handles[handle] = (now + self.ttl_s, snapshot)
        self._order.append((now + self.ttl_s, handle))
        return handle

    def resolve(self, handle: str, now: float) -> Snapshot | None:
        """The snapshot of a live handle, or None when unknown or expired."""
        self._expire(now)
        entry = self._handles.get(handle)
        return entry[1] if entry else None

    def _expire(self, now: float) -> None:
        while self._order and self._order[0][0] <= now:
            self._handles.pop(self._order.popleft()[1], None)

    @property
    def live_handles(self) -> int:
        """How many handles are currently valid."""
        return len(self._handles)
