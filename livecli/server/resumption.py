"""Session resumption handles, shared by every connection of one server (docs/wire.md, "goAway and resumption").

Every handle of a session stays valid while a connection of that session is open and for `ttl_s` (2 h) after
the last one closes — "handles are valid 2 h after the session ends". A snapshot shares the session's
append-only history list and records its length, so issuing a handle per turn costs O(1), not O(history).
A transparent handle also holds a copy of the input state (livecli.server.transparent). Only the newest
KEPT_STATES handles of a session resolve, transparent or not, so a long session's handles cannot fill the memory.
"""

from __future__ import annotations

import heapq
import secrets
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from livecli.server.transparent import KEPT_STATES, ConsumedState

__all__ = ["HandleStore", "ScenarioProgress", "Snapshot", "new_session_id"]


def new_session_id() -> str:
    """A fresh opaque session id."""
    return secrets.token_hex(8)


@dataclass
class ScenarioProgress:
    """Where a session is in its scenario, shared by every connection of the session (not rewound by a handle):
    a scenario turn that closed the connection is not played again after the resumption, and `[[at]]` times
    count from the session's first setupComplete, not from each connection's."""

    started_at: float | None = None  # the first setupComplete of the session (server clock)
    turns: int = 0  # scenario turns played so far, across every connection


@dataclass(frozen=True)
class Snapshot:
    """What a handle restores: the conversation so far and how long the session has lived."""

    turns: int
    history: list[dict[str, Any]] = field(default_factory=list)  # shared, append-only
    history_len: int = 0
    session_elapsed_s: float = 0.0
    session_id: str = field(default_factory=new_session_id)
    progress: ScenarioProgress = field(default_factory=ScenarioProgress)  # shared, not copied
    consumed: ConsumedState | None = None  # transparent resumption: what the index says was consumed

    def conversation(self) -> list[dict[str, Any]]:
        """A copy of the history as it was when the handle was issued."""
        return self.history[: self.history_len]


class HandleStore:
    """Issues opaque handles and resolves them while their session is open or ended less than `ttl_s` ago.

    Bounded whatever clients do (docs/wire.md, "Limits of the local server"): only a session's newest
    KEPT_STATES handles resolve (the service invalidates older ones), one expiry entry is queued per session,
    and past `max_handles` the oldest handles of any session go first — never the newest handle of a session
    with a connection open, so one client issuing handles without end cannot invalidate another's.
    """

    def __init__(self, ttl_s: float, max_handles: int = 200_000) -> None:
        self.ttl_s = ttl_s
        self.max_handles = max_handles
        self._handles: dict[str, Snapshot] = {}  # in issue order (the oldest is evicted past max_handles)
        self._by_session: dict[str, deque[str]] = {}  # session id → its newest handles, oldest first
        self._valid_until: dict[str, float] = {}  # session id → end of validity once no connection is open
        self._open: Counter[str] = Counter()
        self._expiry: list[tuple[float, str]] = []  # (checked at, session id): at most one entry per session
        self._queued: set[str] = set()  # the sessions with an entry in _expiry

    def __len__(self) -> int:
        """How many handles resolve (tests bound it)."""
        return len(self._handles)

    def opened(self, session_id: str) -> None:
        """A connection of this session is open: its handles do not expire meanwhile."""
        self._open[session_id] += 1

    def closed(self, session_id: str, now: float) -> None:
        """A connection of this session closed: its handles are valid for `ttl_s` from now."""
        self._open[session_id] -= 1
        if self._open[session_id] <= 0:
            del self._open[session_id]
        self._extend(session_id, now)

    def issue(self, snapshot: Snapshot, now: float) -> str:
        """A fresh handle for `snapshot`; the session's handles before its KEPT_STATES newest stop resolving."""
        self._expire(now)
        handle = "livecli-" + secrets.token_urlsafe(18)
        self._handles[handle] = snapshot
        newest = self._by_session.setdefault(snapshot.session_id, deque())
        newest.append(handle)
        while len(newest) > KEPT_STATES:
            self._handles.pop(newest.popleft(), None)
        self._extend(snapshot.session_id, now)
        self._bound()
        return handle

    def resolve(self, handle: str, now: float) -> Snapshot | None:
        """The snapshot of a live handle, or None when unknown or expired."""
        self._expire(now)
        return self._handles.get(handle)

    def _bound(self) -> None:
        """Past max_handles, drop the oldest handles, skipping (moving to the back) a live session's newest."""
        skipped = 0
        while len(self._handles) > self.max_handles and skipped <= len(self._open):
            handle = next(iter(self._handles))
            snapshot = self._handles.pop(handle)
            session = self._by_session.get(snapshot.session_id)
            if session and session[-1] == handle and snapshot.session_id in self._open:
                self._handles[handle] = snapshot  # kept: now the newest entry of the order
                skipped += 1
            elif session and handle in session:
                session.remove(handle)

    def _extend(self, session_id: str, now: float) -> None:
        until = now + self.ttl_s
        if until > self._valid_until.get(session_id, -1.0):
            self._valid_until[session_id] = until
        if session_id not in self._queued:  # a later validity is found when this entry falls due
            self._queued.add(session_id)
            heapq.heappush(self._expiry, (self._valid_until[session_id], session_id))

    def _expire(self, now: float) -> None:
        while self._expiry and self._expiry[0][0] <= now:
            _, session_id = heapq.heappop(self._expiry)
            self._queued.discard(session_id)
            until = self._valid_until.get(session_id)
            if until is None:
                continue
            if session_id in self._open:
                self._extend(session_id, now)  # still connected: keep it alive
                continue
            if until > now:  # extended since the entry was queued: check again then
                self._queued.add(session_id)
                heapq.heappush(self._expiry, (until, session_id))
                continue
            del self._valid_until[session_id]
            for handle in self._by_session.pop(session_id, ()):
                self._handles.pop(handle, None)
