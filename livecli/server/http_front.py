"""The REST calls the local server answers beside its WebSocket upgrades, on the same port (TLS or plain).

websockets' server refuses any method but GET and any request body, so a connection first looks at the method:
the first byte of a GET (or anything that is not an HTTP method, e.g. a TLS ClientHello on a plain port) goes to
websockets at once, untouched; any other method is read here as one HTTP/1.1 request (headers, then a
Content-Length body, both bounded; `Expect: 100-continue` is answered, as curl waits for it), answered, and the
connection closed. A request not complete within websockets' opening-handshake timeout (10 s) is dropped like a
stalled upgrade. The only REST method is `POST /v1alpha/auth_tokens`
(docs/wire.md, "Ephemeral tokens on the local server"); anything else is 404 (or 405 on that path).

The API key is checked as the service checks it when the server requires one (`--require-key`): none at all →
HTTP 401 UNAUTHENTICATED; a wrong one → HTTP 400 INVALID_ARGUMENT "API key not valid", as Google's REST APIs
answer. Errors use Google's JSON error body (livecli.protocol.google_errors).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import parse_qs

from websockets.asyncio.server import ServerConnection

from livecli.protocol import close_reasons as cr
from livecli.protocol.google_errors import error_body
from livecli.protocol.redact import mask
from livecli.server.config import ServerConfig
from livecli.server.gate import same_secret
from livecli.server.tokens import RestError, TokenStore

__all__ = ["MAX_BODY_BYTES", "MAX_HEAD_BYTES", "RestApi", "RestReply", "rest_front"]

TOKENS_PATH = "/v1alpha/auth_tokens"
MAX_HEAD_BYTES = 16 << 10
MAX_BODY_BYTES = 1 << 20
_METHOD = re.compile(rb"[A-Z]{1,16}")
_MISSING_CREDENTIAL = (
    "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other "
    "valid authentication credential."
)


@dataclass(frozen=True)
class RestReply:
    """An HTTP answer: status and JSON body."""

    status: int
    body: str

    @classmethod
    def error(cls, status: int, google_status: str, message: str) -> RestReply:
        """A refusal with Google's error body."""
        return cls(status, error_body(status, message, google_status))


class RestApi:
    """The REST methods, sans I/O: one request in, one RestReply out."""

    def __init__(self, config: ServerConfig, tokens: TokenStore) -> None:
        self.config = config
        self.tokens = tokens

    def handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> RestReply:
        """Answer one request (`headers` with lower-case names)."""
        path, _, raw_query = target.partition("?")
        if path.startswith("//"):  # SDK base URLs that end in "/" (docs/wire.md, "SDK behaviour")
            path = path[1:]
        if path.rstrip("/") != TOKENS_PATH:
            return RestReply.error(404, "NOT_FOUND", f"Method not found: {method} {path}")
        if method != "POST":
            return RestReply.error(405, "METHOD_NOT_ALLOWED", f"{path} takes POST, not {method}")
        query = {k: v[-1] for k, v in parse_qs(raw_query).items()}
        refused = self._check_key(headers.get("x-goog-api-key") or query.get("key"))
        if refused is not None:
            return refused
        try:
            request = json.loads(body or b"{}")
        except (ValueError, UnicodeDecodeError):
            return RestReply.error(400, "INVALID_ARGUMENT", "Invalid JSON payload received. Unexpected token.")
        try:
            token = self.tokens.mint(request)
        except RestError as exc:
            return RestReply.error(exc.http_status, exc.status, exc.message)
        self.config.logger.info(
            "minted ephemeral token %s: uses %d, %s locked setup",
            mask(token.name),
            token.uses,
            "no" if token.locked is None else "a",
        )
        return RestReply(200, json.dumps(token.response()))

    def _check_key(self, key: str | None) -> RestReply | None:
        required = self.config.require_key
        if not required or same_secret(key, required):
            return None
        if not key:
            return RestReply.error(401, "UNAUTHENTICATED", _MISSING_CREDENTIAL)
        return RestReply.error(400, "INVALID_ARGUMENT", cr.API_KEY_INVALID.text)


def _response_bytes(reply: RestReply) -> bytes:
    payload = (reply.body + "\n").encode()
    phrase = HTTPStatus(reply.status).phrase if reply.status in HTTPStatus._value2member_map_ else "Error"
    head = (
        f"HTTP/1.1 {reply.status} {phrase}\r\n"
        "Content-Type: application/json; charset=UTF-8\r\n"
        f"Content-Length: {len(payload)}\r\n"
        "Server: livecli\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode("latin-1") + payload


def _parse_head(head: bytes) -> tuple[str, str, dict[str, str]]:
    """Request line and headers → (method, target, lower-case headers); ValueError when malformed."""
    lines = head.decode("latin-1").split("\r\n")
    method, target, version = lines[0].split(" ")
    if not version.startswith("HTTP/1."):
        raise ValueError("not HTTP/1.x")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, sep, value = line.partition(":")
            if not sep or not name or name != name.strip():
                raise ValueError("bad header line")
            headers[name.lower()] = value.strip()
    return method, target, headers


def rest_front(base: type[ServerConnection], api: RestApi) -> type[ServerConnection]:
    """A websockets connection class (derived from `base`) that answers REST requests itself."""
    logger = api.config.logger

    class RestFrontConnection(base):  # type: ignore[valid-type,misc]
        _mode = ""  # "" until the method is known, then "ws" or "rest"
        _buffer = b""
        _continued = False  # whether "100 Continue" was sent

        def data_received(self, data: bytes) -> None:
            if self._mode == "ws":
                super().data_received(data)
                return
            if self._mode == "done":
                return  # answered: the connection is closing
            self._buffer += data
            if not self._mode:
                match = _METHOD.match(self._buffer)
                # A GET, or anything that is not a method, goes to websockets as it came (its first byte decides).
                if match is None or b"GET".startswith(self._buffer[:3]):
                    self._to_websockets()
                    return
                if match.end() == len(self._buffer):
                    return  # the method may go on in the next segment
                self._mode = "rest"
            self._read_request()

        def _to_websockets(self) -> None:
            self._mode = "ws"
            buffered, self._buffer = self._buffer, b""
            super().data_received(buffered)

        def _read_request(self) -> None:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self._buffer) > MAX_HEAD_BYTES:
                    self._answer(RestReply.error(431, "INVALID_ARGUMENT", "Request headers too large."))
                return
            try:
                method, target, headers = _parse_head(self._buffer[:end])
            except ValueError:
                self._answer(RestReply.error(400, "INVALID_ARGUMENT", "Malformed HTTP request."))
                return
            if "transfer-encoding" in headers:
                self._answer(RestReply.error(411, "INVALID_ARGUMENT", "Send the body with a Content-Length."))
                return
            length_text = headers.get("content-length", "0")
            if not length_text.isdigit():
                self._answer(RestReply.error(400, "INVALID_ARGUMENT", "Bad Content-Length."))
                return
            length = int(length_text)
            if length > MAX_BODY_BYTES:
                self._answer(RestReply.error(413, "INVALID_ARGUMENT", "Request body too large."))
                return
            body = self._buffer[end + 4 : end + 4 + length]
            if len(body) < length:
                if headers.get("expect", "").lower() == "100-continue" and not self._continued:
                    self._continued = True
                    self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                return  # more to come
            try:
                reply = api.handle(method, target, headers, body)
            except Exception:
                logger.exception("internal error answering %s %s", method, target.split("?")[0])
                reply = RestReply.error(500, "INTERNAL", "Internal error encountered.")
            self._answer(reply)
            logger.info("%s %s: HTTP %d", method, target.split("?")[0], reply.status)

        def _answer(self, reply: RestReply) -> None:
            self._mode = "done"
            self._buffer = b""
            transport = self.transport
            if not transport.is_closing():  # any loop's transport (uvloop's are not asyncio.WriteTransports)
                transport.write(_response_bytes(reply))
                transport.close()

        def eof_received(self) -> bool | None:
            if self._mode in ("rest", "done"):
                self.transport.close()
                return None
            return super().eof_received()  # type: ignore[no-any-return]

    return RestFrontConnection
