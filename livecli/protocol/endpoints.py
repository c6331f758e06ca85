"""Hosts, paths and the one `--endpoint` rule for every backend (docs/wire.md, "Endpoints"); no credentials here.

Kept apart from livecli.auth.target so that URL building can be read (and tested) without the precedence rules, and
so that `livecli token` can share the endpoint rule without importing the WebSocket resolver.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from urllib.parse import quote, urlsplit

from livecli.errors import UsageError

__all__ = [
    "EPHEMERAL_VERSION",
    "GEMINI_DEFAULT_VERSION",
    "GEMINI_HOST",
    "GEMINI_VERSIONS",
    "LOCAL_PLACEHOLDER_URL",
    "VERTEX_GLOBAL_HOST",
    "VERTEX_VERSIONS",
    "Target",
    "endpoint_url",
    "gemini_path",
    "is_loopback",
    "shown_url",
    "vertex_host",
    "vertex_path",
    "with_path",
    "with_query",
]

GEMINI_HOST = "generativelanguage.googleapis.com"
VERTEX_GLOBAL_HOST = "aiplatform.googleapis.com"
MULTI_REGION_HOSTS = {"us": "aiplatform.us.rep.googleapis.com", "eu": "aiplatform.eu.rep.googleapis.com"}
GEMINI_VERSIONS = ("v1beta", "v1", "v1alpha")
# The Gemini API version used when none is asked for (as the SDK does).
GEMINI_DEFAULT_VERSION = "v1beta"
VERTEX_VERSIONS = ("v1", "v1beta1")
# Google serves BidiGenerateContentConstrained (ephemeral tokens) only on v1alpha.
EPHEMERAL_VERSION = "v1alpha"
# Shown by --dry-run with --local: the real port is only known once the in-process server has started.
LOCAL_PLACEHOLDER_URL = "ws://127.0.0.1:0"


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


def with_path(url: str, path: str) -> str:
    """The one endpoint rule: a URL with a path is used as given; one without gets `path` (query kept)."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.path not in ("", "/"):
        return url
    return f"{parts.scheme}://{parts.netloc}{path}" + (f"?{parts.query}" if parts.query else "")


def endpoint_url(given: str | None, host: str, path: str) -> tuple[str, str | None]:
    """The WebSocket URL for a backend's standard `host` and `path` under the --endpoint rule, and its host."""
    if given is None:
        return f"wss://{host}{path}", host
    try:
        parts = urlsplit(given.strip())
        parts.port  # noqa: B018 -- parsing the port is the check
    except ValueError as exc:
        raise UsageError(f"--endpoint {shown_url(given)}: {exc}") from None
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise UsageError(f"--endpoint must be a ws:// or wss:// URL with a host, got {shown_url(given)}")
    if parts.fragment:
        raise UsageError("--endpoint must not have a #fragment")
    return with_path(given, path), parts.hostname


def shown_url(url: str) -> str:
    """A URL for an error message, with its query (which may hold a key) dropped."""
    return url.strip().split("?", 1)[0]


def with_query(url: str, name: str, value: str) -> str:
    """`url` with one more query parameter (the value percent-encoded, `/` kept as Google's examples do)."""
    return f"{url}{'&' if '?' in url else '?'}{name}={quote(value, safe='/')}"


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
