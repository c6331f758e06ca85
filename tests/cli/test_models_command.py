"""`livecli models`: the model table for people (a table on stdout) and for scripts (one JSON document)."""

from __future__ import annotations

import json
import subprocess
import sys

from helpers import run_cli

from livecli.protocol.models import DEFAULT_MODEL, MODELS, VOICES


def _models_json() -> list[dict[str, object]]:
    document = json.loads(run_cli("models", "--json").stdout)
    assert set(document) == {"models"}
    return document["models"]  # type: ignore[no-any-return]


def test_json_lists_every_model_the_preflight_knows_the_default_first() -> None:
    records = _models_json()
    assert [r["id"] for r in records] == list(MODELS)
    assert records[0]["id"] == DEFAULT_MODEL
    assert records[0]["default"] is True
    assert [r["default"] for r in records[1:]] == [False] * (len(records) - 1)


def test_json_says_what_each_model_accepts() -> None:
    by_id = {r["id"]: r for r in _models_json()}
    default = by_id["gemini-3.8-live"]
    assert default["backends"] == ["gemini", "vertex"]
    assert default["modalities"] == ["AUDIO"]
    assert default["thinking"] == "none"
    assert default["builtin_tools"] == ["googleSearch", "urlContext"]
    assert default["proactive_audio"] == "always"
    assert default["client_content"] == "any"
    assert by_id["gemini-3.1-flash-live-preview"]["client_content"] == "seed-only"
    assert by_id["gemini-2.5-flash-native-audio-preview-12-2025"]["affective_dialog"] is True
    assert by_id["gemini-3.5-live-translate-preview"]["system_instruction"] is False
    assert default["voices"] == sorted(VOICES)


def test_the_table_names_every_model_and_the_voices() -> None:
    text = run_cli("models").stdout
    for model in MODELS:
        assert model in text
    assert f"{DEFAULT_MODEL} (default)" in text
    assert "Zubenelgenubi" in text
    assert "historyConfig" in text


def test_json_imports_no_rich() -> None:
    """Scripts pay for no table: `models --json` imports neither rich nor numpy."""
    code = (
        "import sys\nfrom livecli.cli.app import app\n"
        "try:\n    app(['models', '--json'])\nexcept SystemExit:\n    pass\n"
        "print('HEAVY', [m for m in ('rich', 'numpy', 'websockets') if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert "HEAVY []" in out.stdout, out.stderr
