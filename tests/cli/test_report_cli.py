"""`livecli report` end to end: batch results (shards too) into one HTML file, one line on stderr, exit 0 whatever
the cases' statuses; bad arguments and a missing extra are one line and exit 2; no secret reaches the report."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import LocalServer, dev_only, run_cli
from report_helpers import CASE_IDS, run_suite

SECRET = "AIzaSyREPORTSECRET0123456789abcdefghijk"


def _report_rows(page: str) -> int:
    return page.partition('<table id="cases">')[2].partition("</table>")[0].count("<tr>") - 1  # less the header


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One batch run for the module: its output directory."""
    return run_suite(tmp_path_factory.mktemp("suite"))


def test_a_report_is_written_and_summarized_on_stderr(out: Path, tmp_path: Path) -> None:
    dev_only("jinja2")
    result = run_cli("report", str(out / "results.jsonl"), "-o", str(tmp_path / "report.html"))
    assert result.exit_code == 0  # a view, not a verdict: failed cases do not fail the report
    assert result.stderr == f"report written to {tmp_path / 'report.html'}: 6 cases (3 pass, 3 fail, 0 error)\n"
    assert result.stdout_bytes == b""
    assert _report_rows((tmp_path / "report.html").read_text()) == 6


def test_shards_merge_into_one_report(tmp_path: Path) -> None:
    dev_only("jinja2")
    first = run_suite(tmp_path, "shard1", ("--local", "--shard", "1/2"))
    second = run_suite(tmp_path, "shard2", ("--local", "--shard", "2/2"))
    run_cli("report", str(first), str(second), "-o", str(tmp_path / "report.html"))
    page = (tmp_path / "report.html").read_text()
    assert _report_rows(page) == 6
    rows = page.partition('<table id="cases">')[2]
    assert [rows.index(f'data-sort="{case_id}"') for case_id in CASE_IDS] == sorted(
        rows.index(f'data-sort="{case_id}"') for case_id in CASE_IDS
    )  # manifest order, across shards


def test_a_case_in_two_results_files_is_warned_about(out: Path, tmp_path: Path) -> None:
    dev_only("jinja2")
    result = run_cli("report", str(out), str(out / "results.jsonl"), "-o", str(tmp_path / "r.html"), expect=0)
    assert result.stderr.count("in several results files") == 0  # the same file twice replaces nothing
    again = tmp_path / "again"
    again.mkdir()
    shutil.copy(out / "results.jsonl", again / "results.jsonl")  # a suite run again elsewhere
    result = run_cli("report", str(out), str(again), "-o", str(tmp_path / "r.html"))
    assert result.stderr.count("in several results files: the later file's record is shown") == 6


def test_no_secret_reaches_the_report(live_server: LocalServer, tmp_path: Path) -> None:
    dev_only("jinja2")
    out = run_suite(tmp_path, extra=("--endpoint", live_server.endpoint(), "--api-key", SECRET))
    result = run_cli("report", str(out), "-o", str(tmp_path / "report.html"), "--embed-audio")  # audio too
    assert SECRET not in (tmp_path / "report.html").read_text()
    assert SECRET not in result.stderr
    assert SECRET.encode() not in result.stdout_bytes


def test_embed_audio_makes_one_file(out: Path, tmp_path: Path) -> None:
    dev_only("jinja2")
    run_cli("report", str(out), "-o", str(tmp_path / "report.html"), "--embed-audio")
    page = (tmp_path / "report.html").read_text()
    assert page.count('src="data:audio/') == 11
    assert 'src="data:audio/wav;base64,UklGR' in page  # "RIFF"


def test_results_without_a_case_make_an_empty_report_with_a_warning(tmp_path: Path) -> None:
    dev_only("jinja2")
    (tmp_path / "results.jsonl").write_text("")
    result = run_cli("report", str(tmp_path / "results.jsonl"), "-o", str(tmp_path / "r.html"))
    assert result.stderr.startswith("livecli: warning: the results hold no case: the report is empty\n")
    assert _report_rows((tmp_path / "r.html").read_text()) == 0


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["nowhere.jsonl", "-o", "r.html"], "nowhere.jsonl: no such results file"),
        (["results.jsonl", "-o", "results.jsonl"], "-o results.jsonl is the results file results.jsonl"),
        (["results.jsonl", "-o", "."], "-o .: give the report's file name"),
        (["results.jsonl", "-o", "missing/dir/r.html"], "-o missing/dir/r.html: cannot write"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, arguments: list[str], message: str
) -> None:
    dev_only("jinja2")
    (tmp_path / "results.jsonl").write_text('{"id": "a", "status": "pass"}\n')
    monkeypatch.chdir(tmp_path)
    result = run_cli("report", *arguments, expect=2)
    assert result.stderr == f"livecli: error: {message}" + result.stderr.partition(message)[2]
    assert result.stderr.count("\n") == 1
    assert (tmp_path / "results.jsonl").read_text() == '{"id": "a", "status": "pass"}\n'


@pytest.mark.parametrize("module", ["jinja2", "matplotlib"])
def test_without_the_report_extra_it_is_exit_2_naming_pip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module: str
) -> None:
    (tmp_path / "results.jsonl").write_text('{"id": "a", "status": "pass", "inputs": []}\n')
    for name in [name for name in sys.modules if name.partition(".")[0] == module] or [module]:
        monkeypatch.setitem(sys.modules, name, None)  # what `import` meets when the package is not installed
    result = run_cli("report", str(tmp_path / "results.jsonl"), "-o", str(tmp_path / "r.html"), expect=2)
    assert "pip install 'livecli[report]'" in result.stderr
    assert not (tmp_path / "r.html").exists()


def test_report_help_imports_neither_jinja2_nor_matplotlib() -> None:
    code = (
        "import sys\nfrom livecli.cli.app import app\n"
        "try:\n    app(['report', '--help'])\nexcept SystemExit:\n    pass\n"
        "print('HEAVY', [m for m in ('jinja2', 'matplotlib', 'numpy', 'rich') if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert "HEAVY []" in out.stdout, out.stderr
    assert "--embed-audio" in out.stdout
