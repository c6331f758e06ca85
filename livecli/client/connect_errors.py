"""Every failure while opening the WebSocket, mapped to one LivecliError that names the host and what to check.

Messages name `host:port` only: never the path's query or a proxy's user:password, which may hold credentials
(what a server wrote back, such as a refusal's body, is redacted by the caller, `transport.open_link`).
"""

from __future__ import annotations

import asyncio
import errno
import os
import socket
import ssl
from urllib.parse import urljoin, urlsplit

from websockets.exceptions import (
    ConnectionClosed,
    InvalidHandshake,
    InvalidMessage,
    InvalidProxy,
    InvalidProxyStatus,
    InvalidStatus,
    InvalidURI,
    ProxyError,
    SecurityError,
    WebSocketException,
)

from livecli.errors import ConnectError, LivecliError, UsageError, http_error
from livecli.protocol.endpoints import shown_url
from livecli.protocol.google_errors import error_summary

__all__ = ["connect_error", "host_of"]


def host_of(url: str) -> str:
    """`host:port` of a URL, for messages (never the path or query, which may hold a key)."""
    parts = urlsplit(url)
    return parts.netloc.rsplit("@", 1)[-1] or url.split("?", 1)[0]


def connect_error(
    exc: BaseException, url: str, timeout: float, *, proxy: str | None = None
) -> LivecliError | None:
    """The LivecliError for a failure while connecting (None: not a connection failure, re-raise it).

    Messages name the host (never the path's query or a proxy's user:password) and what to check next.
    """
    where = host_of(url)
    secure = url.startswith("wss:")
    if isinstance(exc, LivecliError):
        return exc
    if isinstance(exc, InvalidStatus):
        response = exc.response
        if 300 <= response.status_code < 400:
            return _redirect(response.status_code, response.headers.get("Location"), url)
        return _refusal(response.status_code, error_summary(response.body), url)
    if isinstance(exc, InvalidURI):
        return UsageError(f"invalid endpoint URL: {exc.msg}")
    if isinstance(exc, InvalidProxy):
        return UsageError(f"invalid proxy in the environment: {exc.msg}")
    if isinstance(exc, asyncio.TimeoutError | TimeoutError):
        via = f" through the proxy {host_of(proxy)}" if proxy else ""
        return ConnectError(f"timed out after {timeout:g} s connecting to {where}{via}")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return ConnectError(
            f"TLS certificate of {where} not trusted: {exc.verify_message or exc.reason} "
            "(a private CA or self-signed server: set SSL_CERT_FILE to a PEM bundle that holds its CA)"
        )
    if isinstance(exc, ssl.SSLError):
        hint = " (is it a plain ws:// server?)" if "WRONG_VERSION" in str(exc.reason) else ""
        return ConnectError(f"TLS handshake with {where} failed: {exc.reason or exc}{hint}")
    if isinstance(exc, InvalidProxyStatus):
        status = exc.response.status_code
        return ConnectError(f"the proxy {host_of(proxy or '')} refused the tunnel to {where}: HTTP {status}")
    if isinstance(exc, ProxyError):
        return ConnectError(f"cannot connect through the proxy {host_of(proxy or '')}: {exc}")
    if isinstance(exc, ConnectionClosed):
        return ConnectError(f"{where} closed the connection during the WebSocket handshake")
    if isinstance(exc, InvalidMessage) and isinstance(exc.__cause__, SecurityError):
        # An HTTP answer over websockets' limits (a 1 MiB body, an 8 KiB line): HTTP, but not an upgrade.
        return ConnectError(
            f"{where} answered the WebSocket upgrade with an HTTP response too large to read "
            f"({exc.__cause__}): is --endpoint a Live API endpoint?"
        )
    if isinstance(exc, InvalidMessage) and not secure:
        return ConnectError(f"{where} did not answer the WebSocket upgrade with HTTP (a wss:// server?)")
    if isinstance(exc, InvalidHandshake):
        return ConnectError(f"WebSocket handshake with {where} failed: {exc}")
    if isinstance(exc, OSError):
        return _os_error(exc, where, secure, proxy)
    if isinstance(exc, ImportError):  # a socks:// proxy without python-socks installed
        return ConnectError(f"cannot use the proxy from the environment: {exc}")
    if isinstance(exc, WebSocketException):
        return ConnectError(f"connection to {where} failed: {exc}")
    return None


def _os_error(exc: OSError, where: str, secure: bool, proxy: str | None) -> LivecliError:
    """Refused, unreachable, unresolvable or reset: said in words, naming the proxy when it was the peer."""
    # asyncio's "Connect call failed ('127.0.0.1', 1)" is the strerror; the errno's own text says more.
    reason = os.strerror(exc.errno) if exc.errno and exc.errno > 0 else (exc.strerror or str(exc))
    if not reason and _is_reset(exc):
        reason = "connection reset by peer"
    if isinstance(exc, socket.gaierror):
        reason = exc.strerror or reason
        problem = "cannot resolve"
    else:
        problem = "cannot connect to"
    reason = reason or type(exc).__name__
    if proxy:
        return ConnectError(f"{problem} the proxy {host_of(proxy)} (from the environment): {reason}")
    hint = " during the TLS handshake (is it a plain ws:// server?)" if secure and _is_reset(exc) else ""
    return ConnectError(f"{problem} {where}: {reason}{hint}")


def _is_reset(exc: OSError) -> bool:
    return isinstance(exc, ConnectionResetError) or exc.errno == errno.ECONNRESET


def _redirect(status: int, location: str | None, url: str) -> ConnectError:
    """A 3xx on the upgrade: never followed (see `_Connect`); where it pointed is named, without a query."""
    where = f"redirecting to {shown_url(urljoin(url, location))[:200]}" if location else "with no Location"
    return ConnectError(
        f"{host_of(url)} answered the WebSocket upgrade with HTTP {status}, {where}; livecli does not follow "
        "redirects (the credentials would be sent again): pass the final URL as --endpoint"
    )


def _refusal(status: int, body: str, url: str) -> LivecliError:
    """The error for an HTTP status instead of the upgrade; a 404 names the path (never the query)."""
    if status == 404:
        path = urlsplit(url).path or "/"
        detail = f": {body}" if body and body.lower() != "not found" else ""
        return ConnectError(
            f"no Live API at {host_of(url)}{path} (HTTP 404{detail}): check --endpoint's path and --api-version"
        )
    return http_error(status, body)
