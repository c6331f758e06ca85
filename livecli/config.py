"""Where to connect and with which credentials: one function, one precedence rule (flag > env > default).

`resolve_target(ConnectOptions, environ)` turns the connect flags and the environment into a `Target`: the exact
WebSocket URL, the upgrade headers, the model string the setup must carry, the backend name, the secrets that
must never be printed, and whether proxies from the environment apply. Backends (protocol.md §1):

- gemini          API key in `x-goog-api-key` (or `?key=` with key_in_query); model `models/<id>`
- ephemeral       `auth_tokens/...` on v1alpha BidiGenerateContentConstrained, `?access_token=` (or
                  `Authorization: Token` with token_in_header); model `models/<id>`
- vertex          ADC through google-auth, `Authorization: Bearer`; model `projects/P/locations/L/publishers/...`
- vertex-express  Vertex with an API key; host aiplatform.googleapis.com; model `publishers/google/models/<id>`
- local           livecli's in-process server (`--local`); no credentials needed

The command modules declare these options (names and types the CLI uses, see `CREDENTIAL_OPTIONS`):
`--model TEXT`, `--api-key TEXT`, `--token TEXT`, `--vertex/--no-vertex` (default None = from env),
`--project TEXT`, `--location TEXT`, `--api-version TEXT`, `--endpoint URL`, `--local`, `--key-in-query`,
`--token-in-header`; they build `ConnectOptions(**those values)` and call `resolve_target(opts, env.environ)`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

from livecli.errors import CredentialsError, UsageError
from livecli.protocol.models import DEFAULT_MODEL

if TYPE_CHECKING:
    from livecli.auth import AdcCredentials

__all__ = [
    "CREDENTIAL_OPTIONS",
    "ENVIRONMENT_VARIABLES",
    "LOCAL_PLACEHOLDER_URL",
    "ConnectOptions",
    "Target",
    "api_key_from",
    "gemini_path",
    "is_loopback",
    "resolve_target",
    "vertex_path",
]

GEMINI_HOST = "generativelanguage.googleapis.com"
VERTEX_GLOBAL_HOST = "aiplatform.googleapis.com"
MULTI_REGION_HOSTS = {"us": "aiplatform.us.rep.googleapis.com", "eu": "aiplatform.eu.rep.googleapis.com"}
GEMINI_VERSIONS = ("v1beta", "v1", "v1alpha")
VERTEX_VERSIONS = ("v1", "v1beta1")
EPHEMERAL_VERSION = "v1alpha"
TOKEN_PREFIX = "auth_tokens/"
# Shown by --dry-run with --local: the real port is only known once the in-process server has started.
LOCAL_PLACEHOLDER_URL = "ws://127.0.0.1:0"

# Every environment variable livecli reads for a connection, in the order the README lists them.
ENVIRONMENT_VARIABLES: dict[str, str] = {
    "LIVECLI_MODEL": "model id when --model is not given (default gemini-3.8-live)",
    "GEMINI_API_KEY": "Gemini API key (also Vertex AI express mode) when --api-key is not given",
    "GOOGLE_API_KEY": "fallback API key when GEMINI_API_KEY is not set",
    "LIVECLI_EPHEMERAL_TOKEN": "ephemeral token (auth_tokens/...) when --token is not given",
    "GOOGLE_GENAI_USE_VERTEXAI": "true/1 selects Vertex AI when --vertex/--no-vertex is not given",
    "GOOGLE_CLOUD_PROJECT": "Vertex AI project when --project is not given (else the ADC project)",
    "GOOGLE_CLOUD_LOCATION": "Vertex AI location when --location is not given (default global)",
    "GOOGLE_APPLICATION_CREDENTIALS": "service-account or ADC JSON file for Vertex AI (google-auth)",
    "GOOGLE_CLOUD_QUOTA_PROJECT": "quota project sent as x-goog-user-project (google-auth)",
    "SSL_CERT_FILE": "extra CA bundle trusted for wss:// and livecli token",
    "REQUESTS_CA_BUNDLE": "CA bundle google-auth's token refresh trusts",
    "HTTPS_PROXY": "proxy for non-loopback endpoints (also HTTP_PROXY, ALL_PROXY, NO_PROXY)",
}

# Option name → (ConnectOptions field, type, help) for the command modules that connect.
CREDENTIAL_OPTIONS: dict[str, tuple[str, str, str]] = {
    "--model": ("model", "str|None", "Live model id [env LIVECLI_MODEL; default gemini-3.8-live]"),
    "--api-key": ("api_key", "str|None", "API key [env GEMINI_API_KEY, GOOGLE_API_KEY]"),
    "--token": ("token", "str|None", "ephemeral token auth_tokens/... [env LIVECLI_EPHEMERAL_TOKEN]"),
    "--vertex/--no-vertex": ("vertex", "bool|None", "use Vertex AI [env GOOGLE_GENAI_USE_VERTEXAI]"),
    "--project": ("project", "str|None", "Vertex AI project [env GOOGLE_CLOUD_PROJECT; else ADC project]"),
    "--location": ("location", "str|None", "Vertex AI location [env GOOGLE_CLOUD_LOCATION; default global]"),
    "--api-version": ("api_version", "str|None", "v1beta (Gemini), v1alpha (tokens), v1 or v1beta1 (Vertex)"),
    "--endpoint": ("endpoint", "str|None", "ws:// or wss:// URL; without a path the backend's path is added"),
    "--local": ("local", "bool", "start livecli's local server in-process and talk to it"),
    "--key-in-query": ("key_in_query", "bool", "send the API key as ?key= instead of x-goog-api-key"),
    "--token-in-header": ("token_in_header", "bool", "send the token as Authorization: Token, not ?access_token="),
}


@dataclass
class ConnectOptions:
    """The connect flags exactly as given (None = not given)."""

    model: str | None = None
    api_key: str | None = None
    token: str | None = None
    vertex: bool | None = None
    project: str | None = None
    location: str | None = None
    api_version: str | None = None
    endpoint: str | None = None
    local: bool = False
    key_in_query: bool = False
    token_in_header: bool = False


@dataclass(frozen=True)
class Target:
    """One resolved connection: URL, upgrade headers, setup model string, backend and its secrets."""

    url: str
    headers: dict[str, str]
    model: str
    backend: str
    secrets: tuple[str, ...]
    use_env_proxy: bool
    # Re-runs the credential refresh (Vertex ADC) and returns fresh headers and secrets; None when static.
    refresher: Callable[[], tuple[dict[str, str], tuple[str, ...]]] | None = field(
        default=None, repr=False, compare=False
    )
    # Where each setting came from, for doctor and --dry-run (e.g. {"api_key": "env GEMINI_API_KEY"}).
    sources: dict[str, str] = field(default_factory=dict, compare=False)

    def refreshed(self) -> Target:
        """This target with freshly refreshed credentials (call before every reconnect)."""
        if self.refresher is None:
            return self
        headers, secrets = self.refresher()
        return replace(self, headers=headers, secrets=secrets)


@dataclass
class _Picked:
    """A value and where it came from."""

    value: str | None
    source: str


def _pick(flag: str | None, flag_name: str, environ: Mapping[str, str], *env_names: str) -> _Picked:
    """The one precedence rule: the flag, then each environment variable in order, then nothing."""
    if flag:
        return _Picked(flag, flag_name)
    for name in env_names:
        if environ.get(name):
            return _Picked(environ[name], f"env {name}")
    return _Picked(None, "")


def api_key_from(flag: str | None, environ: Mapping[str, str]) -> tuple[str | None, str]:
    """The API key by the one rule (--api-key, GEMINI_API_KEY, GOOGLE_API_KEY) and where it came from."""
    picked = _pick(flag, "--api-key", environ, "GEMINI_API_KEY", "GOOGLE_API_KEY")
    return picked.value, picked.source


def _env_true(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def gemini_path(api_version: str, *, constrained: bool = False) -> str:
    """The Gemini API WebSocket path for one API version."""
    method = "BidiGenerateContentConstrained" if constrained else "BidiGenerateContent"
    return f"/ws/google.ai.generativelanguage.{api_version}.GenerativeService.{method}"


def vertex_path(api_version: str) -> str:
    """The Vertex AI WebSocket path for one API version."""
    return f"/ws/google.cloud.aiplatform.{api_version}.LlmBidiService/BidiGenerateContent"


def vertex_host(location: str) -> str:
    """The Vertex AI host for a location: global, multi-region (us, eu) or regional."""
    if location == "global":
        return VERTEX_GLOBAL_HOST
    if location in MULTI_REGION_HOSTS:
        return MULTI_REGION_HOSTS[location]
    return f"{location}-aiplatform.googleapis.com"


def is_loopback(host: str | None) -> bool:
    """Whether a host name is this machine (localhost, 127.0.0.0/8, ::1)."""
    if not host:
        return False
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _model_id(opts: ConnectOptions, environ: Mapping[str, str]) -> tuple[str, str]:
    picked = _pick(opts.model, "--model", environ, "LIVECLI_MODEL")
    model = picked.value or DEFAULT_MODEL
    # Accept the wire forms too, so `--model models/x` or a Vertex resource name is not doubled.
    for prefix in ("models/", "publishers/google/models/"):
        if model.startswith(prefix):
            model = model[len(prefix) :]
    if "/" in model and model.startswith("projects/"):
        model = model.rsplit("/", 1)[1]
    if not model or any(ch.isspace() for ch in model):
        raise UsageError(f"bad model name {model!r}")
    return model, picked.source or "default"


def _version(opts: ConnectOptions, default: str, allowed: tuple[str, ...], backend: str) -> str:
    version = opts.api_version or default
    if version not in allowed:
        raise UsageError(f"--api-version {version} is not valid for {backend}: use one of {', '.join(allowed)}")
    return version


def _base_url(opts: ConnectOptions, local_url: str | None, host: str, path: str) -> tuple[str, str | None]:
    """The URL for a backend's standard path under the one --endpoint rule; also the host name."""
    given = local_url or opts.endpoint or (LOCAL_PLACEHOLDER_URL if opts.local else None)
    if given is None:
        return f"wss://{host}{path}", host
    try:
        parts = urlsplit(given.strip())
        parts.port  # noqa: B018 -- parsing the port is the check
    except ValueError as exc:
        raise UsageError(f"--endpoint {_shown(given)}: {exc}") from None
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise UsageError(f"--endpoint must be a ws:// or wss:// URL with a host, got {_shown(given)}")
    if parts.fragment:
        raise UsageError("--endpoint must not have a #fragment")
    if parts.path in ("", "/"):
        url = f"{parts.scheme}://{parts.netloc}{path}" + (f"?{parts.query}" if parts.query else "")
    else:
        url = given.strip()
    return url, parts.hostname


def _shown(url: str) -> str:
    """A URL for an error message, with its query (which may hold a key) dropped."""
    return url.split("?", 1)[0]


def _with_query(url: str, name: str, value: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{name}={quote(value, safe='/')}"


def resolve_target(
    opts: ConnectOptions,
    environ: Mapping[str, str],
    *,
    local_url: str | None = None,
    fetch_credentials: bool = True,
) -> Target:
    """Resolve the connect options and environment into one Target (flag > env > default).

    `local_url` is the base URL of livecli's in-process server (`--local`): no credentials are needed.
    `fetch_credentials=False` (for --dry-run) loads ADC without refreshing it, so no socket is opened.
    Raises UsageError for contradictory or malformed options and CredentialsError naming what is missing.
    """
    if opts.local and opts.endpoint:
        raise UsageError("--local and --endpoint cannot be used together")
    model_id, model_source = _model_id(opts, environ)
    sources = {"model": model_source}
    vertex = opts.vertex if opts.vertex is not None else _env_true(environ.get("GOOGLE_GENAI_USE_VERTEXAI"))
    sources["vertex"] = (
        "--vertex" if opts.vertex is not None else ("env GOOGLE_GENAI_USE_VERTEXAI" if vertex else "default")
    )
    token = _pick(opts.token, "--token", environ, "LIVECLI_EPHEMERAL_TOKEN")
    key = _pick(opts.api_key, "--api-key", environ, "GEMINI_API_KEY", "GOOGLE_API_KEY")
    if opts.token and opts.api_key:
        raise UsageError("--token and --api-key cannot be used together")
    if token.value and opts.api_key:
        token = _Picked(None, "")  # an explicit key flag beats a token from the environment
    if token.value and vertex:
        raise UsageError(
            f"ephemeral tokens ({token.source}) work only with the Gemini API, not Vertex AI ({sources['vertex']})"
        )
    local = local_url is not None or opts.local
    if token.value:
        return _ephemeral(opts, local_url, model_id, token, dict(sources, credentials=token.source), local)
    if vertex:
        return _vertex(opts, environ, local_url, model_id, key, sources, local, fetch_credentials)
    return _gemini(opts, local_url, model_id, key, sources, local)


def _finish(
    url: str,
    host: str | None,
    headers: dict[str, str],
    model: str,
    backend: str,
    secrets: tuple[str, ...],
    sources: dict[str, str],
    local: bool,
    refresher: Callable[[], tuple[dict[str, str], tuple[str, ...]]] | None = None,
) -> Target:
    return Target(
        url=url,
        headers=headers,
        model=model,
        backend="local" if local else backend,
        secrets=tuple(s for s in secrets if s),
        use_env_proxy=not (local or is_loopback(host)),
        refresher=refresher,
        sources=sources,
    )


def _gemini(
    opts: ConnectOptions,
    local_url: str | None,
    model_id: str,
    key: _Picked,
    sources: dict[str, str],
    local: bool,
) -> Target:
    version = _version(opts, "v1beta", GEMINI_VERSIONS, "the Gemini API")
    url, host = _base_url(opts, local_url, GEMINI_HOST, gemini_path(version))
    headers: dict[str, str] = {}
    if key.value:
        sources["credentials"] = key.source
        if opts.key_in_query:
            url = _with_query(url, "key", key.value)
        else:
            headers["x-goog-api-key"] = key.value
    elif not (local or is_loopback(host)):
        raise CredentialsError("no API key: set GEMINI_API_KEY or pass --api-key")
    return _finish(url, host, headers, f"models/{model_id}", "gemini", (key.value or "",), sources, local)


def _ephemeral(
    opts: ConnectOptions,
    local_url: str | None,
    model_id: str,
    token: _Picked,
    sources: dict[str, str],
    local: bool,
) -> Target:
    value = token.value or ""
    if not value.startswith(TOKEN_PREFIX) or len(value) == len(TOKEN_PREFIX):
        raise UsageError(f"{token.source} must be an ephemeral token name starting with {TOKEN_PREFIX}")
    if opts.key_in_query:
        raise UsageError("--key-in-query applies to API keys, not ephemeral tokens (see --token-in-header)")
    version = _version(opts, EPHEMERAL_VERSION, (EPHEMERAL_VERSION,), "ephemeral tokens")
    url, host = _base_url(opts, local_url, GEMINI_HOST, gemini_path(version, constrained=True))
    headers: dict[str, str] = {}
    if opts.token_in_header:
        headers["Authorization"] = f"Token {value}"
    else:
        url = _with_query(url, "access_token", value)
    return _finish(url, host, headers, f"models/{model_id}", "ephemeral", (value,), sources, local)


def _vertex(
    opts: ConnectOptions,
    environ: Mapping[str, str],
    local_url: str | None,
    model_id: str,
    key: _Picked,
    sources: dict[str, str],
    local: bool,
    fetch_credentials: bool,
) -> Target:
    if opts.token_in_header:
        raise UsageError("--token-in-header applies to ephemeral tokens, not Vertex AI")
    version = _version(opts, "v1", VERTEX_VERSIONS, "Vertex AI")
    project = _pick(opts.project, "--project", environ, "GOOGLE_CLOUD_PROJECT")
    location = _pick(opts.location, "--location", environ, "GOOGLE_CLOUD_LOCATION")
    # Express mode: an explicit key flag wins over project settings from the environment; a key from the
    # environment loses to a project or location given anywhere (as google-genai does).
    if opts.api_key and (opts.project or opts.location):
        raise UsageError("--api-key (Vertex AI express mode) and --project/--location cannot be used together")
    express = bool(key.value) and (opts.api_key is not None or not (project.value or location.value))
    if express:
        url, host = _base_url(opts, local_url, VERTEX_GLOBAL_HOST, vertex_path(version))
        headers: dict[str, str] = {}
        if opts.key_in_query:
            url = _with_query(url, "key", key.value or "")
        else:
            headers["x-goog-api-key"] = key.value or ""
        sources["credentials"] = key.source
        model = f"publishers/google/models/{model_id}"
        return _finish(url, host, headers, model, "vertex-express", (key.value or "",), sources, local)
    if opts.key_in_query:
        raise UsageError("--key-in-query needs an API key (Vertex AI express mode)")
    loc = location.value or "global"
    sources["location"] = location.source or "default"
    url, host = _base_url(opts, local_url, vertex_host(loc), vertex_path(version))
    optional = local or is_loopback(host)
    creds = _adc(environ, fetch_credentials, optional=optional and bool(project.value))
    proj = project.value or (creds.project if creds else None)
    sources["project"] = project.source or ("ADC" if proj else "")
    if not proj:
        raise CredentialsError(
            "no Vertex AI project: pass --project, set GOOGLE_CLOUD_PROJECT, or use credentials that name one"
        )
    sources["credentials"] = creds.source if creds else "none (loopback endpoint)"
    model = f"projects/{proj}/locations/{loc}/publishers/google/models/{model_id}"
    headers, secrets = creds.headers() if creds else ({}, ())
    refresher = creds.headers if creds and fetch_credentials else None
    return _finish(url, host, headers, model, "vertex", secrets, sources, local, refresher)


def _adc(environ: Mapping[str, str], fetch: bool, *, optional: bool) -> AdcCredentials | None:
    from livecli.auth import load_adc

    try:
        return load_adc(environ, refresh=fetch)
    except CredentialsError:
        if optional:
            return None
        raise
