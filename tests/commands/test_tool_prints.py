"""A --tools FILE.py module that prints: nothing it prints reaches stdout, which carries only livecli's data (the
reply's audio, the --json events); it goes to stderr, escaped, the key masked (tools/python_source, ToolPrints)."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

from helpers import LocalServer, run_cli, run_cli_subprocess

from livecli.tools.python_source import MAX_PRINTED_LINE, ToolPrints

SECRET = "AIzaSyPRINTSECRET0123456789abcdefghijk"

NOISY = """
import os
print("imported noisy")


def get_weather(city: str = "Paris") -> dict:
    \"\"\"The weather.\"\"\"
    print("called get_weather \\x1b[31mred", os.environ.get("GEMINI_API_KEY", ""))
    return {"forecast": "sunny"}
"""


def _noisy(tmp_path: Path) -> str:
    path = tmp_path / "noisy.py"
    path.write_text(NOISY)
    return str(path)


def test_audio_on_stdout_holds_only_the_reply(live_server: LocalServer, tmp_path: Path) -> None:
    args = ["--endpoint", live_server.endpoint(), "--speed", "0", "--tools", _noisy(tmp_path), "-o", "-"]
    result = run_cli("text", "call get_weather", *args, env={"GEMINI_API_KEY": SECRET})
    assert result.stdout_bytes.startswith(b"RIFF")
    assert b"noisy" not in result.stdout_bytes
    assert "imported noisy" in result.stderr
    assert "called get_weather \\x1b[31mred ***" in result.stderr
    assert SECRET not in result.stderr


def test_json_on_stdout_is_json_lines_only(live_server: LocalServer, tmp_path: Path) -> None:
    args = ["--endpoint", live_server.endpoint(), "--speed", "0", "--tools", _noisy(tmp_path), "--json"]
    result = run_cli("text", "call get_weather", *args, env={"GEMINI_API_KEY": SECRET})
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert [event["type"] for event in events].count("tool_response") == 1
    assert "called get_weather" in result.stderr
    assert SECRET not in result.stdout


def test_in_a_real_process_the_prints_go_to_stderr(live_server: LocalServer, tmp_path: Path) -> None:
    """The process's own stdout (not a test runner's stand-in): the reply only."""
    args = ["--endpoint", live_server.endpoint(), "--speed", "0", "--tools", _noisy(tmp_path), "-o", "-"]
    result = run_cli_subprocess("text", "call get_weather", *args, env={"GEMINI_API_KEY": SECRET})
    assert result.stdout_bytes.startswith(b"RIFF")
    assert "imported noisy" in result.stderr


class _Lines:
    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> int:
        self.text += text
        return len(text)

    def flush(self) -> None:
        pass


def test_lines_printed_from_threads_stay_whole() -> None:
    target = _Lines()
    prints = ToolPrints(target, str)  # type: ignore[arg-type]

    def speak(word: str) -> None:
        for _ in range(200):
            print(word, word, file=prints)

    threads = [threading.Thread(target=speak, args=(word,)) for word in ("alpha", "beta")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(set(target.text.splitlines())) == ["alpha alpha", "beta beta"]
    assert target.text.count("\n") == 400


def test_a_print_without_newline_is_shown_in_bounded_pieces_and_at_flush() -> None:
    target = _Lines()
    prints = ToolPrints(target, str)  # type: ignore[arg-type]
    prints.write("x" * (MAX_PRINTED_LINE * 2 + 5))
    assert target.text.count("\n") == 2
    prints.flush()
    assert target.text.splitlines()[-1] == "xxxxx"


def test_install_keeps_one_redirect_and_takes_the_newest_mask(monkeypatch: object) -> None:
    saved = sys.stdout
    try:
        ToolPrints.install(str)
        first = sys.stdout
        ToolPrints.install(str.upper)
        assert sys.stdout is first
        assert isinstance(first, ToolPrints)
        assert first.mask is str.upper
    finally:
        sys.stdout = saved
