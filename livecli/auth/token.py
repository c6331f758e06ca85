"""`livecli token`: mint an ephemeral token through POST {base}/v1alpha/auth_tokens.

The request and its fields: docs/wire.md, "Ephemeral tokens".

Uses urllib.request from the standard library: one small POST does not justify a requests session, and the
default SSL context trusts `SSL_CERT_FILE` exactly like livecli's wss connections do (requests would trust
`REQUESTS_CA_BUNDLE` instead), so one CA setting covers both. TLS verification is always on.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from livecli.auth.target import api_key_from
from livecli.env import Env
from livecli.errors import ConnectError, CredentialsError, UsageError, http_error
from livecli.protocol.close_reasons import API_KEY_INVALID
from livecli.protocol.endpoints import GEMINI_HOST, is_loopback, shown_url, with_path
from livecli.protocol.google_errors import error_summary
from livecli.protocol.redact import redact

__all__ = [
    "TOKEN_PATH",
    "TokenRequest",
    "field_mask",
    "mint_token",
    "parse_cli_duration",
    "parse_lock_config",
    "run_token",
    "token_body",
    "token_url",
]

GEMINI_REST_BASE = f"https://{GEMINI_HOST}"
TOKEN_PATH = "/v1alpha/auth_tokens"
MAX_LIFETIME = dt.timedelta(hours=20)
# A token response is a few hundred bytes; anything this large is not one (and is not read further).
MAX_RESPONSE_BYTES = 64 << 10
# The name is printed as is on stdout: printable ASCII without spaces only, so a hostile server cannot put
# terminal control sequences or extra lines into a shell variable or a terminal.
_TOKEN_NAME = re.compile(r"auth_tokens/[\x21-\x7e]{1,2000}")
# generationConfig fields (camelCase) that --lock-fields may name bare, as google-genai maps them.
GENERATION_CONFIG_FIELDS = frozenset(
    "audioTimestamp candidateCount enableAffectiveDialog frequencyPenalty logprobs maxOutputTokens "
    "mediaResolution presencePenalty responseLogprobs responseMimeType responseModalities responseSchema "
    "routingConfig seed speechConfig stopSequences temperature thinkingConfig topK topP translationConfig "
    "audioTranscriptionConfig".split()
)


@dataclass
class TokenRequest:
    """What the token allows: uses, lifetimes, and an optional locked setup."""

    uses: int = 1
    expires: dt.timedelta = dt.timedelta(minutes=30)
    new_session_expires: dt.timedelta = dt.timedelta(minutes=1)
    lock_model: str | None = None
    lock_config: dict[str, Any] | None = None
    lock_fields: list[str] = field(default_factory=list)
    lock_whole_setup: bool = False


def parse_cli_duration(text: str) -> dt.timedelta:
    """A lifetime as typed on the command line: `90s`, `30m`, `2h` or plain seconds → timedelta; UsageError
    otherwise. (Not a protobuf Duration: those are read by server_parse.parse_protobuf_duration.)"""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", text)
    if not match:
        raise UsageError(f"bad duration {text!r}: use e.g. 90s, 30m or 2h")
    unit = {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)]
    return dt.timedelta(seconds=float(match.group(1)) * unit)


def field_mask(setup: Mapping[str, Any], extra: list[str]) -> str:
    """The fieldMask google-genai sends: every set field (one level into objects) plus the extra fields."""
    fields: list[str] = []
    for name, value in setup.items():
        if isinstance(value, dict) and value:
            fields.extend(f"{name}.{sub}" for sub in value)
        else:
            fields.append(name)
    for name in extra:
        fields.append(f"generationConfig.{name}" if name in GENERATION_CONFIG_FIELDS else name)
    return ",".join(fields)


def token_body(request: TokenRequest, now: dt.datetime) -> dict[str, Any]:
    """The JSON body of the auth_tokens call."""
    if request.uses < 0:
        raise UsageError("--uses must be 0 (unlimited) or more")
    for name, span in (("--expires", request.expires), ("--new-session-expires", request.new_session_expires)):
        if not dt.timedelta(0) < span < MAX_LIFETIME:
            raise UsageError(f"{name} must be more than 0 and less than 20h")
    body: dict[str, Any] = {
        "uses": request.uses,
        "expireTime": _rfc3339(now + request.expires),
        "newSessionExpireTime": _rfc3339(now + request.new_session_expires),
    }
    setup: dict[str, Any] = {}
    if request.lock_model:
        model = request.lock_model
        setup["model"] = model if model.startswith("models/") else f"models/{model}"
    if request.lock_config:
        setup.update({k: v for k, v in request.lock_config.items() if k != "model" or "model" not in setup})
    if request.lock_fields and not setup:
        raise UsageError("--lock-fields needs --lock-model or --lock-config")
    if setup:
        body["bidiGenerateContentSetup"] = setup
        if not request.lock_whole_setup:
            body["fieldMask"] = field_mask(setup, request.lock_fields)
    return body


def parse_lock_config(text: str | None) -> dict[str, Any] | None:
    """--lock-config: a JSON object with setup fields in camelCase (e.g. {"generationConfig": {...}})."""
    if not text:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"--lock-config is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise UsageError("--lock-config must be a JSON object of setup fields")
    return value.get("setup", value) if isinstance(value.get("setup"), dict) else value


def token_url(endpoint: str | None) -> str:
    """The auth_tokens URL under the one --endpoint rule (a URL with a path is used as given). A loopback ws:// or
    wss:// base, as `livecli serve` prints it, means that server over http:// or https:// (it answers the REST
    call and the upgrades on one port)."""
    if not endpoint:
        return GEMINI_REST_BASE + TOKEN_PATH
    endpoint = endpoint.strip()
    for websocket_scheme, http_scheme in (("ws://", "http://"), ("wss://", "https://")):
        if endpoint.lower().startswith(websocket_scheme) and is_loopback(urlsplit(endpoint).hostname):
            endpoint = http_scheme + endpoint[len(websocket_scheme) :]
    parts = urlsplit(endpoint)
    secure = parts.scheme == "https"
    if not parts.netloc or not (secure or (parts.scheme == "http" and is_loopback(parts.hostname))):
        raise UsageError("--endpoint for livecli token must be an https:// URL (http:// only for loopback hosts)")
    return with_path(endpoint, TOKEN_PATH)


def mint_token(
    request: TokenRequest,
    api_key: str,
    *,
    endpoint: str | None = None,
    timeout_s: float = 30.0,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> dict[str, Any]:
    """POST the token request; return the response (its `name` is the token). Errors never contain the key."""
    if not api_key:
        raise CredentialsError("no API key: set GEMINI_API_KEY or pass --api-key (minting a token needs a key)")
    url = token_url(endpoint)
    body = json.dumps(token_body(request, now())).encode()
    http_request = urllib.request.Request(
        url, data=body, method="POST", headers={"x-goog-api-key": api_key, "Content-Type": "application/json"}
    )
    if not 0 < timeout_s < float("inf"):
        raise UsageError("--timeout must be a number of seconds more than 0")
    handlers: list[urllib.request.BaseHandler] = [
        urllib.request.HTTPSHandler(context=ssl.create_default_context()),
        _RefuseRedirects(),
    ]
    if is_loopback(urlsplit(url).hostname):
        handlers.append(urllib.request.ProxyHandler({}))  # loopback always connects directly
    opener = urllib.request.build_opener(*handlers)
    shown = shown_url(url)
    try:
        with opener.open(http_request, timeout=timeout_s) as reply:
            # One byte more than the limit tells a complete answer from a cut one.
            raw = reply.read(MAX_RESPONSE_BYTES + 1)
    except urllib.error.HTTPError as exc:
        try:
            refusal = exc.read(4096)
        finally:
            exc.close()  # a body longer than what is read keeps the socket open, and the raised error keeps `exc`
        detail = redact(error_summary(refusal), [api_key])
        if exc.code == 400 and API_KEY_INVALID.match in detail:
            # Google's REST APIs refuse a wrong key with 400 INVALID_ARGUMENT: a credentials failure all the same.
            raise CredentialsError(f"credentials refused: HTTP 400: {detail}") from None
        raise http_error(exc.code, detail) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        hint = " (a custom CA is trusted through SSL_CERT_FILE)" if isinstance(reason, ssl.SSLError) else ""
        raise ConnectError(f"could not reach {shown}: {redact(str(reason), [api_key])}{hint}") from None
    return _token_response(raw, shown)


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """Never follow a redirect: urllib would resend the x-goog-api-key header to wherever it points."""

    def redirect_request(
        self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> None:
        # The error raised here skips urllib's own HTTPError (which would own the response), so the response is
        # closed here: left to the garbage collector, its TLS socket leaked (a ResourceWarning).
        fp.close()
        key = req.get_header("X-goog-api-key") or ""
        target = redact(shown_url(newurl), [key])[:200]
        raise ConnectError(
            f"{shown_url(req.full_url)} answered HTTP {code}, redirecting to {target}; livecli token does not "
            "follow redirects (the API key would go along): pass the final URL as --endpoint"
        )


def _token_response(raw: bytes, shown: str) -> dict[str, Any]:
    """The parsed auth_tokens answer; ConnectError for anything that is not a JSON object with a token name."""
    if len(raw) > MAX_RESPONSE_BYTES:
        raise ConnectError(f"{shown} answered with more than {MAX_RESPONSE_BYTES >> 10} KiB; not a token response")
    try:
        response = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ConnectError(f"{shown} answered with something that is not JSON") from None
    name = response.get("name") if isinstance(response, dict) else None
    if not isinstance(name, str) or not _TOKEN_NAME.fullmatch(name):
        raise ConnectError(f"{shown} answered without a valid token name (auth_tokens/...)")
    return response  # type: ignore[no-any-return]


def _rfc3339(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


def run_token(
    env: Env,
    *,
    api_key: str | None,
    endpoint: str | None,
    uses: int,
    expires: str,
    new_session_expires: str,
    lock_model: str | None,
    lock_config: str | None,
    lock_fields: str | None,
    lock_whole_setup: bool,
    json_output: bool,
    timeout_s: float,
) -> int:
    """The `livecli token` command: mint a token, print its name (or the whole response with --json)."""
    request = TokenRequest(
        uses=uses,
        expires=parse_cli_duration(expires),
        new_session_expires=parse_cli_duration(new_session_expires),
        lock_model=lock_model,
        lock_config=parse_lock_config(lock_config),
        lock_fields=[f.strip() for f in (lock_fields or "").split(",") if f.strip()],
        lock_whole_setup=lock_whole_setup,
    )
    key, _source = api_key_from(api_key, env.environ)
    response = mint_token(request, key or "", endpoint=endpoint, timeout_s=timeout_s)
    text = json.dumps(response, indent=None) if json_output else str(response["name"])
    env.stdout.write(text.encode() + b"\n")
    env.stdout.flush()
    return 0
