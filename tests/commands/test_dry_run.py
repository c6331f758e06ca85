"""--dry-run: URL, headers, exact setup and chunk plan for every backend, secrets redacted, no socket opened."""

from __future__ import annotations

import io
import json
import socket
from pathlib import Path

import pytest
from fake_google import (
    FAKE_ACCESS_TOKEN,
    FAKE_KEY,
    FAKE_TOKEN,
    FakeGoogle,
    write_service_account,
)
from helpers import run_cli

from livecli.auth.target import ConnectOptions, resolve_target
from livecli.commands.dry_run import dry_run, dry_run_report, redacted_headers
from livecli.env import Env
from livecli.protocol.endpoints import Target

SECRETS = (FAKE_KEY, FAKE_TOKEN, FAKE_ACCESS_TOKEN)


pytestmark = pytest.mark.usefixtures("isolated_credentials")


def make_env() -> tuple[Env, io.BytesIO]:
    out = io.BytesIO()
    return Env(stdin=io.BytesIO(), stdout=out, stderr=io.StringIO()), out


def setup_of(target: Target) -> dict[str, object]:
    return {"setup": {"model": target.model, "generationConfig": {"responseModalities": ["AUDIO"]}}}


def run(target: Target, *, as_json: bool) -> str:
    env, out = make_env()
    assert dry_run(target, setup_of(target), {"hello.wav": [1280] * 74 + [640]}, env, json=as_json) == 0
    text = out.getvalue().decode()
    for secret in SECRETS:
        assert secret not in text
    return text


CASES = {
    "gemini": (ConnectOptions(api_key=FAKE_KEY), {"x-goog-api-key": "***"}, "models/gemini-3.8-live"),
    "gemini-query": (ConnectOptions(api_key=FAKE_KEY, key_in_query=True), {}, "models/gemini-3.8-live"),
    "ephemeral": (ConnectOptions(token=FAKE_TOKEN), {}, "models/gemini-3.8-live"),
    "ephemeral-header": (
        ConnectOptions(token=FAKE_TOKEN, token_in_header=True),
        {"Authorization": "Token ***"},
        "models/gemini-3.8-live",
    ),
    "vertex-express": (
        ConnectOptions(vertex=True, api_key=FAKE_KEY),
        {"x-goog-api-key": "***"},
        "publishers/google/models/gemini-3.8-live",
    ),
    "local": (ConnectOptions(local=True), {}, "models/gemini-3.8-live"),
}


@pytest.mark.parametrize("case", CASES)
def test_dry_run_json_for_each_backend(case: str) -> None:
    options, headers, model = CASES[case]
    report = json.loads(run(resolve_target(options, {}, fetch_credentials=False), as_json=True))
    assert report["headers"] == headers
    assert report["model"] == model
    assert report["setup"]["setup"]["model"] == model
    assert json.loads(report["setup_frame"]) == report["setup"]
    assert report["chunk_plan"] == [
        {"input": "hello.wav", "chunks": 75, "bytes": 95360, "duration_s": 2.98, "sizes": [[1280, 74], [640, 1]]}
    ]
    if "query" in case:
        assert report["url"].endswith("?key=***")
    if case == "ephemeral":
        assert report["url"].endswith("BidiGenerateContentConstrained?access_token=***")


def test_dry_run_vertex_adc_opens_no_socket(fake: FakeGoogle, tmp_path: Path) -> None:
    env = {"GOOGLE_APPLICATION_CREDENTIALS": str(write_service_account(fake, tmp_path / "sa.json"))}
    target = resolve_target(ConnectOptions(vertex=True, location="us-central1"), env, fetch_credentials=False)
    report = json.loads(run(target, as_json=True))
    assert fake.records == []  # no token fetched
    assert report["url"] == (
        "wss://us-central1-aiplatform.googleapis.com/ws/google.cloud.aiplatform.v1.LlmBidiService/BidiGenerateContent"
    )
    assert report["headers"] == {"Authorization": "Bearer ***"}
    assert report["model"] == "projects/sa-project/locations/us-central1/publishers/google/models/gemini-3.8-live"


def test_dry_run_of_a_fetched_vertex_target_hides_the_access_token(fake: FakeGoogle, tmp_path: Path) -> None:
    env = {"GOOGLE_APPLICATION_CREDENTIALS": str(write_service_account(fake, tmp_path / "sa.json"))}
    target = resolve_target(ConnectOptions(vertex=True), env)
    assert target.headers["Authorization"] == f"Bearer {FAKE_ACCESS_TOKEN}"
    text = run(target, as_json=False)  # asserts no secret is in it
    assert "Authorization: Bearer ***" in text


def test_text_form_lists_everything_and_says_nothing_was_sent() -> None:
    target = resolve_target(ConnectOptions(api_key=FAKE_KEY, endpoint="wss://gw.example/p?x=1"), {})
    text = run(target, as_json=False)
    assert "url: wss://gw.example/p?x=1" in text
    assert "x-goog-api-key: ***" in text
    assert '{"setup":{"model":"models/gemini-3.8-live"' in text
    assert "hello.wav: 75 chunks, 95360 B, 2.98 s (74×1280 B, 1×640 B)" in text
    assert text.rstrip().endswith("dry run: nothing was sent")


def test_secret_inside_the_setup_or_an_unknown_header_is_redacted_too() -> None:
    target = resolve_target(ConnectOptions(api_key=FAKE_KEY), {})
    leaky = {"setup": {"model": target.model, "systemInstruction": {"parts": [{"text": f"key {FAKE_KEY}"}]}}}
    report = dry_run_report(target, leaky, [1280])
    assert FAKE_KEY not in json.dumps(report)
    assert "key ***" in report["setup_frame"]
    assert redacted_headers({"x-custom": f"k={FAKE_KEY}", "x-other": "plain"}, [FAKE_KEY]) == {
        "x-custom": "k=***",
        "x-other": "plain",
    }


def test_plain_list_plan_and_exact_string_setup() -> None:
    target = resolve_target(ConnectOptions(local=True), {})
    frame = '{"setup":{"model":"models/gemini-3.8-live"}}'
    report = dry_run_report(target, frame, [])
    assert report["setup_frame"] == frame
    assert report["chunk_plan"] == [{"input": "input", "chunks": 0, "bytes": 0, "duration_s": 0.0, "sizes": []}]


@pytest.mark.parametrize(
    ("credentials", "backend"),
    [
        (["--api-key", FAKE_KEY], "gemini"),
        (["--api-key", FAKE_KEY, "--key-in-query"], "gemini"),
        (["--token", FAKE_TOKEN], "ephemeral"),
        (["--token", FAKE_TOKEN, "--token-in-header"], "ephemeral"),
        (["--vertex", "--api-key", FAKE_KEY], "vertex-express"),
        (["--vertex", "--location", "europe-west4"], "vertex"),
    ],
)
def test_cli_dry_run_opens_no_socket_for_any_backend(
    fake: FakeGoogle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, credentials: list[str], backend: str
) -> None:
    """--endpoint names a listening socket that must accept nothing; no access token is fetched either."""
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(write_service_account(fake, tmp_path / "sa.json")))
    sample = Path(__file__).resolve().parents[2] / "samples" / "hello_16k.wav"
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.setblocking(False)
        endpoint = f"ws://127.0.0.1:{listener.getsockname()[1]}/live"
        for command in (["send", str(sample)], ["text", "hi"]):
            for extra in ([], ["--json"]):
                result = run_cli(*command, "--dry-run", "--endpoint", endpoint, *credentials, *extra)
                assert not any(secret in result.stdout + result.stderr for secret in SECRETS)
                assert endpoint in result.stdout
                assert backend in result.stdout
        with pytest.raises(BlockingIOError):
            listener.accept()
    assert fake.records == []
