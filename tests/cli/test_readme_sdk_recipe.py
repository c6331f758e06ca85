"""The README's recipe for the google-genai SDK against `livecli serve` runs as printed: TLS with a self-signed
certificate trusted through SSL_CERT_FILE, the https:// base_url, a placeholder key, audio_stream_end."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import REPO, dev_only, local_server

from livecli.server.tls import write_self_signed

dev_only("google.genai")

README = REPO / "README.md"
BASE_URL = "https://127.0.0.1:8765"


def recipe() -> str:
    """The README's Python block that builds a genai.Client."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    (code,) = [block for block in blocks if "genai.Client(" in block]
    return code


def test_the_readme_recipe_names_what_the_issue_asks_for() -> None:
    code = recipe()
    assert f'base_url="{BASE_URL}"' in code
    assert "audio_stream_end=True" in code
    text = README.read_text(encoding="utf-8")
    assert "export SSL_CERT_FILE=$PWD/tls/cert.pem" in text
    assert "--reply-speed 0" in text


def test_the_readme_recipe_runs_against_serve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cert, key = write_self_signed(str(tmp_path / "tls"))
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # what the recipe exports
    monkeypatch.chdir(REPO)  # the recipe reads samples/hello_16k.wav
    with local_server(tls_cert=str(cert), tls_key=str(key)) as server:
        code = recipe().replace(BASE_URL, server.url.replace("wss://", "https://"))
        exec(compile(code, "README.md recipe", "exec"), {"__name__": "__main__"})
    out = capsys.readouterr().out
    assert "model: turn 1: heard 1.88 s of audio" in out
    assert re.search(r"^2\.\d\d s of reply audio$", out, re.MULTILINE), out
