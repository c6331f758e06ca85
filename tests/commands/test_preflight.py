"""The preflight: each combination the model table says the service refuses is one line and exit 2 before
connecting; --no-preflight sends it anyway, and the local server (reading the same table) refuses it as the
service does."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import LocalServer, run_cli
from hypothesis import given, settings
from hypothesis import strategies as st

from livecli.auth.target import ConnectOptions
from livecli.commands.request import RunRequest, build_setup
from livecli.commands.session_setup import SessionOptions
from livecli.errors import UsageError
from livecli.protocol import close_reasons as cr
from livecli.protocol.client_messages import setup_message
from livecli.protocol.models import MODELS
from livecli.server.validate import Refusal, check_setup, parse_client_frame

V25 = "gemini-2.5-flash-native-audio-preview-12-2025"
V31 = "gemini-3.1-flash-live-preview"
V38 = "gemini-3.8-live"
V38X = "gemini-3.8-live-extended-thinking"
TRANSLATE = "gemini-3.5-live-translate-preview"
NOWHERE = "ws://127.0.0.1:9/"  # nothing listens: a run that tried to connect would exit 4, not 2

# (model, flags, what the line says, the close the local server answers with under --no-preflight)
REFUSALS = [
    (V38, ["--modality", "text"], "answers only in AUDIO: drop --modality text", cr.NON_AUDIO),
    (V38, ["--thinking-level", "low"], "takes no thinkingConfig: drop --thinking-level", cr.INVALID_ARGUMENT),
    (V31, ["--thinking-budget", "100"], "takes thinkingLevel, not thinkingBudget", cr.INVALID_ARGUMENT),
    (V38X, ["--thinking-level", "minimal"], "takes thinkingLevel LOW/MEDIUM/HIGH", cr.INVALID_ARGUMENT),
    (V25, ["--thinking-level", "high"], "takes thinkingBudget, not thinkingLevel", cr.INVALID_ARGUMENT),
    (V38, ["--affective-dialog"], "has no affective dialog: drop --affective-dialog", cr.INVALID_ARGUMENT),
    (V31, ["--affective-dialog"], "has no affective dialog", cr.INVALID_ARGUMENT),
    (
        V38,
        ["--no-proactive-audio"],
        "always has proactive audio on: drop --no-proactive-audio",
        cr.INVALID_ARGUMENT,
    ),
    (V31, ["--proactive-audio"], "has no proactive audio", cr.INVALID_ARGUMENT),
    (V38, ["--code-execution"], "has no codeExecution tool: drop --code-execution", cr.NOT_SUPPORTED),
    (V31, ["--code-execution"], "has no codeExecution tool", cr.NOT_SUPPORTED),
    (TRANSLATE, ["--google-search"], "has no googleSearch tool: drop --google-search", cr.NOT_SUPPORTED),
    (TRANSLATE, ["--url-context"], "has no urlContext tool: drop --url-context", cr.NOT_SUPPORTED),
    (TRANSLATE, ["--system", "be brief"], "takes no system instruction: drop --system", cr.INVALID_ARGUMENT),
]
IDS = [f"{model} {' '.join(flags)}" for model, flags, _, _ in REFUSALS]


@pytest.mark.parametrize(("model", "flags", "line", "close"), REFUSALS, ids=IDS)
def test_the_preflight_refuses_before_connecting(model: str, flags: list[str], line: str, close: object) -> None:
    result = run_cli("text", "hi", "--endpoint", NOWHERE, "--api-key", "k", "--model", model, *flags, expect=2)
    assert line in result.stderr
    assert "--no-preflight" in result.stderr
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(("model", "flags", "line", "close"), REFUSALS, ids=IDS)
def test_no_preflight_sends_it_and_the_server_refuses_it_as_the_service_does(
    live_server: LocalServer, model: str, flags: list[str], line: str, close: cr.CloseReason
) -> None:
    args = ["text", "hi", "--endpoint", live_server.endpoint(), "--api-key", "k", "--model", model, *flags]
    result = run_cli(*args, "--no-preflight", "--max-reconnects", "0", expect=None)
    assert result.exit_code not in (0, 2)
    assert str(close.code) in result.stderr
    assert close.needle in result.stderr


def test_client_content_on_31_needs_history_config(live_server: LocalServer, tmp_path: Path) -> None:
    """3.1 takes clientContent only to seed the history, with historyConfig; given that (--setup), it is sent."""
    args = [
        "text",
        "hi",
        "--client-content",
        "--endpoint",
        live_server.endpoint(),
        "--api-key",
        "k",
        "--model",
        V31,
    ]
    refused = run_cli(*args, expect=2)
    assert "takes clientContent only to seed the history" in refused.stderr
    setup = tmp_path / "history.toml"
    setup.write_text("[history_config]\ninitial_history_in_client_content = true\n")
    run_cli(*args, "--setup", str(setup))


def test_client_content_on_a_model_that_never_takes_it_is_refused() -> None:
    result = run_cli("text", "hi", "--client-content", "--local", "--dry-run", "--model", TRANSLATE, expect=2)
    assert "does not take clientContent turns: drop --client-content" in result.stderr


def test_a_refused_field_from_the_setup_file_names_the_file(tmp_path: Path) -> None:
    setup = tmp_path / "s.json"
    setup.write_text('{"tools": [{"codeExecution": {}}]}')
    result = run_cli("text", "hi", "--local", "--dry-run", "--setup", str(setup), expect=2)
    assert f"has no codeExecution tool: remove tools.codeExecution from --setup {setup}" in result.stderr


def test_unknown_models_pass_the_preflight_and_no_preflight_still_builds_the_setup() -> None:
    """The table knows nothing of an unknown model: its setup is sent as the flags build it."""
    request = RunRequest(
        connect=ConnectOptions(), prompt="hi", session=SessionOptions(thinking_level="low", code_execution=True)
    )
    setup = build_setup(request, "models/gemini-9-live")
    assert setup.thinking == {"thinkingLevel": "LOW"}
    assert setup.builtin_tools == ("codeExecution",)
    with pytest.raises(UsageError):
        build_setup(request, V38)
    request.session.preflight = False
    assert build_setup(request, V38).builtin_tools == ("codeExecution",)


@pytest.mark.parametrize("model", sorted(MODELS))
def test_every_model_takes_its_own_default_setup(model: str) -> None:
    """The preflight refuses nothing the flags' defaults build, on any model the table knows."""
    setup = build_setup(RunRequest(connect=ConnectOptions(), inputs=["a.wav"]), model)
    assert setup.model == model


SESSIONS = st.builds(
    SessionOptions,
    temperature=st.none() | st.floats(0, 2),
    top_k=st.none() | st.integers(1, 100),
    thinking_level=st.none() | st.sampled_from(["minimal", "low", "high"]),
    thinking_budget=st.none() | st.integers(-1, 1000),
    affective_dialog=st.booleans(),
    proactive_audio=st.none() | st.booleans(),
    vad_silence_ms=st.none() | st.integers(0, 2000),
    activity_handling=st.none() | st.sampled_from(["interrupt", "no-interrupt"]),
    context_compression=st.booleans(),
    google_search=st.booleans(),
    code_execution=st.booleans(),
    url_context=st.booleans(),
)


@settings(max_examples=200, deadline=None)
@given(model=st.sampled_from(sorted(MODELS)), session=SESSIONS, system=st.none() | st.just("be brief"))
def test_the_preflight_and_the_local_server_agree(model: str, session: SessionOptions, system: str | None) -> None:
    """What the preflight lets through the local server accepts; what it refuses, the server refuses too."""
    if session.thinking_level is not None:
        session.thinking_budget = None
    request = RunRequest(connect=ConnectOptions(), prompt="hi", system=system, session=session)
    try:
        build_setup(request, model)
        refused = False
    except UsageError:
        refused = True
    session.preflight = False
    _, body = parse_client_frame(setup_message(build_setup(request, model)))
    try:
        check_setup(body)
        accepted = True
    except Refusal:
        accepted = False
    assert accepted is not refused


def test_a_refusal_never_shows_the_key(tmp_path: Path) -> None:
    """The one line names the model and the flag, never the credentials (also with --json)."""
    key = "preflight-secret-key-0123456789"
    setup = tmp_path / "s.json"
    setup.write_text('{"tools": [{"codeExecution": {}}]}')
    for extra in ([], ["--json"]):
        result = run_cli(
            "text", "hi", "--endpoint", NOWHERE, "--api-key", key, "--setup", str(setup), *extra, expect=2
        )
        assert key not in result.stdout + result.stderr
