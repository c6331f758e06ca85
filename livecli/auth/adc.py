"""Application Default Credentials for Vertex AI, through google-auth (the only module that imports it).

google-auth is imported inside the functions so that `livecli --help` never pays for it. Its token refresh goes
through google-auth's `requests` transport, which trusts `REQUESTS_CA_BUNDLE` (not `SSL_CERT_FILE`). Refreshing
is blocking I/O: async callers run `AdcCredentials.headers` in a thread (`asyncio.to_thread`).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from typing import Any

from livecli.errors import ConnectError, CredentialsError

__all__ = ["CLOUD_PLATFORM_SCOPE", "NOT_FETCHED", "AdcCredentials", "load_adc"]

CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
# What --dry-run shows instead of an access token it deliberately did not fetch.
NOT_FETCHED = "<access token fetched at connect time>"
_NO_ADC_HINT = (
    "no Google credentials for Vertex AI: run `gcloud auth application-default login`, "
    "set GOOGLE_APPLICATION_CREDENTIALS to a credentials JSON file, or pass --api-key for express mode"
)


class AdcCredentials:
    """Loaded ADC credentials: project, quota project, and upgrade headers (refreshed on every call)."""

    def __init__(self, credentials: Any, project: str | None, source: str, *, fetch: bool = True) -> None:
        self._credentials = credentials
        self.project = project
        self.source = source
        self._fetch = fetch

    @property
    def quota_project(self) -> str | None:
        """The quota project the credentials carry (sent as x-goog-user-project), if any."""
        value = getattr(self._credentials, "quota_project_id", None)
        return value if isinstance(value, str) and value else None

    def refresh(self) -> str:
        """Fetch a fresh access token through google-auth's requests transport and return it."""
        import google.auth.exceptions
        import google.auth.transport.requests

        try:
            self._credentials.refresh(google.auth.transport.requests.Request())
        except google.auth.exceptions.RefreshError as exc:
            raise CredentialsError(
                f"Vertex AI credentials ({self.source}) were refused: {_first_arg(exc)}"
            ) from None
        except google.auth.exceptions.TransportError as exc:
            raise ConnectError(
                f"could not reach the token endpoint for {self.source}: {_first_arg(exc)}"
            ) from None
        token = getattr(self._credentials, "token", None)
        if not isinstance(token, str) or not token:
            raise CredentialsError(f"Vertex AI credentials ({self.source}) returned no access token")
        return token

    def headers(self) -> tuple[dict[str, str], tuple[str, ...]]:
        """Upgrade headers with a freshly refreshed Bearer token, and the secrets they contain."""
        token = self.refresh() if self._fetch else NOT_FETCHED
        headers = {"Authorization": f"Bearer {token}"}
        if self.quota_project:
            headers["x-goog-user-project"] = self.quota_project
        return headers, ((token,) if self._fetch else ())


def load_adc(environ: Mapping[str, str], *, refresh: bool = True) -> AdcCredentials:
    """Load ADC with the cloud-platform scope (GOOGLE_APPLICATION_CREDENTIALS from `environ` first).

    With `refresh=False` the credentials are loaded but `headers()` never fetches a token (for --dry-run).
    Raises CredentialsError naming what is missing.
    """
    import google.auth
    import google.auth.exceptions

    path = environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    try:
        if path and path != os.environ.get("GOOGLE_APPLICATION_CREDENTIALS"):
            # The injected environment differs from the process's: load that file explicitly.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                credentials, project = google.auth.load_credentials_from_file(  # type: ignore[no-untyped-call]
                    path, scopes=[CLOUD_PLATFORM_SCOPE]
                )
        else:
            credentials, project = google.auth.default(scopes=[CLOUD_PLATFORM_SCOPE])
    except google.auth.exceptions.DefaultCredentialsError as exc:
        detail = f" ({_first_arg(exc)})" if path else ""
        raise CredentialsError(_NO_ADC_HINT + detail) from None
    quota = environ.get("GOOGLE_CLOUD_QUOTA_PROJECT")
    if quota and hasattr(credentials, "with_quota_project"):
        credentials = credentials.with_quota_project(quota)
    return AdcCredentials(credentials, project, _describe(credentials, path), fetch=refresh)


def _describe(credentials: Any, path: str | None) -> str:
    """A log-safe description of the credentials (kind and account, never key material)."""
    kind = type(credentials).__module__.rsplit(".", 1)[-1].replace("_", " ")
    account = getattr(credentials, "service_account_email", None)
    text = f"ADC {kind}" + (f" {account}" if isinstance(account, str) and "@" in account else "")
    return text + (" (GOOGLE_APPLICATION_CREDENTIALS)" if path else "")


def _first_arg(exc: BaseException) -> str:
    """google-auth errors carry (message, response); keep the message, one line, bounded."""
    text = str(exc.args[0]) if exc.args else type(exc).__name__
    return " ".join(text.split())[:300]
