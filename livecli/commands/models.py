"""`livecli models`: the model table the preflight and the local server check setups against
(livecli.protocol.models), as a table for people or one JSON document for scripts."""

from __future__ import annotations

import json
import textwrap
from typing import Any

from livecli.env import Env
from livecli.protocol.models import DEFAULT_MODEL, MODELS, VOICES, ClientContentRule, ModelInfo, Thinking

__all__ = ["model_records", "run_models"]

# What each rule means, in the words the table shows (short: the table is read in a terminal).
THINKING = {
    Thinking.NONE: "none\n(refused)",
    Thinking.BUDGET: "budget",
    Thinking.LEVEL: "level\nminimal..high",
    Thinking.LEVEL_NO_MINIMAL: "level\nlow..high",
}
CLIENT_CONTENT = {
    ClientContentRule.ANY: "any time",
    ClientContentRule.SEED_ONLY: "to seed only,\nwith\nhistoryConfig",
    ClientContentRule.NONE: "never",
}
PROACTIVE_AUDIO = {"optional": "optional", "always": "always on", "no": "no"}
COLUMNS = ("model\nbackends; modalities", "thinking", "built-in\ntools", "clientContent", "proactive\naudio")


def _record(info: ModelInfo) -> dict[str, Any]:
    """One model as `--json` shows it: lists sorted, rules by their names."""
    return {
        "id": info.id,
        "default": info.id == DEFAULT_MODEL,
        "backends": sorted(info.backends),
        "modalities": sorted(info.modalities),
        "thinking": info.thinking.value,
        "builtin_tools": sorted(info.builtin_tools),
        "affective_dialog": info.affective_dialog,
        "system_instruction": info.system_instruction,
        "client_content": info.client_content.value,
        "proactive_audio": info.proactive_audio,
        "voices": sorted(VOICES),
    }


def model_records() -> list[dict[str, Any]]:
    """Every model the table knows, the default first."""
    return [_record(info) for info in MODELS.values()]


def _row(info: ModelInfo) -> list[str]:
    lines = [info.id + (" (default)" if info.id == DEFAULT_MODEL else "")]
    lines.append(f"{', '.join(sorted(info.backends))}; {', '.join(sorted(info.modalities))}")
    lines += ["affective dialog"] if info.affective_dialog else []
    lines += [] if info.system_instruction else ["no system instruction"]
    return [
        "\n".join(lines),
        THINKING[info.thinking],
        "\n".join(sorted(info.builtin_tools)) or "none",
        CLIENT_CONTENT[info.client_content],
        PROACTIVE_AUDIO[info.proactive_audio],
    ]


def run_models(env: Env, *, json_output: bool) -> int:
    """Print the model table (or, with `json_output`, `{"models": [...]}` on one line); returns exit status 0."""
    if json_output:
        env.stdout.write(json.dumps({"models": model_records()}).encode() + b"\n")
        env.stdout.flush()
        return 0
    from livecli.render.tables import write_table

    rows = [_row(info) for info in MODELS.values()]
    write_table(env, "Live models livecli knows", COLUMNS, rows)
    voices = textwrap.fill(f"Voices (every model): {', '.join(sorted(VOICES))}", width=80)
    env.stdout.write(f"{voices}\n".encode())
    env.stdout.flush()
    return 0
