"""Value completion for the options with a fixed set of values, as the shell asks for it (bash's protocol, the
one `livecli --install-completion` installs for bash)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from livecli.cli.app import app
from livecli.cli.serve import complete_scenario
from livecli.commands.request import TURN_ENDS
from livecli.protocol.models import MODELS, VOICES


def complete(line: str) -> list[str]:
    """What bash completion offers after `line` (a trailing space: completing a new word)."""
    words = line.split()
    cword = len(words) if line.endswith(" ") else len(words) - 1
    env = {"_LIVECLI_COMPLETE": "complete_bash", "COMP_WORDS": line, "COMP_CWORD": str(cword)}
    result = CliRunner().invoke(app, [], env=env, prog_name="livecli")
    return result.stdout.split()


def test_turn_end() -> None:
    assert complete("livecli send a.wav --turn-end ") == list(TURN_ENDS)


def test_modality() -> None:
    assert complete("livecli text hi --modality ") == ["audio", "text"]
    assert complete("livecli send a.wav --modality t") == ["text"]


def test_voice() -> None:
    offered = complete("livecli text hi --voice K")
    assert "Kore" in offered
    assert all(v in VOICES for v in offered)


def test_model() -> None:
    offered = complete("livecli send a.wav --model gemini")
    assert offered == sorted(m for m in MODELS if m.startswith("gemini"))
    assert "gemini-3.8-live" in offered


def test_scenario_names() -> None:
    assert complete("livecli serve --scenario close-") == ["close-1007", "close-1008", "close-1011"]


def test_scenario_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "flaky.toml").write_text("")
    (tmp_path / "notes.txt").write_text("")
    (tmp_path / "more").mkdir()
    (tmp_path / "more" / "slow.json").write_text("{}")
    monkeypatch.chdir(tmp_path)
    assert complete_scenario("fl") == ["flaky.toml"]
    assert complete_scenario("no") == []
    assert complete_scenario("mo") == ["more/"]
    assert complete_scenario("more/") == ["more/slow.json"]
    assert complete_scenario("missing/x") == []
