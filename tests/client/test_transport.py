"""The WebSocket link against real sockets on 127.0.0.1: headers, TLS, proxies, close codes, error mapping."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import trustme
from helpers import LocalServer, local_server, ws_server
from websockets.asyncio.server import ServerConnection

from livecli.client.transport import PING_TIMEOUT_S, Link, LinkClosed, env_proxy, open_link
from livecli.errors import ConnectError, CredentialsError, QuotaError, UsageError


async def echo(ws: ServerConnection) -> None:
    async for message in ws:
        await ws.send(message)


async def link_to(url: str, environ: dict[str, str] | None = None, proxy: bool = False, **kw: Any) -> Link:
    return await open_link(url, {"x-test": "1"}, timeout=5, environ=environ or {}, use_env_proxy=proxy, **kw)


async def test_upgrade_headers_and_connection_settings() -> None:
    """Our headers and user agent go out; no permessage-deflate is offered; the ping timeout is long."""
    async with ws_server(echo) as (url, requests):
        link = await link_to(url)
        await link.send("hi")
        assert await link.recv() == "hi"
        assert link._ws.ping_timeout == PING_TIMEOUT_S
        await link.close()
        headers = requests[0].headers
        assert headers["x-test"] == "1"
        assert headers["User-Agent"].startswith("livecli/")
        assert "Sec-WebSocket-Extensions" not in headers
        assert link.closed is not None
        assert link.closed.by_us


async def test_several_frames_leave_in_one_write_as_separate_messages() -> None:
    """send([a, b, c]): three text messages in order, written with one transport call; close still works."""

    async def collect(ws: ServerConnection) -> None:
        got = [await ws.recv() for _ in range(3)]
        await ws.send("|".join(str(m) for m in got))
        await ws.wait_closed()

    async with ws_server(collect) as (url, _):
        link = await link_to(url)
        writes: list[int] = []
        transport = link._ws.transport
        original = transport.writelines

        def counted(data: Any) -> None:
            chunks = list(data)
            writes.append(len(chunks))
            original(chunks)

        transport.writelines = counted  # type: ignore[method-assign]
        await link.send(['{"a":1}', '{"b":2}', '{"c":3}'])
        assert await link.recv() == '{"a":1}|{"b":2}|{"c":3}'
        assert writes == [3]
        await link.close()
        assert link.closed is not None
        assert link.closed.by_us


@pytest.mark.parametrize(
    ("code", "reason"), [(4000, "weird reason ✓ with\ttab"), (1011, "Internal error encountered.")]
)
async def test_close_code_and_reason_are_kept_verbatim(code: int, reason: str) -> None:
    """The server's close code and reason reach the caller byte for byte."""

    async def closer(ws: ServerConnection) -> None:
        await ws.close(code, reason)

    async with ws_server(closer) as (url, _):
        link = await link_to(url)
        with pytest.raises(LinkClosed) as info:
            await link.recv()
        assert (info.value.closed.code, info.value.closed.reason, info.value.closed.by_us) == (
            code,
            reason,
            False,
        )


async def test_abrupt_drop_is_1006() -> None:
    """A TCP drop without a close frame is reported as 1006 with an empty reason."""

    async def dropper(ws: ServerConnection) -> None:
        ws.transport.abort()

    async with ws_server(dropper) as (url, _):
        link = await link_to(url)
        with pytest.raises(LinkClosed) as info:
            await link.recv()
        assert (info.value.closed.code, info.value.closed.reason) == (1006, "")


@pytest.mark.parametrize(
    ("scenario", "error", "needle"),
    [
        (
            "http-401",
            CredentialsError,
            "HTTP 401: UNAUTHENTICATED: API key not valid. Please pass a valid API key.",
        ),
        ("http-429", QuotaError, "HTTP 429: RESOURCE_EXHAUSTED: Resource has been exhausted"),
    ],
)
async def test_http_refusals_map_by_status(
    live_server: LocalServer, scenario: str, error: type, needle: str
) -> None:
    """An upgrade refused with an HTTP status maps to credentials / quota errors; a Google JSON error body is
    shown as its status and message (not as raw JSON)."""
    with pytest.raises(error) as info:
        await link_to(live_server.endpoint(scenario))
    assert needle in str(info.value)
    assert "{" not in str(info.value)


async def test_unknown_path_names_the_path_not_the_query(live_server: LocalServer) -> None:
    """HTTP 404 at upgrade is a connection error (exit 4) that shows which path was missing."""
    with pytest.raises(ConnectError, match=r"no Live API at 127\.0\.0\.1:\d+/nowhere \(HTTP 404\)") as info:
        await link_to(live_server.url + "/nowhere?key=SECRET")
    assert "SECRET" not in str(info.value)
    assert "--endpoint" in str(info.value)


async def test_bad_scheme_dead_port_and_unknown_host() -> None:
    """http:// is a usage error; a closed port says "Connection refused" naming host:port only; a name that
    does not resolve says so."""
    with pytest.raises(UsageError):
        await link_to("http://127.0.0.1:1/x")
    with pytest.raises(ConnectError, match=r"^cannot connect to 127\.0\.0\.1:1: Connection refused$"):
        await link_to("ws://127.0.0.1:1/x?key=SECRET")
    with pytest.raises(ConnectError, match=r"^cannot resolve no-such-host\.invalid: "):
        await link_to("ws://no-such-host.invalid/x")


async def test_wrong_scheme_for_the_server_says_which_to_try(live_server: LocalServer, tmp_path: Path) -> None:
    """ws:// to a TLS server and wss:// to a plain one: the message suggests the other scheme."""
    with (
        local_server(tls_self_signed_dir=str(tmp_path)) as tls,
        pytest.raises(ConnectError, match=r"a wss:// server\?"),
    ):
        await link_to(tls.url.replace("wss://", "ws://") + "/x")
    with pytest.raises(ConnectError, match=r"plain ws:// server\?"):
        await link_to(live_server.url.replace("ws://", "wss://") + "/x")


async def test_tls_is_verified_and_ssl_cert_file_is_honoured(tmp_path: Path) -> None:
    """wss to a self-signed server fails verification, and works once SSL_CERT_FILE names its CA."""
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    with local_server(ssl_context=server_ctx) as server:
        url = server.endpoint()
        assert url.startswith("wss://")
        with pytest.raises(ConnectError, match=r"not trusted: .*set SSL_CERT_FILE to a PEM bundle"):
            await link_to(url)
        link = await link_to(url, environ={"SSL_CERT_FILE": str(ca_file)})
        await link.close()


def test_env_proxy_rules() -> None:
    """HTTPS_PROXY for wss, HTTP_PROXY for ws, lower case first, NO_PROXY suffixes and * honoured."""
    env = {"HTTPS_PROXY": "http://p:1", "http_proxy": "http://q:2", "HTTP_PROXY": "http://ignored:3"}
    assert env_proxy("wss://a.example/x", env) == "http://p:1"
    assert env_proxy("ws://a.example/x", env) == "http://q:2"
    assert env_proxy("wss://a.example/x", {**env, "NO_PROXY": "b.example,.example"}) is None
    assert env_proxy("wss://example/x", {**env, "no_proxy": "*"}) is None
    assert env_proxy("wss://a.example/x", {"ALL_PROXY": "http://r:4"}) == "http://r:4"
    assert env_proxy("wss://a.example/x", {}) is None


async def test_proxy_from_environment_is_used_only_when_allowed(live_server: LocalServer) -> None:
    """With use_env_proxy the link tunnels through HTTP_PROXY (CONNECT); without it, it connects directly."""
    tunnels: list[bytes] = []

    async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        tunnels.append(head.split(b"\r\n", 1)[0])
        host, port = head.split()[1].decode().rsplit(":", 1)
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            while data := await src.read(65536):
                dst.write(data)
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer), return_exceptions=True)

    server = await asyncio.start_server(proxy, "127.0.0.1", 0)
    environ = {"HTTP_PROXY": f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"}
    async with server:
        link = await link_to(live_server.endpoint(), environ, proxy=False)
        await link.close()
        assert tunnels == []
        link = await link_to(live_server.endpoint(), environ, proxy=True)
        await link.close()
        assert tunnels
        assert tunnels[0].startswith(b"CONNECT 127.0.0.1:")


async def test_proxy_failures_name_the_proxy_without_its_credentials() -> None:
    """A proxy that refuses the tunnel (407) or is not listening: the error names the proxy's host:port, never
    the user:password in its URL, and not the target as if it had refused."""

    async def refuse(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(refuse, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        environ = {"HTTPS_PROXY": f"http://user:hunter2@127.0.0.1:{port}"}
        with pytest.raises(ConnectError, match=rf"proxy 127\.0\.0\.1:{port} refused the tunnel to .*HTTP 407"):
            await link_to("wss://example.test/x", environ, proxy=True)
    with pytest.raises(ConnectError, match=r"cannot connect to the proxy 127\.0\.0\.1:1 .*refused") as info:
        await link_to("wss://example.test/x", {"HTTPS_PROXY": "http://user:hunter2@127.0.0.1:1"}, proxy=True)
    assert "hunter2" not in str(info.value)
    assert "example.test" not in str(info.value)


@asynccontextmanager
async def raw_server(reply: bytes = b"", *, read_request: bool = True) -> AsyncIterator[int]:
    """A TCP server on 127.0.0.1 (yields its port) that reads one HTTP request head (unless `read_request` is
    false), writes `reply`, then holds the connection until the client hangs up. Handlers are awaited on exit."""
    handlers: list[asyncio.Task[None]] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handlers.append(asyncio.current_task())  # type: ignore[arg-type]
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            if read_request:
                await reader.readuntil(b"\r\n\r\n")
            writer.write(reply)
            await writer.drain()
            await reader.read()  # until the client closes its end
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    async with server:
        try:
            yield server.sockets[0].getsockname()[1]
        finally:
            if handlers:
                await asyncio.wait(handlers, timeout=5)


BAD_ACCEPT = (
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Accept: nope\r\n\r\n"
)
NOT_GOOGLE_JSON = b'HTTP/1.1 500 Oops\r\nContent-Length: 15\r\n\r\n{"detail": "x"}'


@pytest.mark.parametrize(
    ("scheme", "reply", "read_request", "message"),
    [
        # A refusal whose JSON body is not a Google error: shown as text (it used to escape as a KeyError).
        ("ws", NOT_GOOGLE_JSON, True, r'^endpoint refused the connection: HTTP 500: \{"detail": "x"\}$'),
        (
            "ws",
            BAD_ACCEPT,
            True,
            r"^WebSocket handshake with 127\.0\.0\.1:\d+ failed: invalid Sec-WebSocket-Accept",
        ),
        ("ws", b"", True, r"^timed out after 0\.3 s connecting to 127\.0\.0\.1:\d+$"),
        (
            "wss",
            b"SSH-2.0-OpenSSH\r\n",
            False,
            r"TLS handshake with 127\.0\.0\.1:\d+ failed: .*plain ws:// server\?",
        ),
    ],
    ids=["non-google-json-refusal", "bad-accept", "silent", "not-tls"],
)
async def test_handshake_failures_are_one_connect_error(
    scheme: str, reply: bytes, read_request: bool, message: str
) -> None:
    """Each way a server can spoil the opening handshake is one ConnectError naming host:port."""
    async with raw_server(reply, read_request=read_request) as port:
        with pytest.raises(ConnectError, match=message):
            await open_link(f"{scheme}://127.0.0.1:{port}/x", {}, timeout=0.3, environ={}, use_env_proxy=False)


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (b"", r"^timed out after 0\.3 s connecting to example\.test through the proxy 127\.0\.0\.1:\d+$"),
        (b"garbage\r\n\r\n", r"^cannot connect through the proxy 127\.0\.0\.1:\d+: "),
    ],
    ids=["silent-proxy", "garbled-proxy"],
)
async def test_proxy_handshake_failures_name_the_proxy(reply: bytes, message: str) -> None:
    """A proxy that never answers CONNECT, or answers with something that is not HTTP."""
    async with raw_server(reply) as port:
        environ = {"HTTPS_PROXY": f"http://user:hunter2@127.0.0.1:{port}"}
        with pytest.raises(ConnectError, match=message) as info:
            await open_link("wss://example.test/x", {}, timeout=0.3, environ=environ, use_env_proxy=True)
        assert "hunter2" not in str(info.value)


@pytest.mark.parametrize(
    ("url", "environ", "message"),
    [
        ("ws:///x", {}, r"^invalid endpoint URL: .*hostname"),
        ("ws://127.0.0.1:99999/x", {}, r"^invalid endpoint URL ws://127\.0\.0\.1:99999/x: Port out of range"),
        ("ws://[::1/x?key=SECRET", {}, r"^invalid endpoint URL ws://\[::1/x: Invalid IPv6 URL$"),
        ("wss://example.test/x", {"HTTPS_PROXY": "ftp://127.0.0.1:1"}, r"^invalid proxy in the environment: "),
    ],
    ids=["no-host", "port-out-of-range", "broken-ipv6", "ftp-proxy"],
)
async def test_bad_urls_are_usage_errors(url: str, environ: dict[str, str], message: str) -> None:
    """A URL or proxy websockets cannot use is bad input (one line), not a traceback."""
    with pytest.raises(UsageError, match=message):
        await open_link(url, {}, timeout=1, environ=environ, use_env_proxy=True)


@pytest.mark.skipif(importlib.util.find_spec("python_socks") is not None, reason="python-socks is installed")
async def test_socks_proxy_without_python_socks_says_so() -> None:
    with pytest.raises(ConnectError, match=r"^cannot use the proxy from the environment: .*python-socks"):
        await link_to("wss://example.test/x", {"ALL_PROXY": "socks5://127.0.0.1:1"}, proxy=True)


async def test_cancelling_a_connect_is_not_a_connection_error() -> None:
    """Cancellation (Ctrl-C) while the handshake waits is re-raised as is, not mapped to a ConnectError."""
    async with raw_server() as port:
        attempt = asyncio.create_task(link_to(f"ws://127.0.0.1:{port}/x"))
        await asyncio.sleep(0.05)
        attempt.cancel()
        with pytest.raises(asyncio.CancelledError):
            await attempt


async def test_send_after_the_server_closed_raises_link_closed() -> None:
    """send() on a connection the server closed reports the server's close code, like recv() does."""

    async def closer(ws: ServerConnection) -> None:
        await ws.close(1008, "policy")

    async with ws_server(closer) as (url, _):
        link = await link_to(url)
        await link._ws.wait_closed()
        with pytest.raises(LinkClosed) as info:
            await link.send("late")
        assert info.value.closed.code == 1008
        assert info.value.closed.reason == "policy"


async def test_a_redirect_to_another_host_is_refused_so_the_key_stays_home() -> None:
    """websockets follows a redirect and strips only Authorization and Cookie on the way to another origin:
    x-goog-api-key would go along. livecli refuses it (as `livecli token` does) and names where it pointed."""
    async with ws_server(lambda ws: ws.wait_closed()) as (elsewhere, seen):
        async with ws_server(echo, redirect=("*", elsewhere)) as (url, _):
            with pytest.raises(ConnectError, match=r"redirect.*127\.0\.0\.1:\d+.*--endpoint") as info:
                await open_link(
                    url,
                    {"x-goog-api-key": "SECRET-KEY-123"},
                    timeout=5,
                    environ={},
                    use_env_proxy=False,
                )
        assert seen == []
        assert "SECRET" not in str(info.value)


async def test_a_redirect_on_the_same_host_is_refused_too() -> None:
    """Same scheme, host and port: still not followed (the credentials would be sent again); the path is named."""
    async with ws_server(echo, redirect=("/old", "/new")) as (url, accepted):
        with pytest.raises(ConnectError, match=r"HTTP 302, redirecting to ws://127\.0\.0\.1:\d+/new;"):
            await link_to(url.replace("/path", "/old"))
    assert accepted == []
