"""ADC through the real google-auth code against a local HTTPS token endpoint: Bearer, quota project, errors."""

from __future__ import annotations

from pathlib import Path

import google.oauth2.credentials
import pytest
from fake_google import (
    FAKE_ACCESS_TOKEN,
    FAKE_REFRESH_TOKEN,
    SA_EMAIL,
    FakeGoogle,
    write_service_account,
)

from livecli.auth.adc import NOT_FETCHED, AdcCredentials, load_adc
from livecli.errors import ConnectError, CredentialsError

pytestmark = pytest.mark.usefixtures("isolated_credentials")


def sa_env(fake: FakeGoogle, tmp_path: Path) -> dict[str, str]:
    return {"GOOGLE_APPLICATION_CREDENTIALS": str(write_service_account(fake, tmp_path / "sa.json"))}


def user_credentials(fake: FakeGoogle, quota_project: str | None) -> google.oauth2.credentials.Credentials:
    """Authorized-user credentials (what `gcloud auth application-default login` writes) on the fake endpoint."""
    return google.oauth2.credentials.Credentials(
        None,
        refresh_token=FAKE_REFRESH_TOKEN,
        client_id="cid",
        client_secret="csecret",
        token_uri=fake.token_uri,
        quota_project_id=quota_project,
    )


def test_service_account_refresh_signs_a_real_jwt(fake: FakeGoogle, tmp_path: Path) -> None:
    creds = load_adc(sa_env(fake, tmp_path))
    headers, secrets = creds.headers()
    assert headers == {"Authorization": f"Bearer {FAKE_ACCESS_TOKEN}"}
    assert secrets == (FAKE_ACCESS_TOKEN,)
    assert creds.project == "sa-project"
    assert SA_EMAIL in creds.source
    (claims,) = fake.jwt_claims  # the endpoint verified the RS256 signature with the generated public key
    assert claims["iss"] == SA_EMAIL
    assert claims["scope"] == "https://www.googleapis.com/auth/cloud-platform"


def test_every_headers_call_refreshes(fake: FakeGoogle, tmp_path: Path) -> None:
    creds = load_adc(sa_env(fake, tmp_path))
    creds.headers()
    creds.headers()
    assert len(fake.jwt_claims) == 2


def test_process_environment_goes_through_google_auth_default(
    fake: FakeGoogle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = dict(sa_env(fake, tmp_path), GOOGLE_CLOUD_QUOTA_PROJECT="quota-from-env")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    headers, _ = load_adc(env).headers()
    assert headers == {"Authorization": f"Bearer {FAKE_ACCESS_TOKEN}", "x-goog-user-project": "quota-from-env"}


def test_credentials_carrying_a_quota_project_send_it(fake: FakeGoogle) -> None:
    headers, _ = AdcCredentials(user_credentials(fake, "billing-proj"), None, "ADC user").headers()
    assert headers == {"Authorization": f"Bearer {FAKE_ACCESS_TOKEN}", "x-goog-user-project": "billing-proj"}
    assert fake.records[-1].path == "/token"
    headers, _ = AdcCredentials(user_credentials(fake, None), None, "ADC user").headers()
    assert "x-goog-user-project" not in headers


def test_dry_run_loads_without_fetching(fake: FakeGoogle, tmp_path: Path) -> None:
    headers, secrets = load_adc(sa_env(fake, tmp_path), refresh=False).headers()
    assert headers == {"Authorization": f"Bearer {NOT_FETCHED}"}
    assert secrets == ()
    assert fake.records == []


def test_refused_refresh_is_a_credentials_error(fake: FakeGoogle, tmp_path: Path) -> None:
    fake.token_status = 401
    with pytest.raises(CredentialsError, match="were refused") as info:
        load_adc(sa_env(fake, tmp_path)).headers()
    assert FAKE_ACCESS_TOKEN not in str(info.value)


def test_untrusted_token_endpoint_is_a_connect_error(
    fake: FakeGoogle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other_ca = tmp_path / "other.pem"
    import trustme

    trustme.CA().cert_pem.write_to_path(str(other_ca))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(other_ca))  # TLS verification stays on
    with pytest.raises(ConnectError, match="could not reach the token endpoint"):
        load_adc(sa_env(fake, tmp_path)).headers()


def test_missing_or_broken_credentials_name_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(CredentialsError, match="gcloud auth application-default login"):
        load_adc({})
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(CredentialsError, match="GOOGLE_APPLICATION_CREDENTIALS"):
        load_adc({"GOOGLE_APPLICATION_CREDENTIALS": str(broken)})
