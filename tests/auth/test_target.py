"""resolve_target: every backend's exact URL, headers and setup model string, and the one precedence rule."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fake_google import (
    FAKE_ACCESS_TOKEN,
    FAKE_KEY,
    FAKE_TOKEN,
    FakeGoogle,
    fake_google,
    write_authorized_user,
    write_service_account,
)

import livecli.auth.adc
import livecli.auth.target
from livecli.auth.target import ENVIRONMENT_VARIABLES, ConnectOptions, env_secrets, resolve_target
from livecli.errors import CredentialsError, UsageError
from livecli.protocol.endpoints import LOCAL_PLACEHOLDER_URL, Target

GEMINI = "wss://generativelanguage.googleapis.com/ws/google.ai.generativelanguage.{}.GenerativeService.{}"
VERTEX_PATH = "/ws/google.cloud.aiplatform.{}.LlmBidiService/BidiGenerateContent"
MODEL = "gemini-3.8-live"


pytestmark = pytest.mark.usefixtures("isolated_credentials")


@pytest.fixture(scope="module")
def google(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeGoogle]:
    with fake_google(tmp_path_factory.mktemp("google")) as fake:
        yield fake


@pytest.fixture
def adc_env(google: FakeGoogle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A service-account ADC whose token endpoint is the local fake (trusted via REQUESTS_CA_BUNDLE)."""
    path = write_service_account(google, tmp_path / "sa.json")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(path))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(google.ca_file))
    return {"GOOGLE_APPLICATION_CREDENTIALS": str(path)}


def resolve(environ: dict[str, str] | None = None, **options: object) -> Target:
    return resolve_target(ConnectOptions(**options), environ or {})  # type: ignore[arg-type]


# --- Gemini API -------------------------------------------------------------------------------------------


def test_gemini_key_goes_in_header_with_v1beta_and_models_prefix() -> None:
    target = resolve({"GEMINI_API_KEY": FAKE_KEY})
    assert target.url == GEMINI.format("v1beta", "BidiGenerateContent")
    assert target.headers == {"x-goog-api-key": FAKE_KEY}
    assert target.model == f"models/{MODEL}"
    assert (target.backend, target.secrets, target.use_env_proxy) == ("gemini", (FAKE_KEY,), True)


def test_key_precedence_is_flag_then_gemini_then_google() -> None:
    both = {"GEMINI_API_KEY": "gemini-env-key", "GOOGLE_API_KEY": "google-env-key"}
    assert resolve(both, api_key="flag-key-123").headers["x-goog-api-key"] == "flag-key-123"
    assert resolve(both).headers["x-goog-api-key"] == "gemini-env-key"
    assert resolve({"GOOGLE_API_KEY": "google-env-key"}).headers["x-goog-api-key"] == "google-env-key"
    assert resolve(both).sources["credentials"] == "env GEMINI_API_KEY"


def test_key_in_query_uses_the_documented_key_parameter() -> None:
    target = resolve(api_key=FAKE_KEY, key_in_query=True, api_version="v1")
    assert target.url == GEMINI.format("v1", "BidiGenerateContent") + f"?key={FAKE_KEY}"
    assert target.headers == {}


def test_missing_key_names_what_to_set() -> None:
    with pytest.raises(CredentialsError, match=r"^no API key: set GEMINI_API_KEY or pass --api-key$"):
        resolve()


def test_model_from_flag_env_and_wire_forms() -> None:
    env = {"GEMINI_API_KEY": FAKE_KEY, "LIVECLI_MODEL": "gemini-env-model"}
    assert resolve(env).model == "models/gemini-env-model"
    assert resolve(env, model="models/gemini-x").model == "models/gemini-x"
    assert resolve(env, model="gemini-y").sources["model"] == "--model"
    with pytest.raises(UsageError, match="bad model"):
        resolve(env, model="two words")


@pytest.mark.parametrize(
    ("options", "allowed"),
    [
        ({"api_key": FAKE_KEY, "api_version": "v1beta1"}, "v1beta, v1, v1alpha"),
        ({"api_key": FAKE_KEY, "api_version": "v2"}, "v1beta, v1, v1alpha"),
        ({"token": FAKE_TOKEN, "api_version": "v1"}, "v1alpha"),
        ({"api_key": FAKE_KEY, "vertex": True, "api_version": "v1beta"}, "v1, v1beta1"),
        ({"api_key": FAKE_KEY, "vertex": True, "api_version": "v1alpha"}, "v1, v1beta1"),
    ],
)
def test_api_version_is_checked_per_backend(options: dict[str, object], allowed: str) -> None:
    with pytest.raises(UsageError, match=f"^--api-version v[^ ]+ is not valid for .*: use one of {allowed}$"):
        resolve(**options)


@pytest.mark.parametrize(
    ("version", "backend"), [("v1", "gemini"), ("v1alpha", "gemini"), ("v1beta1", "vertex-express")]
)
def test_every_allowed_api_version_lands_in_the_path(version: str, backend: str) -> None:
    target = resolve(api_key=FAKE_KEY, vertex=backend != "gemini", api_version=version)
    assert f".{version}." in target.url
    assert target.backend == backend


def test_sources_say_where_each_setting_came_from() -> None:
    target = resolve({"GOOGLE_API_KEY": FAKE_KEY})
    assert target.sources == {"model": "default", "vertex": "default", "credentials": "env GOOGLE_API_KEY"}
    target = resolve({"LIVECLI_MODEL": "m", "GOOGLE_GENAI_USE_VERTEXAI": "0"}, api_key=FAKE_KEY)
    assert target.sources == {
        "model": "env LIVECLI_MODEL",
        "vertex": "env GOOGLE_GENAI_USE_VERTEXAI",
        "credentials": "--api-key",
    }


def test_empty_variables_count_as_unset() -> None:
    """An exported but empty GEMINI_API_KEY must not hide GOOGLE_API_KEY (nor an empty flag the env)."""
    target = resolve({"GEMINI_API_KEY": "", "GOOGLE_API_KEY": FAKE_KEY, "LIVECLI_MODEL": ""}, api_key="")
    assert target.headers == {"x-goog-api-key": FAKE_KEY}
    assert target.model == f"models/{MODEL}"


@pytest.mark.parametrize(
    ("value", "backend"),
    [
        ("true", "vertex-express"),
        ("TRUE", "vertex-express"),
        (" True ", "vertex-express"),
        ("1", "vertex-express"),
        ("false", "gemini"),
        ("FALSE", "gemini"),
        ("0", "gemini"),
        ("", "gemini"),
    ],
)
def test_use_vertexai_variable_is_parsed_like_google_genai(value: str, backend: str) -> None:
    assert resolve({"GOOGLE_GENAI_USE_VERTEXAI": value, "GEMINI_API_KEY": FAKE_KEY}).backend == backend


@pytest.mark.parametrize("value", ["yes", "on", "flase", "2"])
def test_unknown_use_vertexai_value_is_refused_not_read_as_false(value: str) -> None:
    """google-genai reads these as false; livecli says so instead of silently picking a backend."""
    with pytest.raises(UsageError, match=f"^GOOGLE_GENAI_USE_VERTEXAI must be true/1 or false/0, got '{value}'$"):
        resolve({"GOOGLE_GENAI_USE_VERTEXAI": value, "GEMINI_API_KEY": FAKE_KEY})
    assert resolve({"GOOGLE_GENAI_USE_VERTEXAI": value}, vertex=False, api_key=FAKE_KEY).backend == "gemini"


def test_env_secrets_gathers_every_credential_for_early_errors() -> None:
    env = {"GEMINI_API_KEY": "k1-xxxxxx", "GOOGLE_API_KEY": "", "LIVECLI_EPHEMERAL_TOKEN": FAKE_TOKEN}
    assert env_secrets(ConnectOptions(api_key=FAKE_KEY), env) == (FAKE_KEY, "k1-xxxxxx", FAKE_TOKEN)


# --- --endpoint: one rule ------------------------------------------------------------------------------------


def test_endpoint_without_path_gets_the_backend_path_and_keeps_query() -> None:
    target = resolve({"GEMINI_API_KEY": FAKE_KEY}, endpoint="wss://proxy.example:8443?tenant=a")
    assert target.url == (
        "wss://proxy.example:8443/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"
        "?tenant=a"
    )
    assert target.headers == {"x-goog-api-key": FAKE_KEY}
    assert target.use_env_proxy


def test_endpoint_with_path_is_used_as_given_and_credentials_are_appended() -> None:
    target = resolve(api_key=FAKE_KEY, key_in_query=True, endpoint="wss://gw.example/my/proxy?x=1")
    assert target.url == f"wss://gw.example/my/proxy?x=1&key={FAKE_KEY}"


@pytest.mark.parametrize("url", ["http://127.0.0.1:1", "https://x.example/ws", "127.0.0.1:80", "ws://", "ftp://a"])
def test_endpoint_must_be_ws_or_wss(url: str) -> None:
    with pytest.raises(UsageError, match="ws:// or wss://"):
        resolve({"GEMINI_API_KEY": FAKE_KEY}, endpoint=url)


@pytest.mark.parametrize(
    ("url", "needle"), [("ws://[::1", "Invalid IPv6 URL"), ("ws://h:99999", "Port out of range")]
)
def test_unparsable_endpoint_is_a_usage_error_without_its_query(url: str, needle: str) -> None:
    """A host or port that cannot be parsed is refused in the resolver, so every command says the same."""
    with pytest.raises(UsageError, match=needle) as info:
        resolve({"GEMINI_API_KEY": FAKE_KEY}, endpoint=f"{url}?key={FAKE_KEY}")
    assert FAKE_KEY not in str(info.value)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "localhost", "[::1]"])
def test_loopback_endpoint_needs_no_key_and_skips_proxies(host: str) -> None:
    target = resolve(endpoint=f"ws://{host}:8765")
    assert target.headers == {}
    assert target.secrets == ()
    assert not target.use_env_proxy
    assert urlsplit(target.url).path.endswith("GenerativeService.BidiGenerateContent")


def test_loopback_endpoint_still_sends_a_key_when_given() -> None:
    assert resolve({"GOOGLE_API_KEY": FAKE_KEY}, endpoint="ws://127.0.0.1:1").headers == {
        "x-goog-api-key": FAKE_KEY
    }


def test_remote_endpoint_without_key_is_refused() -> None:
    with pytest.raises(CredentialsError, match="no API key"):
        resolve(endpoint="wss://gw.example")


# --- local ---------------------------------------------------------------------------------------------------


def test_local_url_needs_no_key() -> None:
    target = resolve_target(ConnectOptions(local=True), {}, local_url="ws://127.0.0.1:40123")
    assert (
        target.url
        == "ws://127.0.0.1:40123"
        + GEMINI.format("v1beta", "BidiGenerateContent")[len("wss://") :][
            len("generativelanguage.googleapis.com") :
        ]
    )
    assert (target.backend, target.model, target.use_env_proxy) == ("local", f"models/{MODEL}", False)


def test_local_without_url_shows_placeholder_and_local_with_endpoint_is_refused() -> None:
    assert resolve(local=True).url.startswith(LOCAL_PLACEHOLDER_URL + "/ws/")
    with pytest.raises(UsageError, match="--local and --endpoint"):
        resolve(local=True, endpoint="ws://127.0.0.1:1")


# --- ephemeral tokens ----------------------------------------------------------------------------------------


def test_token_uses_constrained_v1alpha_with_access_token_query() -> None:
    target = resolve(token=FAKE_TOKEN)
    assert target.url == GEMINI.format("v1alpha", "BidiGenerateContentConstrained") + f"?access_token={FAKE_TOKEN}"
    assert (target.headers, target.model, target.backend) == ({}, f"models/{MODEL}", "ephemeral")
    assert target.secrets == (FAKE_TOKEN,)


def test_token_in_header_and_from_env() -> None:
    target = resolve({"LIVECLI_EPHEMERAL_TOKEN": FAKE_TOKEN, "GEMINI_API_KEY": FAKE_KEY}, token_in_header=True)
    assert target.url == GEMINI.format("v1alpha", "BidiGenerateContentConstrained")
    assert target.headers == {"Authorization": f"Token {FAKE_TOKEN}"}


def test_api_key_flag_beats_token_from_env() -> None:
    assert resolve({"LIVECLI_EPHEMERAL_TOKEN": FAKE_TOKEN}, api_key=FAKE_KEY).backend == "gemini"


@pytest.mark.parametrize(
    ("env", "options", "message"),
    [
        ({}, {"token": "not-a-token"}, "--token must be an ephemeral token name starting with auth_tokens/"),
        ({"LIVECLI_EPHEMERAL_TOKEN": "x"}, {}, "env LIVECLI_EPHEMERAL_TOKEN must be an ephemeral token"),
        ({}, {"token": FAKE_TOKEN, "vertex": True}, "work only with the Gemini API"),
        ({"GOOGLE_GENAI_USE_VERTEXAI": "true"}, {"token": FAKE_TOKEN}, "not Vertex AI"),
        ({}, {"token": FAKE_TOKEN, "api_key": FAKE_KEY}, "--token and --api-key"),
        ({}, {"token": FAKE_TOKEN, "api_version": "v1beta"}, "not valid for ephemeral tokens"),
        ({}, {"token": FAKE_TOKEN, "key_in_query": True}, "--key-in-query applies to API keys"),
    ],
)
def test_bad_token_combinations_are_usage_errors(
    env: dict[str, str], options: dict[str, object], message: str
) -> None:
    with pytest.raises(UsageError, match=re.escape(message)) as info:
        resolve(env, **options)
    assert FAKE_TOKEN not in str(info.value)


# --- Vertex AI -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("location", "host"),
    [
        ("global", "aiplatform.googleapis.com"),
        ("us-central1", "us-central1-aiplatform.googleapis.com"),
        ("us", "aiplatform.us.rep.googleapis.com"),
        ("eu", "aiplatform.eu.rep.googleapis.com"),
    ],
)
def test_vertex_adc_hosts_path_model_and_bearer(adc_env: dict[str, str], location: str, host: str) -> None:
    target = resolve(adc_env, vertex=True, project="my-proj", location=location)
    assert target.url == f"wss://{host}" + VERTEX_PATH.format("v1")
    assert target.model == f"projects/my-proj/locations/{location}/publishers/google/models/{MODEL}"
    assert target.headers == {"Authorization": f"Bearer {FAKE_ACCESS_TOKEN}"}
    assert target.backend == "vertex"
    assert target.secrets == (FAKE_ACCESS_TOKEN,)


def test_vertex_from_env_with_project_location_and_adc_project(adc_env: dict[str, str]) -> None:
    env = dict(adc_env, GOOGLE_GENAI_USE_VERTEXAI="true", GOOGLE_CLOUD_LOCATION="europe-west4")
    target = resolve(env, api_version="v1beta1")
    assert target.url == "wss://europe-west4-aiplatform.googleapis.com" + VERTEX_PATH.format("v1beta1")
    assert target.model.startswith("projects/sa-project/locations/europe-west4/")  # project from the SA file
    assert target.sources["project"] == "ADC"
    assert resolve(dict(env, GOOGLE_CLOUD_PROJECT="env-proj")).model.startswith("projects/env-proj/")
    assert resolve(dict(env, GOOGLE_CLOUD_PROJECT="env-proj"), project="flag-proj").model.startswith(
        "projects/flag-proj/locations/europe-west4/"
    )
    assert resolve(env, vertex=False, api_key=FAKE_KEY).backend == "gemini"  # --no-vertex beats the env


def test_vertex_defaults_to_global_and_v1(adc_env: dict[str, str]) -> None:
    target = resolve(adc_env, vertex=True)
    assert target.url == "wss://aiplatform.googleapis.com" + VERTEX_PATH.format("v1")
    assert "/locations/global/" in target.model
    with pytest.raises(UsageError, match="v1beta is not valid for Vertex AI"):
        resolve(adc_env, vertex=True, api_version="v1beta")


def test_vertex_quota_project_from_env(adc_env: dict[str, str]) -> None:
    target = resolve(dict(adc_env, GOOGLE_CLOUD_QUOTA_PROJECT="qp"), vertex=True)
    assert target.headers["x-goog-user-project"] == "qp"


def test_vertex_refreshed_fetches_a_new_token(adc_env: dict[str, str], google: FakeGoogle) -> None:
    target = resolve(adc_env, vertex=True)
    before = len(google.jwt_claims)
    again = target.refreshed()
    assert len(google.jwt_claims) == before + 1
    assert again.headers == target.headers
    assert again.url == target.url
    assert google.jwt_claims[-1]["scope"] == "https://www.googleapis.com/auth/cloud-platform"


@pytest.mark.parametrize("location", ["evil.example/x", "us-central1.evil.example", "US", "a b", "-x"])
def test_vertex_location_cannot_change_the_host(location: str) -> None:
    """The location is part of the host name: a crafted one must not send the Bearer token elsewhere."""
    with pytest.raises(UsageError, match="must be a location such as global"):
        resolve({"GOOGLE_CLOUD_LOCATION": location}, vertex=True, project="p", endpoint="ws://127.0.0.1:9")
    with pytest.raises(UsageError, match=r"^--location must be"):
        resolve(vertex=True, project="p", location=location)


def test_vertex_without_project_anywhere_names_every_place_to_set_it(google: FakeGoogle, tmp_path: Path) -> None:
    """Credentials that carry no project (authorized-user ADC): the error names --project and the variable."""
    adc = write_authorized_user(google, tmp_path / "adc.json")
    with pytest.raises(CredentialsError) as info:
        resolve({"GOOGLE_APPLICATION_CREDENTIALS": str(adc)}, vertex=True)
    assert str(info.value) == (
        "no Vertex AI project: pass --project, set GOOGLE_CLOUD_PROJECT, or use credentials that name one"
    )


def test_vertex_without_credentials_names_what_is_missing() -> None:
    with pytest.raises(CredentialsError, match="GOOGLE_APPLICATION_CREDENTIALS") as info:
        resolve(vertex=True, project="p")
    assert "--api-key" in str(info.value)


def test_vertex_loopback_with_project_needs_no_credentials() -> None:
    target = resolve(vertex=True, project="p", location="us-central1", endpoint="ws://127.0.0.1:9")
    assert target.url == "ws://127.0.0.1:9" + VERTEX_PATH.format("v1")
    assert target.headers == {}
    with pytest.raises(CredentialsError):
        resolve(vertex=True, endpoint="ws://127.0.0.1:9")  # no project anywhere: nothing to build the model from


def test_vertex_express_key_flag_wins_over_env_project() -> None:
    env = {"GOOGLE_CLOUD_PROJECT": "env-proj", "GOOGLE_CLOUD_LOCATION": "us-central1"}
    target = resolve(env, vertex=True, api_key=FAKE_KEY)
    assert target.url == "wss://aiplatform.googleapis.com" + VERTEX_PATH.format("v1")
    assert target.headers == {"x-goog-api-key": FAKE_KEY}
    assert (target.model, target.backend) == (f"publishers/google/models/{MODEL}", "vertex-express")


def test_vertex_express_from_env_key_and_env_project_beats_env_key(adc_env: dict[str, str]) -> None:
    assert resolve({"GEMINI_API_KEY": FAKE_KEY}, vertex=True).backend == "vertex-express"
    both = dict(adc_env, GEMINI_API_KEY=FAKE_KEY, GOOGLE_CLOUD_PROJECT="env-proj")
    assert resolve(both, vertex=True).backend == "vertex"
    with pytest.raises(UsageError, match="cannot be used together"):
        resolve(vertex=True, api_key=FAKE_KEY, project="p")


def test_environment_variable_list_covers_every_variable_read() -> None:
    sources = Path(livecli.auth.target.__file__).read_text() + Path(livecli.auth.adc.__file__).read_text()
    read = set(re.findall(r'environ(?:\.get)?\(\s*"([A-Z_]+)"', sources))
    read |= {name for call in re.findall(r"_pick\([^)]*\)", sources) for name in re.findall(r'"([A-Z_]+)"', call)}
    assert read
    assert read <= set(ENVIRONMENT_VARIABLES)
