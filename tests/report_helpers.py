"""Results for the report's tests: a real `livecli batch` run against the local server, and hand-made records
(in the keys livecli.commands.batch.results writes) for what a run cannot easily show."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from helpers import SAMPLES, run_cli

HELLO = str(SAMPLES / "hello.flac")
PAUSE = str(SAMPLES / "pause.wav")
CASE_IDS = ["hello", "two-turns", "text", "hostile", "slow", "short"]  # run_suite's, in manifest order
# A transcript a hostile server could send: the report must show it as text, never run it.
HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'


def run_suite(tmp_path: Path, name: str = "out", extra: tuple[str, ...] = ("--local",)) -> Path:
    """A suite of 6 cases (audio, two turns, text, a hostile text, failures) run by `livecli batch`, against an
    in-process local server unless `extra` names the target: its output directory."""
    cases = [
        {"id": "hello", "turns": [HELLO], "expect_transcript": "turn 1"},
        {"id": "two-turns", "turns": [HELLO, PAUSE]},
        {"id": "text", "turns": [{"text": "hi there"}], "expect_transcript": "hi there"},
        {"id": "hostile", "turns": [{"text": HOSTILE}], "expect_transcript": "never said"},
        {"id": "slow", "turns": [{"text": "quick"}], "max_ttfb_ms": 0.0001},
        {"id": "short", "turns": [HELLO], "min_reply_seconds": 30},
    ]
    manifest = tmp_path / f"{name}.jsonl"
    manifest.write_text("".join(json.dumps(case) + "\n" for case in cases))
    out = tmp_path / name
    run_cli("batch", str(manifest), "--speed", "0", "-o", str(out), *extra, expect=None)
    return out


def record(case_id: str, status: str = "pass", **fields: Any) -> dict[str, Any]:
    """One results.jsonl record with one text input and one measured turn; `fields` replace keys."""
    turn = {
        "index": 1,
        "end": "turnComplete",
        "input_transcript": "hello",
        "output_transcript": "hi",
        "text": "",
        "reply_seconds": 1.0,
        "metrics": {"first_input_transcription_s": 0.05, "ttfb_s": 0.1, "ttfa_s": 0.12, "turn_complete_s": 1.1},
    }
    base: dict[str, Any] = {
        "schema": 1,
        "id": case_id,
        "status": status,
        "exit_class": 0 if status == "pass" else 5,
        "error": None,
        "failures": [],
        "attempts": 1,
        "duration_s": 1.5,
        "inputs": [{"kind": "text", "source": "hello", "reply": None, "turns": [turn]}],
        "usage": {"total_tokens": 10},
        "warnings": [],
    }
    base.update(fields)
    return base


def write_results(path: Path, *records: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path
