"""The WebSocket link: a thin asyncio adapter over websockets' client that maps every failure to one LivecliError.

No protocol decisions here: the caller feeds received frames to the sans-I/O `ClientSession` and sends what
it returns. Connection choices (docs/wire.md, "Connection"):

- keepalive: ping every 20 s, but wait 60 s for the pong — the service sometimes answers pings after 8–30 s,
  and websockets' default 20 s timeout turns that into a self-inflicted `1011 keepalive ping timeout`;
- no permessage-deflate: deflating base64 PCM saves ~20 % of bytes for a large CPU cost per frame on the hot
  path (and the service's replies are the same base64), so the socket stays uncompressed;
- wss is always verified (`ssl.create_default_context`, which trusts `SSL_CERT_FILE`/`SSL_CERT_DIR`);
- proxies from the environment (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`) apply unless the target
  says otherwise (loopback hosts and `--local` always connect directly);
- no redirect is followed, everything the server writes is redacted of the credentials (`Link`), a send blocked
  by a server that stopped reading fails, and a close frame ends the connection at once.

Which LivecliError a failure to connect becomes is `connect_errors`' business.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from livecli import __version__
from livecli.client.connect_errors import connect_error
from livecli.errors import ConnectError, LivecliError, ProtocolError, UsageError
from livecli.protocol.endpoints import Target, shown_url
from livecli.protocol.redact import Redactor, redact_url

__all__ = [
    "MAX_MESSAGE_BYTES",
    "PING_INTERVAL_S",
    "PING_TIMEOUT_S",
    "Closed",
    "Link",
    "LinkClosed",
    "LinkTap",
    "env_proxy",
    "open_link",
]

PING_INTERVAL_S = 20.0
PING_TIMEOUT_S = 60.0
# Replies arrive in small chunks, but a server may batch seconds of audio (base64) into one frame.
MAX_MESSAGE_BYTES = 64 * 2**20
CLOSE_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class Closed:
    """How the connection ended: the close code and reason exactly as received (1006, "" without a frame).

    `by_us`: livecli closed it on purpose (nothing to report). `refused`: livecli failed it itself, with the code
    and reason it sent: a frame it cannot take (1002 protocol error, 1007 invalid UTF-8, 1009 too big) or no
    pong in time (1011); the server never said a word, so this is not its close, nor a drop (1006).
    """

    code: int
    reason: str
    by_us: bool
    refused: bool = False

    def refusal(self) -> LivecliError:
        """The error for a connection livecli failed itself (`refused`)."""
        what = f"livecli closed the connection: {self.code} {self.reason}".rstrip()
        if self.code in _REFUSED_FRAME:
            limit = f"; livecli takes frames up to {MAX_MESSAGE_BYTES // 2**20} MiB" if self.code == 1009 else ""
            return ProtocolError(f"{what} (the server sent a frame livecli cannot take{limit})")
        if self.code == 1011:
            return ConnectError(f"{what} (the server answered no ping for {PING_TIMEOUT_S:g} s)")
        return ConnectError(what)


# The close codes with which websockets refuses a server's frame (docs/wire.md, "Close codes").
_REFUSED_FRAME = frozenset({1002, 1007, 1009})


def env_proxy(url: str, environ: Mapping[str, str]) -> str | None:
    """The proxy the environment asks for to reach `url` (curl's rules: lower-case first, NO_PROXY honoured)."""

    def get(name: str) -> str | None:
        return environ.get(name.lower()) or environ.get(name.upper()) or None

    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    for entry in (get("no_proxy") or "").split(","):
        entry = entry.strip().lower().lstrip(".")
        if entry == "*" or (entry and (host == entry or host.endswith("." + entry))):
            return None
    names = ("https_proxy", "all_proxy") if parts.scheme == "wss" else ("http_proxy", "https_proxy", "all_proxy")
    for name in names:
        proxy = get(name)
        if proxy:
            return proxy
    return None


def tls_context(environ: Mapping[str, str]) -> ssl.SSLContext:
    """A verifying client context; SSL_CERT_FILE / SSL_CERT_DIR replace the default trust store, as in OpenSSL."""
    cafile = environ.get("SSL_CERT_FILE") or None
    capath = environ.get("SSL_CERT_DIR") or None
    return ssl.create_default_context(cafile=cafile, capath=capath)


class _CoalescingConnection(ClientConnection):
    """A connection whose pending frames leave in one transport write (one TLS pass, one syscall).

    websockets writes each frame with its own `transport.write`; when several audio chunks are already due
    (`--speed 0`, or catching up after a stall) that is one TLS record and one system call per 40 ms chunk.
    Frames and messages on the wire are unchanged: only the writes are merged.
    """

    def send_data(self) -> None:
        pending: list[bytes] = []
        for data in self.protocol.data_to_send():
            if data:
                pending.append(data)
                continue
            self._write(pending)
            pending = []
            # The end-of-stream marker, handled as websockets' own send_data does: half-close, else close.
            if self.transport.can_write_eof():
                with contextlib.suppress(Exception):
                    self.transport.write_eof()
            else:
                self.transport.close()
        self._write(pending)

    def _write(self, pending: list[bytes]) -> None:
        if len(pending) == 1:
            self.transport.write(pending[0])
        elif pending:
            self.transport.writelines(pending)

    def data_received(self, data: bytes) -> None:
        """Read as websockets does, but end the connection as soon as the server's close frame is in (docs/wire.md,
        "Connection").

        websockets answers the close (the echo is written here, or queued behind frames not yet sent) and then
        waits for the server to end the TCP connection before anyone learns of the close. A server that stopped
        reading never sees the echo and waits its own close timeout (10 s by default): the close, with its code
        and reason, came that much later, and a reply timeout under 10 s said "no reply" instead.
        """
        super().data_received(data)
        if self.protocol.close_rcvd is not None:
            self.transport.abort()


class _Connect(connect):
    """websockets' connect, except that no redirect is followed (docs/wire.md, "Connection").

    websockets follows redirects, and strips only Authorization, Cookie and Proxy-Authorization on the way to
    another origin: x-goog-api-key would go along, and on the same origin every credential is sent again to
    wherever the server points. The service does not redirect the upgrade, so a redirect comes from a gateway or a
    hostile endpoint: the 3xx is returned as is, and `connect_error` reports it naming its Location.
    """

    def process_redirect(self, exc: Exception) -> Exception | str:
        return exc


class LinkTap(Protocol):
    """Sees every frame a link sends and receives (received ones redacted), and how it ended: `--record`
    (client/record). One tap may follow several links in turn (reconnects): `connected` starts each."""

    def connected(self, url: str) -> None: ...

    def sent(self, frames: list[str]) -> None: ...

    def received(self, frame: str | bytes) -> None: ...

    def ended(self, closed: Closed) -> None: ...


class Link:
    """One open WebSocket: `send(frames)`, `recv()`, `close()`; `closed` records how it ended.

    Everything the server wrote reaches the caller through `redactor` (the target's secrets replaced by ***):
    each frame `recv()` returns and the close reason in `closed`. This is the one redaction point of the
    client; the session, the renderers and every error built from server text only ever see its output.
    A `tap` sees the same frames (and what was sent), so a recording holds only what the client saw.
    """

    def __init__(
        self,
        ws: ClientConnection,
        redactor: Redactor,
        send_stall_s: float | None = None,
        tap: LinkTap | None = None,
    ) -> None:
        self._ws = ws
        self._redactor = redactor
        self._send_stall_s = send_stall_s or None  # 0: no limit
        self._tap = tap
        self.closed: Closed | None = None

    async def send(self, frames: str | list[str]) -> None:
        """Send one text message, or several in one write; a closed connection raises `LinkClosed`.

        A send that cannot finish within `send_stall_s` (the server stopped reading, and the socket's buffers
        are full) ends the connection with a ConnectError: nothing else would notice, since the keepalive's
        pings queue behind the same blocked write.
        """
        self._raise_if_gone()
        try:
            async with asyncio.timeout(self._send_stall_s):
                if isinstance(frames, str):
                    await self._ws.send(frames)
                else:
                    async with self._ws.send_context():  # one context: the frames leave in one write
                        for frame in frames:
                            self._ws.protocol.send_text(frame.encode())
            if self._tap is not None:
                self._tap.sent([frames] if isinstance(frames, str) else frames)
        except ConnectionClosed as exc:
            raise self._closed_by(exc) from None
        except TimeoutError:
            self.closed = Closed(1006, "", by_us=True)
            self._tell_tap()
            self._ws.transport.abort()
            raise ConnectError(
                f"the server stopped reading: nothing could be sent for {self._send_stall_s:g} s (--timeout)"
            ) from None

    async def recv(self) -> str | bytes:
        """The next frame (text or binary, as sent); a closed connection raises `LinkClosed`."""
        try:
            frame = self._redactor.frame(await self._ws.recv())
        except ConnectionClosed as exc:
            raise self._closed_by(exc) from None
        if self._tap is not None:
            self._tap.received(frame)
        return frame

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close cleanly (waits up to CLOSE_TIMEOUT_S for the server's close frame); never raises."""
        if self.closed is None:
            self.closed = Closed(code, reason, by_us=True)
        self._tell_tap()
        if self._ws.connection_lost_waiter.done():
            return  # nothing left to close (and websockets would abort a dead transport: see `_raise_if_gone`)
        with contextlib.suppress(OSError, WebSocketException, TimeoutError):
            await self._ws.close(code, reason)

    def _raise_if_gone(self) -> None:
        """Raise `LinkClosed` when the TCP connection is already gone, without asking websockets to write.

        Once the transport has called connection_lost, websockets' send and close abort it again, and CPython
        3.11's socket transport fails with AttributeError (`None.call_soon`) when it had already closed itself
        after flushing a large write (what a prompt over the server's frame limit does): the server's 1009 was
        then reported as an internal error.
        """
        if self._ws.connection_lost_waiter.done():
            raise self._closed_by(self._ws.protocol.close_exc)

    def _closed_by(self, exc: ConnectionClosed) -> LinkClosed:
        if self.closed is None or not self.closed.by_us:
            frame, sent = exc.rcvd, exc.sent
            if frame is not None:
                self.closed = Closed(frame.code, self._redactor.text(frame.reason), by_us=False)
            elif sent is not None:  # websockets failed the connection itself
                self.closed = Closed(sent.code, sent.reason, by_us=False, refused=True)
            else:
                self.closed = Closed(1006, "", by_us=False)
        self._tell_tap()
        return LinkClosed(self.closed)

    def _tell_tap(self) -> None:
        """The tap learns how the link ended, once."""
        if self._tap is not None and self.closed is not None:
            tap, self._tap = self._tap, None
            tap.ended(self.closed)


class LinkClosed(Exception):
    """The connection is closed; the session maps `closed` to the right LivecliError (it knows the phase)."""

    def __init__(self, closed: Closed) -> None:
        super().__init__(f"connection closed: {closed.code} {closed.reason}".rstrip())
        self.closed = closed


async def open_target_link(
    target: Target,
    *,
    timeout: float,
    environ: Mapping[str, str],
    secrets: Iterable[str] | None = None,
    send_stall_s: float | None = None,
    tap: LinkTap | None = None,
) -> Link:
    """`open_link` to a resolved Target: its URL, headers, proxy rule and credentials (`secrets`: every credential
    to mask, when more than the target's own, such as a refreshed token's predecessors)."""
    return await open_link(
        target.url,
        target.headers,
        timeout=timeout,
        environ=environ,
        use_env_proxy=target.use_env_proxy,
        secrets=target.secrets if secrets is None else secrets,
        send_stall_s=send_stall_s,
        tap=tap,
    )


async def open_link(
    url: str,
    headers: Mapping[str, str],
    *,
    timeout: float,
    environ: Mapping[str, str],
    use_env_proxy: bool,
    secrets: Iterable[str] = (),
    send_stall_s: float | None = None,
    ssl_context: ssl.SSLContext | None = None,
    tap: LinkTap | None = None,
) -> Link:
    """Open the WebSocket (TCP, proxy, TLS, upgrade) within `timeout` seconds.

    `secrets` (the credentials in `headers` and `url`) are replaced by *** in everything the server sends back:
    an upgrade refusal's body, a redirect's Location, frames and close reasons (see `Link`). A send that cannot
    finish within `send_stall_s` seconds ends the connection (None or 0: no limit). `tap` (`--record`) sees
    the connection open (its URL redacted), every frame, and how it ended.

    Raises:
        UsageError: the URL is not a valid ws:// or wss:// URL, or the proxy in the environment is not usable.
        CredentialsError / QuotaError / ConnectError: the upgrade was refused (by HTTP status), or the
            connection could not be made (refused, DNS, TLS, timeout, proxy).
    """
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- parsing the port is the check (websockets would raise a bare ValueError)
    except ValueError as exc:
        raise UsageError(f"invalid endpoint URL {shown_url(url)}: {exc}") from None
    scheme = parts.scheme
    if scheme not in ("ws", "wss"):
        raise UsageError(f"endpoint must be a ws:// or wss:// URL, not {scheme or 'a bare name'}://…")
    secure = scheme == "wss"
    proxy = env_proxy(url, environ) if use_env_proxy else None
    secrets = tuple(secrets)
    redactor = Redactor(secrets)
    try:
        ws = await _Connect(
            url,
            additional_headers=dict(headers),
            user_agent_header=f"livecli/{__version__}",
            open_timeout=timeout,
            ping_interval=PING_INTERVAL_S,
            ping_timeout=PING_TIMEOUT_S,
            close_timeout=CLOSE_TIMEOUT_S,
            compression=None,
            max_size=MAX_MESSAGE_BYTES,
            proxy=proxy,
            ssl=(ssl_context or tls_context(environ)) if secure else None,
            create_connection=_CoalescingConnection,
        )
    except BaseException as exc:
        mapped = connect_error(exc, url, timeout, proxy=proxy)
        if mapped is None:
            raise
        raise redactor.error(mapped) from exc
    if tap is not None:
        tap.connected(redact_url(url, secrets))
    return Link(ws, redactor, send_stall_s, tap)
