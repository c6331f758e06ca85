"""doctor, end to end: what arrives at a real local WebSocket server for every backend, and the report."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fake_google import (
    FAKE_ACCESS_TOKEN,
    FAKE_KEY,
    FAKE_TOKEN,
    FakeGoogle,
    write_service_account,
)
from helpers import SAMPLES, Result, local_server, recorded_frames, run_cli, ws_server_thread
from websockets.sync.server import ServerConnection

from livecli.auth.target import ConnectOptions, resolve_target

HELLO_WAV = str(SAMPLES / "hello_16k.wav")

GEMINI_PATH = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"
CONSTRAINED_PATH = "/ws/google.ai.generativelanguage.v1alpha.GenerativeService.BidiGenerateContentConstrained"
VERTEX_PATH = "/ws/google.cloud.aiplatform.v1.LlmBidiService/BidiGenerateContent"
SECRETS = (FAKE_KEY, FAKE_TOKEN, FAKE_ACCESS_TOKEN)


pytestmark = pytest.mark.usefixtures("isolated_credentials")


@pytest.fixture(name="fake")
def fake_with_adc(fake: FakeGoogle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeGoogle:
    """The shared fake endpoint, with a service-account ADC file pointing at it."""
    path = write_service_account(fake, tmp_path / "sa.json")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(path))
    return fake


@dataclass
class Capture:
    """A WebSocket server that records each upgrade request and first frame, then answers setupComplete."""

    url: str = ""
    requests: list[tuple[str, dict[str, str], dict[str, Any]]] = field(default_factory=list)
    close_reason: str | None = None


@pytest.fixture(scope="module")
def capture() -> Iterator[Capture]:
    state = Capture()

    def handler(connection: ServerConnection) -> None:
        assert connection.request is not None
        headers = {k.lower(): v for k, v in connection.request.headers.raw_items()}
        first = json.loads(connection.recv(timeout=5))
        state.requests.append((connection.request.path, headers, first))
        if state.close_reason is not None:
            connection.close(1007, state.close_reason)
        else:
            connection.send(b'{"setupComplete": {}}')

    with ws_server_thread(handler) as state.url:
        yield state


def as_flags(**options: str | bool) -> list[str]:
    """Command-line flags for ConnectOptions' keywords: api_key="K" -> --api-key K, vertex=True -> --vertex."""
    out: list[str] = []
    for name, value in options.items():
        out += [f"--{name.replace('_', '-')}"] + ([] if value is True else [str(value)])
    return out


def arrival(
    capture: Capture, *flags: str, path: str = "", env: dict[str, str] | None = None
) -> tuple[str, dict[str, str], str]:
    """Run `livecli doctor` against the capture server; return path+query, auth headers and setup model that
    arrived."""
    result = doctor("--endpoint", capture.url + path, *flags, "--json", env=env)
    assert result.exit_code == 0, result.stdout
    path, headers, first = capture.requests[-1]
    wanted = ("x-goog-api-key", "authorization", "x-goog-user-project")
    return path, {k: v for k, v in headers.items() if k in wanted}, first["setup"]["model"]


def test_gemini_key_arrives_as_header(capture: Capture) -> None:
    assert arrival(capture, "--api-key", FAKE_KEY) == (
        GEMINI_PATH,
        {"x-goog-api-key": FAKE_KEY},
        "models/gemini-3.8-live",
    )


def test_gemini_key_in_query_and_endpoint_path_kept(capture: Capture) -> None:
    path, headers, _ = arrival(capture, "--api-key", FAKE_KEY, "--key-in-query", path="/custom/p?x=1")
    assert (path, headers) == (f"/custom/p?x=1&key={FAKE_KEY}", {})


def test_ephemeral_token_arrives_in_query_or_header(capture: Capture) -> None:
    path, headers, model = arrival(capture, "--token", FAKE_TOKEN)
    assert (path, headers, model) == (
        f"{CONSTRAINED_PATH}?access_token={FAKE_TOKEN}",
        {},
        "models/gemini-3.8-live",
    )
    path, headers, _ = arrival(capture, "--token", FAKE_TOKEN, "--token-in-header")
    assert (path, headers) == (CONSTRAINED_PATH, {"authorization": f"Token {FAKE_TOKEN}"})


def test_vertex_adc_bearer_and_quota_project_arrive(capture: Capture, fake: FakeGoogle) -> None:
    quota = {"GOOGLE_CLOUD_QUOTA_PROJECT": "billing-proj"}
    assert arrival(capture, "--vertex", "--location", "us-central1", env=quota) == (
        VERTEX_PATH,
        {"authorization": f"Bearer {FAKE_ACCESS_TOKEN}", "x-goog-user-project": "billing-proj"},
        "projects/sa-project/locations/us-central1/publishers/google/models/gemini-3.8-live",
    )
    assert fake.jwt_claims, "the Bearer token came from a verified JWT exchange"


def test_vertex_express_key_arrives(capture: Capture) -> None:
    assert arrival(capture, "--vertex", "--api-key", FAKE_KEY, "--api-version", "v1beta1") == (
        VERTEX_PATH.replace(".v1.", ".v1beta1."),
        {"x-goog-api-key": FAKE_KEY},
        "publishers/google/models/gemini-3.8-live",
    )


def test_doctor_sends_the_setup_send_would_send(capture: Capture) -> None:
    """The endpoint check's setup is send's default one, so a setup the endpoint refuses shows up in doctor."""
    arrival(capture, "--api-key", FAKE_KEY)
    setup = capture.requests[-1][2]["setup"]
    sent = run_cli("send", HELLO_WAV, "--endpoint", capture.url, "--api-key", FAKE_KEY, "--dry-run", "--json")
    assert setup == sent.json_lines[0]["setup"]["setup"]


@pytest.mark.parametrize(
    ("require", "options"),
    [
        ({"require_key": FAKE_KEY}, {"api_key": FAKE_KEY}),
        ({"require_key": FAKE_KEY}, {"api_key": FAKE_KEY, "key_in_query": True}),
        ({"require_ephemeral": FAKE_TOKEN}, {"token": FAKE_TOKEN}),
        ({"require_ephemeral": FAKE_TOKEN}, {"token": FAKE_TOKEN, "token_in_header": True}),
        ({"require_bearer": FAKE_ACCESS_TOKEN}, {"vertex": True, "location": "europe-west4"}),
        ({"require_key": FAKE_KEY}, {"vertex": True, "api_key": FAKE_KEY}),
    ],
)
def test_livecli_server_accepts_each_backend(
    fake: FakeGoogle, tmp_path: Path, require: dict[str, str], options: dict[str, Any]
) -> None:
    """livecli's own server, requiring the credential, accepts the upgrade and the setup; its record agrees."""
    record = tmp_path / "record.jsonl"
    with local_server(record=str(record), **require) as server:
        result = doctor("--endpoint", server.url, *as_flags(**options), "--json")
        target = resolve_target(ConnectOptions(endpoint=server.url, **options), {})
    assert result.exit_code == 0, result.stdout
    events = recorded_frames(record)
    opened = next(e for e in events if e["kind"] == "open")
    setup = next(e for e in events if e["from"] == "client" and "message" in e)["message"]["setup"]
    assert opened["path"] == target.url.split("?")[0][len(server.url) :]
    assert setup["model"] == target.model
    assert not any(secret in (record / "frames.jsonl").read_text() for secret in SECRETS)


def unfolded(result: Any) -> str:
    """stdout + stderr, then each table column's cells joined without whitespace, so that a secret the table
    folded over two lines is still found (compare against secrets, which hold no spaces)."""
    text = result.stdout + result.stderr
    columns: list[str] = ["", "", "", ""]
    for line in text.splitlines():
        cells = line.strip().strip("│").split("│")
        if len(cells) == 4:
            columns = [column + "".join(cell.split()) for column, cell in zip(columns, cells, strict=True)]
    return text + "\n" + "\n".join(columns)


def doctor(*args: str, env: dict[str, str] | None = None) -> Result:
    """`livecli doctor ARGS`, whatever its exit status (the tests check it)."""
    return run_cli("doctor", *args, env=env, expect=None)


def test_doctor_json_without_credentials_fails_with_exit_3_and_a_hint() -> None:
    result = doctor("--json")
    assert result.exit_code == 3
    report = json.loads(result.stdout)
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["backend"]["status"] == "fail"
    assert "GEMINI_API_KEY" in checks["backend"]["detail"]
    assert checks["backend"]["hint"]
    assert checks["endpoint"]["status"] == "skip"
    assert checks["numpy"]["status"] == "ok"
    assert checks["soundfile"]["status"] == "ok"
    assert "libsndfile" in checks["soundfile"]["detail"]
    assert report["exit_status"] == 3


def test_doctor_local_accepts_the_setup() -> None:
    result = doctor("--local", "--json")
    report = json.loads(result.stdout)
    assert result.exit_code == 0, report
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["endpoint"] == {
        "name": "endpoint",
        "status": "ok",
        "detail": "setupComplete received",
        "hint": "",
        "exit_status": 0,
    }
    assert checks["backend"]["detail"].startswith("local: ws://127.0.0.1:")


def test_doctor_table_masks_the_key_on_success_and_on_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", FAKE_KEY)
    with local_server(require_key=FAKE_KEY) as server:
        ok = doctor("--endpoint", server.url)
        bad = doctor("--endpoint", server.url, "--api-key", "AIza-wrong-key-000000")
        query = doctor("--endpoint", server.url, "--key-in-query", "--json")
    assert ok.exit_code == 0
    assert "setupComplete received" in ok.stdout
    assert "AIza…(40 chars)" in ok.stdout
    assert "env GEMINI_API_KEY" in ok.stdout
    assert bad.exit_code == 3
    assert "1007" in bad.stdout
    assert query.exit_code == 0
    assert "key=***" in query.stdout
    for result in (ok, bad, query):
        assert not any(s in unfolded(result) for s in (*SECRETS, "AIza-wrong-key-000000"))


def test_doctor_vertex_reports_fetched_bearer(fake: FakeGoogle) -> None:
    result = doctor("--vertex", "--json")
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert result.exit_code == 0
    assert checks["credentials"]["detail"].startswith("Bearer ya29")
    assert "access token fetched" in checks["credentials"]["detail"]
    assert "quota project" not in checks["credentials"]["detail"]
    quota = doctor("--vertex", "--json", env={"GOOGLE_CLOUD_QUOTA_PROJECT": "billing-proj"})
    detail = {c["name"]: c for c in json.loads(quota.stdout)["checks"]}["credentials"]["detail"]
    assert detail.endswith(", quota project billing-proj in x-goog-user-project")
    assert FAKE_ACCESS_TOKEN not in result.stdout


def test_doctor_escapes_server_text(capture: Capture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(capture, "close_reason", "bad \x1b[31mred\x07")
    result = doctor("--endpoint", capture.url)
    assert result.exit_code == 3
    assert "\x1b" not in result.stdout
    assert "\x07" not in result.stdout
    assert "\\x1b[31mred" in result.stdout


@pytest.mark.parametrize("echoed", SECRETS)
def test_doctor_masks_a_secret_the_server_echoes_in_its_close_reason(
    capture: Capture, fake: FakeGoogle, monkeypatch: pytest.MonkeyPatch, echoed: str
) -> None:
    """The server closes 1007 quoting the credential back: neither the table nor --json may show it."""
    monkeypatch.setattr(capture, "close_reason", f"invalid credential {echoed}")
    options = {
        FAKE_KEY: ["--api-key", FAKE_KEY],
        FAKE_TOKEN: ["--token", FAKE_TOKEN],
        FAKE_ACCESS_TOKEN: ["--vertex"],
    }
    for extra in ([], ["--json"]):
        result = doctor("--endpoint", capture.url, *options[echoed], *extra)
        assert result.exit_code == 3
        assert "invalidcredential***" in "".join(unfolded(result).split())
        assert not any(secret in unfolded(result) for secret in SECRETS)


@dataclass(frozen=True)
class Failing:
    """An endpoint that fails the setup in one way, and what both doctor and send must say about it."""

    url: str
    flags: list[str]
    status: int
    needle: str
    env: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module")
def failing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Failing]]:
    """Real local endpoints (and a proxy) that each fail the setup in one way."""
    tls_dir = tmp_path_factory.mktemp("tls")
    with (
        local_server(require_key=FAKE_KEY) as keyed,
        local_server(tls_self_signed_dir=str(tls_dir)) as untrusted,
        socket.socket() as unused,
    ):
        unused.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        dead = f"127.0.0.1:{unused.getsockname()[1]}"
        yield {
            "refused": Failing(f"ws://{dead}", [], 4, f"cannot connect to {dead}"),
            "404 path": Failing(
                keyed.url + "/no/live/api", ["--api-key", FAKE_KEY], 4, "no Live API at 127.0.0.1"
            ),
            "close 1007": Failing(keyed.url, ["--api-key", "AIza-wrong-key-000000"], 3, "1007"),
            "TLS": Failing(untrusted.url, [], 4, "not trusted"),
            # The environment's proxy applies to a remote endpoint (doctor used to pick proxies its own way).
            "proxy": Failing(
                "wss://live.example.invalid",
                ["--api-key", FAKE_KEY],
                4,
                f"cannot connect to the proxy {dead} (from the environment)",
                {"HTTPS_PROXY": f"http://{dead}"},
            ),
        }


@pytest.mark.parametrize("case", ["refused", "404 path", "close 1007", "TLS", "proxy"])
def test_doctor_meets_what_send_meets(failing: dict[str, Failing], case: str) -> None:
    """doctor's endpoint check connects the way send does: the same exit status and the same words, plus a hint."""
    end = failing[case]
    result = doctor("--endpoint", end.url, *end.flags, "--json", "--connect-timeout", "5", env=end.env)
    report = json.loads(result.stdout)
    endpoint = next(c for c in report["checks"] if c["name"] == "endpoint")
    sent = run_cli("send", HELLO_WAV, "--endpoint", end.url, *end.flags, "--speed", "0", env=end.env, expect=None)
    assert result.exit_code == end.status
    assert report["exit_status"] == end.status
    assert sent.exit_code == end.status
    assert endpoint["status"] == "fail"
    assert end.needle in endpoint["detail"]
    assert endpoint["detail"] in sent.stderr
    assert endpoint["hint"]


def test_doctor_refused_connection_hint_names_url_network_and_proxy(failing: dict[str, Failing]) -> None:
    endpoint = json.loads(doctor("--endpoint", failing["refused"].url, "--json").stdout)["checks"][-1]
    assert endpoint["name"] == "endpoint"
    assert "check the URL, network and proxy" in endpoint["hint"]


def test_doctor_time_limit_is_connect_timeout_and_old_timeout_still_works() -> None:
    """--connect-timeout bounds the check as for send; --timeout is accepted with a one-line deprecation."""
    with socket.socket() as listener:  # accepts TCP, never answers the upgrade
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        url = f"ws://127.0.0.1:{listener.getsockname()[1]}"
        new = doctor("--endpoint", url, "--json", "--connect-timeout", "0.2")
        old = doctor("--endpoint", url, "--json", "--timeout", "0.2")
    for result in (new, old):
        assert result.exit_code == 4
        assert "timed out after 0.2 s" in json.loads(result.stdout)["checks"][-1]["detail"]
    assert new.stderr == ""
    assert old.stderr == "livecli: warning: --timeout is deprecated: use --connect-timeout\n"


def test_doctor_old_timeout_must_be_positive() -> None:
    result = doctor("--local", "--timeout", "0")
    assert result.exit_code == 2
    assert "must be more than 0" in result.stderr


def test_every_failed_check_has_a_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    """Usage errors from the environment get a hint too (it was empty), and the table goes to stdout."""
    monkeypatch.setenv("GOOGLE_GENAI_USE_VERTEXAI", "yes")
    result = doctor("--json")
    failed = [c for c in json.loads(result.stdout)["checks"] if c["status"] == "fail"]
    assert result.exit_code == 2
    assert failed
    assert all(c["hint"] for c in failed)
    table = doctor()
    assert table.exit_code == 2
    assert "GOOGLE_GENAI_USE_VERTEXAI" in table.stdout
    assert "fail" in table.stdout


def test_doctor_backend_error_never_shows_an_env_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """A resolve failure is redacted with the environment's secrets too, not only the flags'."""
    monkeypatch.setenv("LIVECLI_EPHEMERAL_TOKEN", FAKE_TOKEN)
    result = doctor("--json", "--vertex")
    assert result.exit_code == 2
    assert "ephemeral tokens (env LIVECLI_EPHEMERAL_TOKEN)" in result.stdout
    assert FAKE_TOKEN not in result.stdout
