"""Where to connect and with which credentials: one function, one precedence rule (flag > env > default).

`resolve_target(ConnectOptions, environ)` turns the connect flags and the environment into a `Target`: the exact
WebSocket URL, the upgrade headers, the model string the setup must carry, the backend name, the secrets that
must never be printed, and whether proxies from the environment apply. Backends (docs/wire.md, "Endpoints" and
"Authentication"):

- gemini          API key in `x-goog-api-key` (or `?key=` with key_in_query); model `models/<id>`
- ephemeral       `auth_tokens/...` on v1alpha BidiGenerateContentConstrained, `?access_token=` (or
                  `Authorization: Token` with token_in_header); model `models/<id>`
- vertex          ADC through google-auth, `Authorization: Bearer`; model `projects/P/locations/L/publishers/...`
- vertex-express  Vertex with an API key; host aiplatform.googleapis.com; model `publishers/google/models/<id>`
- local           livecli's in-process server (`--local`) or any loopback `--endpoint`: no credentials needed,
                  and the label says `local` (`local vertex` etc. for the other dialects)

Hosts, paths and the `--endpoint` rule live in livecli.protocol.endpoints; this module decides which of them apply.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from livecli.errors import CredentialsError, UsageError
from livecli.protocol.endpoints import (
    EPHEMERAL_VERSION,
    GEMINI_HOST,
    GEMINI_VERSIONS,
    LOCAL_PLACEHOLDER_URL,
    VERTEX_GLOBAL_HOST,
    VERTEX_VERSIONS,
    Target,
    endpoint_url,
    gemini_path,
    is_loopback,
    vertex_host,
    vertex_path,
    with_query,
)
from livecli.protocol.models import DEFAULT_MODEL, bare_model_id
from livecli.protocol.redact import mask

if TYPE_CHECKING:
    from livecli.auth.adc import AdcCredentials

__all__ = [
    "ENVIRONMENT_VARIABLES",
    "ConnectOptions",
    "api_key_from",
    "describe_credentials",
    "env_secrets",
    "resolve_target",
]

TOKEN_PREFIX = "auth_tokens/"
# What a preview (--dry-run) shows where no credential was found: what it would send, with this in its place.
PLACEHOLDER = "PLACEHOLDER"
PLACEHOLDER_SOURCE = "none found: a placeholder is shown, and a real run stops here (exit 3)"
_LOCATION = re.compile(r"[a-z][a-z0-9-]{0,62}")

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


@dataclass
class _Picked:
    """A value and where it came from ("--flag", "env NAME" or "default"; "" when nothing was found)."""

    value: str | None
    source: str


def _pick(
    flag: str | None, flag_name: str, environ: Mapping[str, str], *env_names: str, default: str | None = None
) -> _Picked:
    """The one precedence rule for every setting: the flag, then each environment variable in order, then
    the default. Empty values count as not given (an exported but empty variable must not hide the next one)."""
    if flag:
        return _Picked(flag, flag_name)
    for name in env_names:
        if environ.get(name):
            return _Picked(environ[name], f"env {name}")
    return _Picked(default, "default" if default is not None else "")


def api_key_from(flag: str | None, environ: Mapping[str, str]) -> tuple[str | None, str]:
    """The API key by the one rule (--api-key, GEMINI_API_KEY, GOOGLE_API_KEY) and where it came from."""
    picked = _pick(flag, "--api-key", environ, "GEMINI_API_KEY", "GOOGLE_API_KEY")
    return picked.value, picked.source


def env_secrets(opts: ConnectOptions, environ: Mapping[str, str]) -> tuple[str, ...]:
    """Every credential the options and environment hold, for redacting errors raised before a Target exists."""
    names = ("GEMINI_API_KEY", "GOOGLE_API_KEY", "LIVECLI_EPHEMERAL_TOKEN")
    return tuple(s for s in (opts.api_key, opts.token, *(environ.get(n) for n in names)) if s)


# The values google-genai understands (it lower-cases and accepts only "true"/"1"); anything else is refused
# rather than silently read as false, so that livecli and the SDK never pick different backends for one shell.
_TRUE, _FALSE = ("true", "1"), ("false", "0", "")


def _use_vertex(opts: ConnectOptions, environ: Mapping[str, str]) -> _Picked:
    if opts.vertex is not None:
        return _Picked("true" if opts.vertex else "", "--vertex" if opts.vertex else "--no-vertex")
    raw = environ.get("GOOGLE_GENAI_USE_VERTEXAI")
    if raw is None:
        return _Picked("", "default")
    value = raw.strip().lower()
    if value not in _TRUE + _FALSE:
        raise UsageError(f"GOOGLE_GENAI_USE_VERTEXAI must be true/1 or false/0, got {raw[:20]!r}")
    return _Picked("true" if value in _TRUE else "", "env GOOGLE_GENAI_USE_VERTEXAI")


def _model_id(opts: ConnectOptions, environ: Mapping[str, str]) -> tuple[str, str]:
    picked = _pick(opts.model, "--model", environ, "LIVECLI_MODEL", default=DEFAULT_MODEL)
    model = picked.value or DEFAULT_MODEL
    # Accept the wire forms too, so `--model models/x` or a Vertex resource name is not doubled.
    if model.startswith(("models/", "publishers/google/models/", "projects/")):
        model = bare_model_id(model)
    if not model or any(ch.isspace() for ch in model):
        raise UsageError(f"bad model name {model!r}")
    return model, picked.source


def _version(opts: ConnectOptions, default: str, allowed: tuple[str, ...], backend: str) -> str:
    version = opts.api_version or default
    if version not in allowed:
        raise UsageError(f"--api-version {version} is not valid for {backend}: use one of {', '.join(allowed)}")
    return version


def _base_url(opts: ConnectOptions, local_url: str | None, host: str, path: str) -> tuple[str, str | None]:
    """The URL for a backend's standard host and path, under the one --endpoint rule; also the host name."""
    given = local_url or opts.endpoint or (LOCAL_PLACEHOLDER_URL if opts.local else None)
    return endpoint_url(given, host, path)


def resolve_target(
    opts: ConnectOptions,
    environ: Mapping[str, str],
    *,
    local_url: str | None = None,
    fetch_credentials: bool = True,
) -> Target:
    """Resolve the connect options and environment into one Target (flag > env > default).

    `local_url` is the base URL of livecli's in-process server (`--local`): no credentials are needed.
    `fetch_credentials=False` (for --dry-run) previews: ADC is loaded without refreshing it, so no socket is
    opened, and a missing API key, ADC or Vertex project becomes a PLACEHOLDER, its source saying what a real
    run would need (the preview shows what would be sent; the real run raises CredentialsError there).
    Raises UsageError for contradictory or malformed options and CredentialsError naming what is missing.
    """
    if opts.local and opts.endpoint:
        raise UsageError("--local and --endpoint cannot be used together")
    model_id, model_source = _model_id(opts, environ)
    sources = {"model": model_source}
    use_vertex = _use_vertex(opts, environ)
    vertex = bool(use_vertex.value)
    sources["vertex"] = use_vertex.source
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
    return _gemini(opts, local_url, model_id, key, sources, local, fetch_credentials)


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
        backend=_label(backend, local or is_loopback(host)),
        secrets=tuple(s for s in secrets if s),
        use_env_proxy=not (local or is_loopback(host)),
        refresher=refresher,
        sources=sources,
    )


def _label(backend: str, local: bool) -> str:
    """The backend as shown: a loopback endpoint is a local server (livecli's own, a test double, a tunnel), not
    Google, so it reads `local`, with the dialect when it is not the Gemini API's (`local vertex`)."""
    if not local:
        return backend
    return "local" if backend == "gemini" else f"local {backend}"


def _gemini(
    opts: ConnectOptions,
    local_url: str | None,
    model_id: str,
    key: _Picked,
    sources: dict[str, str],
    local: bool,
    fetch_credentials: bool = True,
) -> Target:
    version = _version(opts, "v1beta", GEMINI_VERSIONS, "the Gemini API")
    url, host = _base_url(opts, local_url, GEMINI_HOST, gemini_path(version))
    headers: dict[str, str] = {}
    if key.value:
        sources["credentials"] = key.source
        if opts.key_in_query:
            url = with_query(url, "key", key.value)
        else:
            headers["x-goog-api-key"] = key.value
    elif not (local or is_loopback(host)):
        missing = "no API key: set GEMINI_API_KEY or pass --api-key"
        if fetch_credentials:
            raise CredentialsError(missing)
        sources["credentials"] = f"{PLACEHOLDER_SOURCE} ({missing})"
        if opts.key_in_query:
            url = with_query(url, "key", PLACEHOLDER)
        else:
            headers["x-goog-api-key"] = PLACEHOLDER
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
        url = with_query(url, "access_token", value)
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
    location = _pick(opts.location, "--location", environ, "GOOGLE_CLOUD_LOCATION", default="global")
    # Express mode: an explicit key flag wins over project settings from the environment; a key from the
    # environment loses to a project or location given anywhere (as google-genai does).
    if opts.api_key and (opts.project or opts.location):
        raise UsageError("--api-key (Vertex AI express mode) and --project/--location cannot be used together")
    location_given = location.source != "default"
    express = bool(key.value) and (opts.api_key is not None or not (project.value or location_given))
    if express:
        url, host = _base_url(opts, local_url, VERTEX_GLOBAL_HOST, vertex_path(version))
        headers: dict[str, str] = {}
        if opts.key_in_query:
            url = with_query(url, "key", key.value or "")
        else:
            headers["x-goog-api-key"] = key.value or ""
        sources["credentials"] = key.source
        model = f"publishers/google/models/{model_id}"
        return _finish(url, host, headers, model, "vertex-express", (key.value or "",), sources, local)
    if opts.key_in_query:
        raise UsageError("--key-in-query needs an API key (Vertex AI express mode)")
    loc = location.value or "global"
    # The location becomes part of the host name: anything but a plain region name could redirect the
    # Bearer token to another host (e.g. "evil.example/x").
    if not _LOCATION.fullmatch(loc):
        raise UsageError(f"{location.source} must be a location such as global, us-central1 or eu, got {loc!r}")
    sources["location"] = location.source
    url, host = _base_url(opts, local_url, vertex_host(loc), vertex_path(version))
    optional = local or is_loopback(host)
    preview = not fetch_credentials
    creds, missing_adc = _adc(environ, fetch_credentials, optional=(optional and bool(project.value)) or preview)
    proj = project.value or (creds.project if creds else None)
    sources["project"] = project.source or ("ADC" if proj else "")
    if not proj:
        missing = (
            "no Vertex AI project: pass --project, set GOOGLE_CLOUD_PROJECT, or use credentials that name one"
        )
        if not preview:
            raise CredentialsError(missing)
        proj, sources["project"] = PLACEHOLDER, f"{PLACEHOLDER_SOURCE} ({missing})"
    model = f"projects/{proj}/locations/{loc}/publishers/google/models/{model_id}"
    headers, secrets = creds.headers() if creds else ({}, ())
    if creds:
        sources["credentials"] = creds.source
    elif missing_adc and not optional:
        sources["credentials"] = f"{PLACEHOLDER_SOURCE} ({missing_adc})"
        headers = {"Authorization": f"Bearer {PLACEHOLDER}"}
    else:
        sources["credentials"] = "none (loopback endpoint)"
    refresher = creds.headers if creds and fetch_credentials else None
    return _finish(url, host, headers, model, "vertex", secrets, sources, local, refresher)


def _adc(environ: Mapping[str, str], fetch: bool, *, optional: bool) -> tuple[AdcCredentials | None, str]:
    """ADC, or (when `optional`) None and why there is none."""
    from livecli.auth.adc import load_adc

    try:
        return load_adc(environ, refresh=fetch), ""
    except CredentialsError as exc:
        if optional:
            return None, str(exc)
        raise


def describe_credentials(target: Target) -> str:
    """Which credential a target sends, and where it came from, without revealing it (doctor, --dry-run)."""
    source = target.sources.get("credentials", "none")
    if source.startswith(PLACEHOLDER_SOURCE):
        return source
    if "x-goog-api-key" in target.headers:
        return f"API key {mask(target.headers['x-goog-api-key'])} in x-goog-api-key, from {source}"
    if "Authorization" in target.headers:
        scheme, _, value = target.headers["Authorization"].partition(" ")
        extra = " (access token fetched)" if scheme == "Bearer" and target.refresher else ""
        quota = target.headers.get("x-goog-user-project")
        extra += f", quota project {quota} in x-goog-user-project" if quota else ""
        return f"{scheme} {mask(value)} in Authorization, from {source}{extra}"
    for name in ("key", "access_token"):
        if f"{name}=" in target.url and target.secrets:
            return f"{mask(target.secrets[0])} in ?{name}=, from {source}"
    return "none (not needed for this endpoint)"
