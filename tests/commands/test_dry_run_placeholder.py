"""--dry-run as a new user runs it first: without a key it still shows what would be sent (with a placeholder)
and says which credential a real run would use; `text --dry-run` shows the prompt's frame; a loopback endpoint
reads `local`, not `gemini`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_google import FAKE_KEY
from helpers import LocalServer, run_cli

from livecli.auth.target import PLACEHOLDER_SOURCE, ConnectOptions, resolve_target
from livecli.errors import CredentialsError

pytestmark = pytest.mark.usefixtures("isolated_credentials")

SAMPLE = str(Path(__file__).resolve().parents[2] / "samples" / "hello_16k.wav")


def test_text_dry_run_without_a_key_shows_a_placeholder_and_the_prompt_frame() -> None:
    result = run_cli("text", "hi there", "--dry-run")
    assert "x-goog-api-key: ***" in result.stdout
    assert f"credentials: {PLACEHOLDER_SOURCE} (no API key: set GEMINI_API_KEY" in result.stdout
    assert 'prompt (sent after setupComplete):\n  {"realtimeInput":{"text":"hi there"}}\n' in result.stdout
    assert "chunk plan" not in result.stdout


def test_text_dry_run_shows_a_client_content_frame() -> None:
    report = json.loads(run_cli("text", "hi", "--client-content", "--dry-run", "--json").stdout)
    assert json.loads(report["prompt_frame"]) == {
        "clientContent": {"turns": [{"parts": [{"text": "hi"}], "role": "user"}], "turnComplete": True}
    }


def test_send_dry_run_without_a_key_exits_0_and_the_real_run_exits_3() -> None:
    report = json.loads(run_cli("send", SAMPLE, "--dry-run", "--json").stdout)
    assert report["headers"] == {"x-goog-api-key": "***"}
    assert report["credentials"].startswith(PLACEHOLDER_SOURCE)
    assert report["chunk_plan"][0]["chunks"] > 0
    assert "prompt_frame" not in report
    real = run_cli("send", SAMPLE, expect=3)
    assert "no API key" in real.stderr


def test_dry_run_names_the_key_it_would_use_without_showing_it() -> None:
    result = run_cli("text", "hi", "--dry-run", env={"GEMINI_API_KEY": FAKE_KEY})
    assert f"credentials: API key {FAKE_KEY[:4]}…({len(FAKE_KEY)} chars) in x-goog-api-key" in result.stdout
    assert "from env GEMINI_API_KEY" in result.stdout
    assert FAKE_KEY not in result.stdout + result.stderr
    as_json = run_cli("text", "hi", "--dry-run", "--json", env={"GEMINI_API_KEY": FAKE_KEY})
    assert FAKE_KEY not in as_json.stdout + as_json.stderr


def test_key_in_query_placeholder_stays_masked() -> None:
    report = json.loads(run_cli("text", "hi", "--dry-run", "--json", "--key-in-query").stdout)
    assert report["url"].endswith("?key=***")
    assert report["headers"] == {}


def test_vertex_dry_run_without_adc_or_project_shows_placeholders() -> None:
    target = resolve_target(ConnectOptions(vertex=True, location="us-central1"), {}, fetch_credentials=False)
    assert target.headers == {"Authorization": "Bearer PLACEHOLDER"}
    assert target.model.startswith("projects/PLACEHOLDER/locations/us-central1/")
    assert target.sources["credentials"].startswith(PLACEHOLDER_SOURCE)
    with pytest.raises(CredentialsError):
        resolve_target(ConnectOptions(vertex=True, location="us-central1"), {})


@pytest.mark.parametrize(
    ("options", "label"),
    [
        (ConnectOptions(api_key=FAKE_KEY, endpoint="ws://127.0.0.1:9"), "local"),
        (ConnectOptions(endpoint="ws://localhost:9"), "local"),
        (ConnectOptions(api_key=FAKE_KEY, vertex=True, endpoint="ws://[::1]:9"), "local vertex-express"),
        (ConnectOptions(api_key=FAKE_KEY, endpoint="wss://gw.example"), "gemini"),
    ],
)
def test_a_loopback_endpoint_is_labelled_local(options: ConnectOptions, label: str) -> None:
    assert resolve_target(options, {}).backend == label


def test_send_to_a_loopback_endpoint_says_local(live_server: LocalServer) -> None:
    result = run_cli("text", "hi", "--endpoint", live_server.url, "--speed", "0")
    assert f"connecting to {live_server.url} (local)" in result.stderr
