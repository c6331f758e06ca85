"""What every worker of `livecli serve --workers N` shares: one SQLite file (WAL) they all open.

A session may meet another worker at each connection (the kernel spreads connections over the workers'
SO_REUSEPORT sockets), so whatever outlives a connection lives here: resumption handles and what they restore,
ephemeral tokens and their `uses`, and (tests only) the audio each session received. One worker keeps all of
this in memory (HandleStore, TokenStore, ReceivedAudio); the classes below are the same interfaces over the file,
with the same bounds (docs/wire.md, "Workers").

livecli's choices (docs/wire.md, "Workers"):
- a handle stores its own copy of the conversation (not a shared list), so issuing one costs O(history) here;
- a session's scenario progress is written at each handle and when a connection closes (one worker holds a
  session at a time: a resumed connection reads where the last one left it);
- values are pickled: the file sits in a directory only the serving user can read, made by the parent.
"""

from __future__ import annotations

import io
import pickle
import secrets
import sqlite3
import threading
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from livecli.protocol import close_reasons as cr
from livecli.server.config import ServerConfig
from livecli.server.resumption import HandleStore, ScenarioProgress, Snapshot
from livecli.server.tokens import MAX_TOKENS, IssuedToken, TokenStore
from livecli.server.transparent import KEPT_STATES, ConsumedState, ReceivedAudio
from livecli.server.validate import Refusal

__all__ = [
    "SharedDatabase",
    "SharedHandleStore",
    "SharedReceivedAudio",
    "SharedTokenStore",
    "create_database",
    "server_stores",
]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY, open INTEGER NOT NULL DEFAULT 0, valid_until REAL NOT NULL, progress BLOB);
CREATE TABLE IF NOT EXISTS handles (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, handle TEXT UNIQUE NOT NULL, session_id TEXT NOT NULL,
    snapshot BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS handles_by_session ON handles (session_id, seq);
CREATE TABLE IF NOT EXISTS tokens (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE NOT NULL, token BLOB NOT NULL,
    sessions INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS received (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL, n INTEGER NOT NULL, pcm BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS received_by_session ON received (session_id, n);
"""
_SWEEP_EVERY = 256  # issues between two sweeps of expired sessions


class SharedDatabase:
    """One process's connection to the shared file. Calls come from the server's loop and, for
    `received_audio()`, from a test's thread: one lock serialises them."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10.0)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")  # a crash may lose the last commits, never corrupt the file

    def run(self, sql: str, *args: Any) -> sqlite3.Cursor:
        """One statement, in its own transaction."""
        with self.lock:
            return self.db.execute(sql, args)

    def atomically(self, work: Callable[[sqlite3.Connection], Any]) -> Any:
        """Several statements in one write transaction (BEGIN IMMEDIATE: no other worker writes meanwhile)."""
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                result = work(self.db)
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")
            return result

    def close(self) -> None:
        """Close this process's connection."""
        with self.lock:
            self.db.close()


def create_database(path: str) -> None:
    """Make the file and its tables (the parent, before any worker starts)."""
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(_SCHEMA)
    finally:
        db.close()


# -- resumption handles -------------------------------------------------------------------------------------


def _unbound_callback(*_args: Any) -> None:
    """Stands in for a callback of the connection that captured a state; `ConsumedState.restore` rebinds it."""


class _StatePickler(pickle.Pickler):
    """Pickles a ConsumedState without the old connection's callbacks (bound methods of its ServerSession)."""

    def persistent_id(self, obj: Any) -> str | None:
        return "callback" if isinstance(obj, types.MethodType) else None


class _StateUnpickler(pickle.Unpickler):
    def persistent_load(self, pid: Any) -> Any:
        if pid == "callback":
            return _unbound_callback
        raise pickle.UnpicklingError(f"unknown persistent id {pid!r}")


def _dump_snapshot(snapshot: Snapshot) -> bytes:
    buffer = io.BytesIO()
    state = (snapshot.turns, snapshot.conversation(), snapshot.session_elapsed_s, snapshot.consumed)
    _StatePickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(state)
    return buffer.getvalue()


def _load_snapshot(blob: bytes, session_id: str, progress: ScenarioProgress) -> Snapshot:
    turns, history, elapsed, consumed = _StateUnpickler(io.BytesIO(blob)).load()
    assert consumed is None or isinstance(consumed, ConsumedState)
    return Snapshot(turns, history, len(history), elapsed, session_id, progress, consumed)


class SharedHandleStore(HandleStore):
    """HandleStore's interface over the shared file: a handle issued by one worker resolves on every worker,
    under the same rules (valid while a connection of its session is open and `ttl_s` after the last closes;
    only a session's newest KEPT_STATES handles resolve; past `max_handles` the oldest go first, never the
    newest handle of a session with a connection open)."""

    def __init__(self, database: SharedDatabase, ttl_s: float, max_handles: int = 200_000) -> None:
        super().__init__(ttl_s, max_handles)
        self.database = database
        self._live: dict[str, ScenarioProgress] = {}  # progress of the sessions connected to this worker
        self._issued = 0

    def opened(self, session_id: str) -> None:
        self.database.run(
            "INSERT INTO sessions (id, open, valid_until) VALUES (?, 1, 0) "
            "ON CONFLICT (id) DO UPDATE SET open = open + 1",
            session_id,
        )

    def closed(self, session_id: str, now: float) -> None:
        progress = self._live.pop(session_id, None)
        self.database.run(
            "UPDATE sessions SET open = MAX(open - 1, 0), valid_until = MAX(valid_until, ?), "
            "progress = COALESCE(?, progress) WHERE id = ?",
            now + self.ttl_s,
            pickle.dumps(progress) if progress is not None else None,
            session_id,
        )

    def issue(self, snapshot: Snapshot, now: float) -> str:
        handle = "livecli-" + secrets.token_urlsafe(18)
        blob = _dump_snapshot(snapshot)
        self._live[snapshot.session_id] = snapshot.progress
        progress = pickle.dumps(snapshot.progress)
        self._issued += 1
        sweep = self._issued % _SWEEP_EVERY == 0

        def work(db: sqlite3.Connection) -> None:
            sid = snapshot.session_id
            db.execute("INSERT INTO handles (handle, session_id, snapshot) VALUES (?, ?, ?)", (handle, sid, blob))
            db.execute(
                "INSERT INTO sessions (id, valid_until, progress) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE "
                "SET valid_until = MAX(valid_until, excluded.valid_until), progress = excluded.progress",
                (sid, now + self.ttl_s, progress),
            )
            db.execute(  # the service invalidates a session's older handles
                "DELETE FROM handles WHERE session_id = ? AND seq NOT IN "
                "(SELECT seq FROM handles WHERE session_id = ? ORDER BY seq DESC LIMIT ?)",
                (sid, sid, KEPT_STATES),
            )
            if sweep:
                self._sweep(db, now)

        self.database.atomically(work)
        return handle

    def _sweep(self, db: sqlite3.Connection, now: float) -> None:
        """Forget the sessions that expired, then bound the handles (the oldest first, sparing a connected
        session's newest)."""
        expired = "SELECT id FROM sessions WHERE open <= 0 AND valid_until <= ?"
        db.execute(f"DELETE FROM handles WHERE session_id IN ({expired})", (now,))
        db.execute("DELETE FROM sessions WHERE open <= 0 AND valid_until <= ?", (now,))
        (count,) = db.execute("SELECT COUNT(*) FROM handles").fetchone()
        if count > self.max_handles:
            db.execute(
                "DELETE FROM handles WHERE seq IN (SELECT h.seq FROM handles h WHERE NOT ("
                "h.seq = (SELECT MAX(seq) FROM handles WHERE session_id = h.session_id) AND "
                "EXISTS (SELECT 1 FROM sessions s WHERE s.id = h.session_id AND s.open > 0)) "
                "ORDER BY h.seq LIMIT ?)",
                (count - self.max_handles,),
            )

    def resolve(self, handle: str, now: float) -> Snapshot | None:
        row = self.database.run(
            "SELECT h.snapshot, h.session_id, s.open, s.valid_until, s.progress FROM handles h "
            "JOIN sessions s ON s.id = h.session_id WHERE h.handle = ?",
            handle,
        ).fetchone()
        if row is None:
            return None
        blob, session_id, open_count, valid_until, progress_blob = row
        if open_count <= 0 and valid_until <= now:
            return None
        progress = self._live.get(session_id)
        if progress is None:
            progress = pickle.loads(progress_blob) if progress_blob is not None else ScenarioProgress()
            self._live[session_id] = progress
        return _load_snapshot(blob, session_id, progress)

    def __len__(self) -> int:
        (count,) = self.database.run("SELECT COUNT(*) FROM handles").fetchone()
        return int(count)


# -- ephemeral tokens ---------------------------------------------------------------------------------------


@dataclass
class SharedToken(IssuedToken):
    """A minted token whose `uses` are counted in the shared file, whichever worker a session starts on."""

    database: SharedDatabase | None = field(default=None, repr=False, compare=False)

    def start_session(self, now: float) -> None:
        """As IssuedToken.start_session (used up first, then no new sessions), counted atomically in the file."""
        assert self.database is not None
        open_for_new = now < self.new_session_until and not self.expired(now)
        if open_for_new:
            taken = self.database.run(
                "UPDATE tokens SET sessions = sessions + 1 WHERE name = ? AND (? = 0 OR sessions < ?)",
                self.name,
                self.uses,
                self.uses,
            ).rowcount
            if taken != 1:
                raise Refusal.of(cr.TOKEN_USED_UP)
            self.sessions += 1
            return
        row = self.database.run("SELECT sessions FROM tokens WHERE name = ?", self.name).fetchone()
        if self.uses and row is not None and row[0] >= self.uses:
            raise Refusal.of(cr.TOKEN_USED_UP)
        raise Refusal.of(cr.TOKEN_NO_NEW_SESSIONS)


class SharedTokenStore(TokenStore):
    """TokenStore over the shared file: a token minted on one worker opens sessions on every worker."""

    def __init__(
        self, database: SharedDatabase, wall_clock: Callable[[], float], max_tokens: int = MAX_TOKENS
    ) -> None:
        super().__init__(wall_clock, max_tokens)
        self.database = database

    def get(self, name: str | None) -> IssuedToken | None:
        if not name:
            return None
        row = self.database.run("SELECT token, sessions FROM tokens WHERE name = ?", name).fetchone()
        if row is None:
            return None
        token: IssuedToken = pickle.loads(row[0])
        return SharedToken(**{**vars(token), "sessions": row[1]}, database=self.database)

    def mint(self, body: object) -> IssuedToken:
        token = super().mint(body)
        self._tokens.pop(token.name, None)  # kept in the file, not in this worker
        blob = pickle.dumps(IssuedToken(**vars(token)))

        def work(db: sqlite3.Connection) -> None:
            db.execute("INSERT INTO tokens (name, token) VALUES (?, ?)", (token.name, blob))
            db.execute("DELETE FROM tokens WHERE seq <= (SELECT MAX(seq) FROM tokens) - ?", (self.max_tokens,))

        self.database.atomically(work)
        return token


# -- what sessions received (tests) -------------------------------------------------------------------------


class _Record(list[bytes]):
    """One session's received audio in this worker; `session_id` names its rows in the file."""

    session_id: str = ""


class SharedReceivedAudio(ReceivedAudio):
    """ReceivedAudio over the shared file: a session resumed on another worker goes on with its record there."""

    def __init__(self, database: SharedDatabase) -> None:
        super().__init__()
        self.database = database

    def open(self, session_id: str, keep: int | None = None) -> list[bytes]:
        record = _Record(
            pcm
            for (pcm,) in self.database.run(
                "SELECT pcm FROM received WHERE session_id = ? ORDER BY n", session_id
            ).fetchall()
        )
        record.session_id = session_id
        if keep is not None:
            del record[keep:]
            self.database.run("DELETE FROM received WHERE session_id = ? AND n >= ?", session_id, keep)
        return record

    def add(self, chunks: list[bytes], more: list[bytes]) -> None:
        assert isinstance(chunks, _Record)
        first = len(chunks)
        chunks.extend(more)

        def work(db: sqlite3.Connection) -> None:
            db.executemany(
                "INSERT INTO received (session_id, n, pcm) VALUES (?, ?, ?)",
                [(chunks.session_id, first + i, pcm) for i, pcm in enumerate(more)],
            )

        self.database.atomically(work)

    def sessions(self) -> dict[str, bytes]:
        by_session: dict[str, list[tuple[int, bytes]]] = {}
        for session_id, n, pcm in self.database.run("SELECT session_id, n, pcm FROM received ORDER BY seq"):
            by_session.setdefault(session_id, []).append((n, pcm))
        return {sid: b"".join(pcm for _, pcm in sorted(rows)) for sid, rows in by_session.items()}


def server_stores(config: ServerConfig) -> tuple[HandleStore, TokenStore, ReceivedAudio | None]:
    """The handle, token and received-audio stores of one server: in memory, or over `config.shared_store`
    (a worker of `serve --workers N`)."""
    if config.shared_store is None:
        received = ReceivedAudio() if config.keep_received_audio else None
        return HandleStore(config.handle_ttl_s, config.max_handles), TokenStore(config.wall_clock), received
    database = SharedDatabase(config.shared_store)
    shared_received = SharedReceivedAudio(database) if config.keep_received_audio else None
    return (
        SharedHandleStore(database, config.handle_ttl_s, config.max_handles),
        SharedTokenStore(database, config.wall_clock),
        shared_received,
    )
