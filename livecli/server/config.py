"""ServerConfig: every knob of the local Live server, with the service's defaults."""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["DEFAULT_PORT", "ServerConfig"]

DEFAULT_PORT = 8765


@dataclass
class ServerConfig:
    """How one local server behaves.

    Args:
        host, port: where to listen (port 0 picks a free port).
        ssl_context: serve wss with this context (takes precedence over the files).
        tls_cert, tls_key: PEM files to serve wss with.
        tls_self_signed_dir: write a fresh self-signed cert+key there and serve wss.
        scenario: built-in scenario name or a TOML/JSON scenario file, for every connection (per connection
            `?scenario=NAME` overrides it).
        reply_speed: 1 = replies streamed at real-time pace; 0 = unpaced; 2 = twice as fast.
        reply_chunk_ms: duration of each reply audio chunk.
        record: record every connection into this directory (docs/recording.md).
        replay: serve this recording's server side to every client (docs/recording.md).
        require_key / require_bearer / require_ephemeral: credentials the upgrade must carry.
        max_connection_s: goAway, then close 1008 once a connection is this old.
        max_session_s: the same for a session across resumptions (not with contextWindowCompression).
        max_connection_audio_s: goAway, then close 1008 once a connection has received this many seconds of
            audio (no clock involved: tests streaming unpaced get the same connections every run).
        keep_received_audio: keep, per session, the audio it consumed (`RunningServer.received_audio()`).
        handle_ttl_s: how long a resumption handle stays valid after its session ends.
        max_handles: resumption handles kept at most, over every session (a session's newest 8 resolve; past
            this the oldest go first, never a connected session's newest).
        setup_timeout_s: close 1011 when no setup arrives within this time (None: wait forever).
        idle_timeout_s: past its setup, close 1011 a connection that sent nothing this long while no reply was
            in flight (None: never; docs/wire.md, "Limits of the local server").
        max_message_bytes: larger client frames are closed with 1009 (message too big) by websockets.
        clock: the server's monotonic clock (VAD, pacing, deadlines); tests inject a fake one.
        wall_clock: POSIX time, for ephemeral tokens' expireTime and newSessionExpireTime; tests inject a fake one.
        idle_poll_s: cap on how long the pump sleeps, so an injected clock that jumps is noticed.
        shared_store: a worker of `serve --workers N`: the SQLite file its handles, tokens and received audio
            live in (livecli.server.store); None keeps them in memory.
        worker: a worker's number (1..N), in its Server header and log; None for a lone server.
    """

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    ssl_context: ssl.SSLContext | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    tls_self_signed_dir: str | None = None
    scenario: str = "echo"
    reply_speed: float = 1.0
    reply_chunk_ms: int = 40
    record: str | None = None
    replay: str | None = None
    require_key: str | None = None
    require_bearer: str | None = None
    require_ephemeral: str | None = None
    max_connection_s: float | None = None
    max_session_s: float | None = None
    max_connection_audio_s: float | None = None
    keep_received_audio: bool = False
    handle_ttl_s: float = 7200.0
    max_handles: int = 200_000
    setup_timeout_s: float | None = 30.0
    idle_timeout_s: float | None = 600.0
    max_message_bytes: int = 16 * 2**20
    clock: Callable[[], float] = time.monotonic
    wall_clock: Callable[[], float] = time.time
    idle_poll_s: float | None = None
    shared_store: str | None = None
    worker: int | None = None
    logger: logging.Logger = field(default_factory=lambda: logging.getLogger("livecli.server"))

    @property
    def tls(self) -> bool:
        """Whether the server speaks wss."""
        return bool(self.ssl_context or self.tls_cert or self.tls_self_signed_dir)
