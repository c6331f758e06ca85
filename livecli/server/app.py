"""The thin asyncio pump: a websockets server feeding frames to ServerSession and sending what it schedules.

`start_server(config)` runs inside the caller's event loop; `ServerThread(config)` runs one in a background
thread with its own loop (tests, and `--local` on the client commands).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import weakref
from collections.abc import Coroutine
from types import TracebackType
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from livecli.errors import ConnectError
from livecli.protocol.redact import printable
from livecli.server.config import ServerConfig
from livecli.server.gate import decide, on_vertex
from livecli.server.http_front import RestApi, rest_front
from livecli.server.inbound_audio import PLANS
from livecli.server.pacer import Pacer
from livecli.server.pump import Pump
from livecli.server.pumped_connection import PumpedConnection
from livecli.server.record import GuardedRecorder, Recorder
from livecli.server.replay import replay_handler
from livecli.server.scenarios import Scenario, load_scenario
from livecli.server.session import ServerSession, SessionLimits
from livecli.server.store import server_stores
from livecli.server.tls import server_ssl_context
from livecli.server.tokens import Grant

__all__ = ["EscapeControls", "RunningServer", "ServerThread", "start_server"]


class EscapeControls(logging.Filter):
    """Client-supplied text (paths, names, prompts) reaches the log: control characters are shown escaped."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if not message.isprintable():
            record.msg = printable(message)
            record.args = None
        return True


# A TLS connection opens with a handshake record: content type 22, then protocol version 3.x.
_TLS_HANDSHAKE = (0x16, 0x03)


def plain_port_connection(logger: logging.Logger) -> type[PumpedConnection]:
    """The connection class of a plain ws:// server: it notices a TLS ClientHello (a client that dialled
    wss://) and logs a hint, where websockets alone would see only an invalid HTTP request and the client only
    a reset during its TLS handshake."""

    class PlainPortConnection(PumpedConnection):
        _first_bytes_seen = False

        def data_received(self, data: bytes) -> None:
            if not self._first_bytes_seen and data:
                self._first_bytes_seen = True
                if tuple(data[:2]) == _TLS_HANDSHAKE:
                    peer = self.remote_address
                    logger.warning(
                        "a TLS ClientHello from %s reached this plain ws:// port: connect with ws://, or start "
                        "serve with --tls-self-signed DIR (or --tls-cert/--tls-key) to serve wss://",
                        f"{peer[0]}:{peer[1]}" if peer else "a client",
                    )
            super().data_received(data)

    return PlainPortConnection


class RunningServer:
    """A listening server: `.url` (base URL, no path), `.port`, `await .close()`."""

    def __init__(self, config: ServerConfig, scenario: Scenario, tls: bool) -> None:
        self.config = config
        self.scenario = scenario
        # Handles, the ephemeral tokens minted by POST /v1alpha/auth_tokens, and (tests) the audio sessions
        # received: in memory, or shared by every worker of `serve --workers N` (livecli.server.store).
        self.store, self.tokens, self.received = server_stores(config)
        secrets = [s for s in (config.require_key, config.require_bearer, config.require_ephemeral) if s]
        recorder = Recorder(config.record, config.clock, secrets=secrets) if config.record else None
        self.recorder = GuardedRecorder(recorder, config.logger)  # (False without --record)
        self.tls = tls
        self.port = 0
        self.url = ""
        self.sessions: dict[int, ServerSession] = {}
        self._server: Server | None = None
        self._ids = itertools.count(1)
        self._closing: set[asyncio.Task[None]] = set()  # close handshakes under way
        self.pacer = Pacer(config.clock, config.idle_poll_s)  # one timer for every connection's next deadline
        # The scenario chosen at upgrade, per connection (weak: a failed handshake leaves nothing behind).
        self._scenarios: weakref.WeakKeyDictionary[ServerConnection, Scenario] = weakref.WeakKeyDictionary()
        self._grants: weakref.WeakKeyDictionary[ServerConnection, Grant] = weakref.WeakKeyDictionary()
        if not any(isinstance(f, EscapeControls) for f in config.logger.filters):
            config.logger.addFilter(EscapeControls())

    def _limits(self) -> SessionLimits:
        c = self.config
        return SessionLimits(
            reply_speed=c.reply_speed,
            reply_chunk_ms=c.reply_chunk_ms,
            max_connection_s=c.max_connection_s,
            max_session_s=c.max_session_s,
            setup_timeout_s=c.setup_timeout_s,
            max_connection_audio_s=c.max_connection_audio_s,
            idle_timeout_s=c.idle_timeout_s,
        )

    def received_audio(self) -> dict[str, bytes]:
        """Session id → the PCM of every audio Blob the session consumed, in order, as sent (a transparent
        resumption rolls it back to its handle); only with `ServerConfig.keep_received_audio`, else empty."""
        return self.received.sessions() if self.received is not None else {}

    def process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        """Refuse bad paths, credentials and `http-*` scenarios at upgrade; remember the connection's scenario."""
        headers = {k.lower(): v for k, v in request.headers.raw_items()}
        decision = decide(request.path, headers, self.config, self.scenario, self.tokens)
        if decision.status is not None or decision.scenario is None:
            status = decision.status or 500
            self.config.logger.info("refused upgrade %s: HTTP %d", request.path.split("?")[0], status)
            response = connection.respond(status, decision.body + "\n")
            if decision.body.startswith("{"):
                response.headers["Content-Type"] = "application/json; charset=UTF-8"
            return response
        self._scenarios[connection] = decision.scenario
        if decision.grant is not None:
            self._grants[connection] = decision.grant
        return None

    async def handler(self, connection: ServerConnection) -> None:
        """Run one connection: messages go into the session (most of them as the connection reads them, see
        livecli.server.pumped_connection); what falls due is sent at once or when the pacer's timer fires."""
        config = self.config
        clock = config.clock
        scenario = self._scenarios.pop(connection, self.scenario)
        conn_id = next(self._ids)
        grant = self._grants.pop(connection, None)
        vertex = connection.request is not None and on_vertex(connection.request.path)
        session = ServerSession(
            scenario,
            self.store,
            clock(),
            self._limits(),
            config.logger,
            grant,
            vertex=vertex,
            received=self.received,
        )
        self.sessions[conn_id] = session
        config.logger.info("connection %d opened (scenario %s)", conn_id, scenario.name)
        path = connection.request.path.split("?")[0] if connection.request else ""
        self.recorder.write("event", conn_id, "conn", "open", path=path)
        assert isinstance(connection, PumpedConnection)  # start_server's connection class, plain or TLS
        pump = Pump(self, connection, session, conn_id)
        connection.pump = pump
        self.pacer.schedule(pump, session.deadline())  # the setup timeout
        try:
            # What the pump did not take at once: in order, a turn of the loop each while more are queued (a
            # client whose messages are all buffered cannot keep the loop to itself).
            async for message in connection:
                await self._prepare_rates(session, message)
                pump.take(message)
                connection.backlog -= 1
                if connection.backlog:
                    await asyncio.sleep(0)
        except ConnectionClosed:
            pass
        except Exception:
            pump.fail()
        finally:
            connection.pump = None
            session.connection_closed(clock())
            await pump.closed()
            self.sessions.pop(conn_id, None)
            reason = connection.close_reason
            config.logger.info(
                "connection %d closed: %s%s", conn_id, connection.close_code, f" {reason}" if reason else ""
            )
            self.recorder.write("event", conn_id, "conn", "closed", code=connection.close_code)

    @staticmethod
    async def _prepare_rates(session: ServerSession, message: str | bytes) -> None:
        """The filters for audio rates a frame declares are built in a thread before the session reads it: a
        client switching rates cannot hold the event loop (docs/wire.md, "Limits of the local server")."""
        if session.input is not None:
            for rate in session.input.inbound.unbuilt_rates(message):
                await asyncio.to_thread(PLANS.build, rate)

    def background(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` (a close handshake) in a task the server keeps until it ends."""
        task = asyncio.get_running_loop().create_task(work)
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def close(self) -> None:
        """Stop listening and close every connection."""
        self.pacer.close()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        self.recorder.close()


async def start_server(config: ServerConfig) -> RunningServer:
    """Start listening in the running event loop; raise ConnectError if the address is unavailable."""
    scenario = load_scenario(config.scenario)
    ssl_context = server_ssl_context(config)
    running = RunningServer(config, scenario, ssl_context is not None)
    handler = running.handler
    if config.replay is not None:  # serve --replay DIR: the recording's server side instead of the simulation
        handler = replay_handler(config.replay, config.reply_speed, config.logger, running.recorder)
    try:
        server = await serve(
            handler,
            config.host,
            config.port,
            ssl=ssl_context,
            process_request=running.process_request,
            compression=None,
            max_size=config.max_message_bytes,
            # A worker of `serve --workers N` names itself (docs/wire.md, "Workers"); its siblings bind the port.
            server_header="livecli" if config.worker is None else f"livecli (worker {config.worker})",
            reuse_port=config.worker is not None or None,
            # REST calls (POST /v1alpha/auth_tokens) are answered beside the upgrades, on the same port.
            create_connection=rest_front(
                PumpedConnection if ssl_context else plain_port_connection(config.logger),
                RestApi(config, running.tokens),
            ),
        )
    except OSError as exc:
        raise ConnectError(f"cannot listen on {config.host}:{config.port}: {exc.strerror or exc}") from exc
    running._server = server
    sockname: Any = next(iter(server.sockets)).getsockname()
    running.port = int(sockname[1])
    host = config.host if config.host not in ("", "0.0.0.0", "::") else "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    running.url = f"{'wss' if ssl_context else 'ws'}://{host}:{running.port}"
    config.logger.info("listening on %s (scenario %s)", running.url, scenario.name)
    return running


class ServerThread:
    """A server on its own event loop in a daemon thread: `with ServerThread(cfg) as s: ... s.url`."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.running: RunningServer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="livecli-server", daemon=True)

    @property
    def url(self) -> str:
        """The base URL, e.g. `ws://127.0.0.1:40123`."""
        assert self.running is not None
        return self.running.url

    @property
    def port(self) -> int:
        """The port actually bound."""
        assert self.running is not None
        return self.running.port

    def start(self) -> ServerThread:
        """Start the thread and wait until the server listens (or re-raise why it could not)."""
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise self._error
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported to the starting thread
            self._error = exc
            self._ready.set()
        finally:
            loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        self.running = await start_server(self.config)
        self._ready.set()
        await self._stop.wait()
        await self.running.close()

    def stop(self) -> None:
        """Close the server and join the thread."""
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=10)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
