"""Every session option reaches the setup as the API spells it: in --dry-run's setup, and in the setup frame the
local server received (its --record frame log), which the server accepted."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from helpers import LocalServer, local_server, recorded_frames, run_cli
from hypothesis import given
from hypothesis import strategies as st

from livecli.cli.app import app
from livecli.commands.session_setup import SessionOptions, load_setup_file
from livecli.errors import UsageError
from livecli.protocol.client_messages import merge_setup
from tests.commands.send_helpers import HELLO_WAV

V25 = "gemini-2.5-flash-native-audio-preview-12-2025"
V31 = "gemini-3.1-flash-live-preview"
KEY = "session-options-test-key-0123456789"


@pytest.mark.parametrize("command", ["send", "text"])
def test_session_options_default_to_what_the_request_defaults_to(command: str) -> None:
    """Each session option defaults to its SessionOptions field's default: "not given" means the same in code."""
    defaults = {f.name: f.default for f in dataclasses.fields(SessionOptions)}
    params = {p.name: p for p in typer.main.get_group(app).commands[command].params}
    assert set(defaults) <= set(params)
    for name, default in defaults.items():
        assert params[name].default == default, name


def test_session_options_have_their_own_help_sections() -> None:
    """send/text --help group the session options and built-in tools after the common options."""
    for command in ("send", "text"):
        text = run_cli(command, "--help", env={"COLUMNS": "80"}).stdout
        options, session = text.split("\nSession options:\n", 1)
        session, tools = session.split("\nBuilt-in tools:\n", 1)
        assert "--model" in options
        assert "--temperature" in session
        assert "--vad-silence-ms" in session
        assert "--temperature" not in options
        assert "--google-search" in tools


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalServer, Path]]:
    record = tmp_path_factory.mktemp("record") / "frames.jsonl"
    with local_server(record=str(record)) as server:
        yield server, record


def _last_setup(record: Path) -> dict[str, Any]:
    setups = [line["message"] for line in recorded_frames(record) if line["kind"].startswith("setup.")]
    return setups[-1]["setup"]  # type: ignore[no-any-return]


def _at(setup: dict[str, Any], path: str) -> Any:
    value: Any = setup
    for part in path.split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


def _sent_and_shown(
    recording: tuple[LocalServer, Path], args: list[str], model: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the setup the server received, the setup --dry-run printed) for `text hi` with `args`."""
    server, record = recording
    base = ["text", "hi", "--endpoint", server.endpoint(), "--api-key", KEY, "--model", model, *args]
    shown = run_cli(*base, "--dry-run", "--json").json_lines[0]["setup"]["setup"]
    result = run_cli(*base)
    assert KEY not in result.stdout + result.stderr
    return _last_setup(record), shown


OPTIONS = [
    (["--temperature", "0.4"], V25, "generationConfig.temperature", 0.4),
    (["--top-p", "0.8"], V25, "generationConfig.topP", 0.8),
    (["--top-k", "16"], V25, "generationConfig.topK", 16),
    (["--max-output-tokens", "64"], V25, "generationConfig.maxOutputTokens", 64),
    (["--seed", "42"], V25, "generationConfig.seed", 42),
    (["--thinking-level", "Low"], V31, "generationConfig.thinkingConfig", {"thinkingLevel": "LOW"}),
    (["--thinking-budget", "0"], V25, "generationConfig.thinkingConfig", {"thinkingBudget": 0}),
    (["--affective-dialog"], V25, "generationConfig.enableAffectiveDialog", True),
    (["--proactive-audio"], V25, "proactivity", {"proactiveAudio": True}),
    (["--no-proactive-audio"], V25, "proactivity", {"proactiveAudio": False}),
    (
        ["--vad-start-sensitivity", "high"],
        V25,
        "realtimeInputConfig.automaticActivityDetection",
        {"startOfSpeechSensitivity": "START_SENSITIVITY_HIGH"},
    ),
    (
        ["--vad-end-sensitivity", "low"],
        V25,
        "realtimeInputConfig.automaticActivityDetection",
        {"endOfSpeechSensitivity": "END_SENSITIVITY_LOW"},
    ),
    (["--vad-prefix-ms", "20"], V25, "realtimeInputConfig.automaticActivityDetection", {"prefixPaddingMs": 20}),
    (
        ["--vad-silence-ms", "300"],
        V25,
        "realtimeInputConfig.automaticActivityDetection",
        {"silenceDurationMs": 300},
    ),
    (["--activity-handling", "no-interrupt"], V25, "realtimeInputConfig.activityHandling", "NO_INTERRUPTION"),
    (
        ["--activity-handling", "interrupt"],
        V25,
        "realtimeInputConfig.activityHandling",
        "START_OF_ACTIVITY_INTERRUPTS",
    ),
    (["--turn-coverage", "all-input"], V25, "realtimeInputConfig.turnCoverage", "TURN_INCLUDES_ALL_INPUT"),
    (["--context-compression"], V25, "contextWindowCompression", {"slidingWindow": {}}),
    (
        ["--compression-trigger-tokens", "2000", "--compression-target-tokens", "1000"],
        V25,
        "contextWindowCompression",
        {"slidingWindow": {"targetTokens": 1000}, "triggerTokens": 2000},
    ),
    (["--google-search"], V25, "tools", [{"googleSearch": {}}]),
    (["--code-execution"], V25, "tools", [{"codeExecution": {}}]),
    (["--url-context"], "gemini-3.8-live", "tools", [{"urlContext": {}}]),
]


@pytest.mark.parametrize(("args", "model", "path", "expected"), OPTIONS, ids=[" ".join(o[0]) for o in OPTIONS])
def test_each_option_reaches_the_setup_as_the_api_spells_it(
    recording: tuple[LocalServer, Path], args: list[str], model: str, path: str, expected: Any
) -> None:
    sent, shown = _sent_and_shown(recording, args, model)
    assert _at(sent, path) == expected
    assert _at(shown, path) == expected


def test_vad_tuning_on_send_needs_server_vad(recording: tuple[LocalServer, Path]) -> None:
    """--vad-* with send's default --turn-end activity is a usage error; with --turn-end vad it is sent."""
    server, record = recording
    base = ["send", HELLO_WAV, "--endpoint", server.endpoint(), "--api-key", KEY, "--speed", "0"]
    refused = run_cli(*base, "--vad-silence-ms", "500", expect=2)
    assert "--turn-end silence or --turn-end vad" in refused.stderr
    run_cli(*base, "--vad-silence-ms", "500", "--turn-end", "vad", "--settle-ms", "100")
    assert _last_setup(record)["realtimeInputConfig"]["automaticActivityDetection"] == {"silenceDurationMs": 500}


def test_setup_file_merges_over_the_flags(recording: tuple[LocalServer, Path], tmp_path: Path) -> None:
    """snake_case keys camelCased, objects merged, lists replaced, null removes; sent and shown merged."""
    setup = tmp_path / "setup.json"
    setup.write_text(
        json.dumps(
            {
                "generation_config": {"temperature": 0.1, "speech_config": {"language_code": "fr-FR"}},
                "tools": [{"code_execution": {}}],
                "output_audio_transcription": None,
                "proactivity": {"proactive_video": True},
            }
        )
    )
    args = [
        "--setup",
        str(setup),
        "--temperature",
        "0.9",
        "--top-k",
        "5",
        "--google-search",
        "--language",
        "en-US",
    ]
    sent, shown = _sent_and_shown(recording, args, V25)
    assert sent == shown
    assert sent["generationConfig"]["temperature"] == 0.1
    assert sent["generationConfig"]["topK"] == 5
    assert sent["generationConfig"]["speechConfig"] == {"languageCode": "fr-FR"}
    assert sent["tools"] == [{"codeExecution": {}}]
    assert "outputAudioTranscription" not in sent
    assert sent["proactivity"] == {"proactiveVideo": True}


def test_setup_file_in_toml_keeps_free_form_names(tmp_path: Path) -> None:
    """A function's parameter names are the user's: only the schema's field names are camelCased."""
    setup = tmp_path / "setup.toml"
    setup.write_text(
        '[[setup.tools]]\n[[setup.tools.function_declarations]]\nname = "get_city"\n'
        '[setup.tools.function_declarations.parameters]\ntype = "OBJECT"\n'
        '[setup.tools.function_declarations.parameters.properties.city_name]\ntype = "STRING"\n'
    )
    fields = load_setup_file(str(setup))
    declaration = fields["tools"][0]["functionDeclarations"][0]
    assert declaration["name"] == "get_city"
    assert "city_name" in declaration["parameters"]["properties"]


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("s.yaml", "{}", "give a .json or .toml file"),
        ("s.json", "{not json", "not valid JSON"),
        ("s.toml", "a = ", "not valid TOML"),
        ("s.json", "[1, 2]", "an object of setup fields"),
        ("s.json", '{"model": "models/x"}', "--model"),
        ("s.json", '{"session_resumption": {"handle": "h"}}', "resumption handle"),
        ("s.toml", "[generation_config]\ntemperature = nan\n", "no JSON form"),
        ("s.json", '{"generationConfig": {"temperature": Infinity}}', "no JSON form"),
        ("s.toml", "[labels]\nwhen = 2026-01-02\n", "no JSON form"),
    ],
)
def test_bad_setup_files_are_one_line_usage_errors(tmp_path: Path, name: str, content: str, needle: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(UsageError, match=needle):
        load_setup_file(str(path))


def test_a_missing_setup_file_exits_2_in_one_line() -> None:
    result = run_cli("text", "hi", "--local", "--dry-run", "--setup", "/nonexistent/s.json", expect=2)
    assert result.stderr.count("\n") == 1
    assert "--setup /nonexistent/s.json" in result.stderr


def test_a_setup_file_cannot_switch_what_turn_end_decides(tmp_path: Path) -> None:
    setup = tmp_path / "s.json"
    setup.write_text('{"realtimeInputConfig": {"automaticActivityDetection": {"disabled": false}}}')
    result = run_cli("send", HELLO_WAV, "--local", "--dry-run", "--setup", str(setup), expect=2)
    assert "--turn-end" in result.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--thinking-level", "huge"], "--thinking-level must be one of"),
        (["--thinking-level", "low", "--thinking-budget", "5"], "not both"),
        (["--turn-coverage", "everything"], "--turn-coverage must be one of"),
        (["--activity-handling", "never"], "--activity-handling must be one of"),
        (["--vad-start-sensitivity", "medium"], "--vad-start-sensitivity must be one of"),
        (["--compression-trigger-tokens", "10", "--compression-target-tokens", "10"], "must be below"),
        (["--temperature", "inf"], "--temperature must be a finite number"),
        (["--seed", str(2**31)], "--seed"),
        (["--max-output-tokens", "0"], "--max-output-tokens"),
    ],
)
def test_bad_values_are_usage_errors(args: list[str], needle: str) -> None:
    result = run_cli("text", "hi", "--local", "--dry-run", "--no-preflight", *args, expect=2)
    assert needle in result.stderr


JSON_KEYS = st.text("abc_", min_size=1, max_size=3)


def _objects(leaves: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    values = st.recursive(leaves, lambda inner: st.dictionaries(JSON_KEYS, inner, max_size=3), max_leaves=8)
    return st.dictionaries(JSON_KEYS, values, max_size=4)


# What livecli builds holds no null; a --setup file may hold null (remove the field).
BUILT = _objects(st.integers() | st.lists(st.integers(), max_size=2))
FILE = _objects(st.none() | st.integers() | st.lists(st.integers(), max_size=2))


@given(base=BUILT, over=FILE)
def test_merge_setup_lets_the_file_win_and_keeps_the_rest(base: dict[str, Any], over: dict[str, Any]) -> None:
    merged = merge_setup(base, over)
    for key, value in over.items():
        if value is None:
            assert key not in merged
        elif not isinstance(value, dict):
            assert merged[key] == value
        else:
            assert isinstance(merged[key], dict)
    for key in base.keys() - over.keys():
        assert merged[key] == base[key]
    assert "null" not in json.dumps(merged)
