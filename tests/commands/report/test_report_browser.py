"""The report in a real browser: Debian's Chromium, headless, driven by Playwright (`executable_path`: nothing
downloads a browser). The page loads from file:// without a console error or a script error, the hostile
transcript runs nothing, the table has one row per case and sorts, every audio element points at a file that
exists, and a screenshot is saved."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pytest
from helpers import dev_only, run_cli
from report_helpers import run_suite

sync_api = dev_only("playwright.sync_api")  # the dev extra; `make test-min` skips this module
dev_only("jinja2")

CHROMIUM = "/usr/bin/chromium"  # Debian's package: .ci/system-packages.sh installs it
SCREENSHOT_FOR_NOTES = os.environ.get("LIVECLI_REPORT_SCREENSHOT")  # where else to save the screenshot, if set
# The audio's duration once the browser has read its header (-1: it could not).
LOAD_AUDIO = (
    "a => new Promise(done => {"
    " a.onloadedmetadata = () => done(a.duration); a.onerror = () => done(-1); a.load() })"
)


@pytest.fixture(scope="module")
def browser(report: Path) -> Iterator[Any]:
    """Started after the report is built: Playwright's sync API keeps an event loop running in this thread,
    where batch's asyncio.run could not start another."""
    # Never a silent skip: without the browser the test fails and says how to install it.
    assert shutil.which(CHROMIUM), f"{CHROMIUM} is missing: bash .ci/system-packages.sh installs Debian's chromium"
    with sync_api.sync_playwright() as playwright:
        # As root there is no sandbox; a container's small /dev/shm would crash the renderer.
        flags = ["--no-sandbox", "--disable-dev-shm-usage"]
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=flags)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp_path = tmp_path_factory.mktemp("report")
    out = run_suite(tmp_path)
    page = tmp_path / "site" / "report.html"
    page.parent.mkdir()
    run_cli("report", str(out), "-o", str(page))
    return page


def _open(browser: Any, path: Path) -> tuple[Any, list[str]]:
    problems: list[str] = []
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.on(
        "console",
        lambda message: (
            problems.append(f"console {message.type}: {message.text}")
            if message.type == "error"  # a script error, a blocked load, a policy violation
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on(
        "request",
        lambda request: (
            None if request.url.startswith(("file:", "data:")) else problems.append(f"request: {request.url}")
        ),
    )
    page.goto(path.as_uri(), wait_until="load")
    return page, problems


def test_the_report_loads_without_errors_and_runs_no_transcript(browser: Any, report: Path) -> None:
    page, problems = _open(browser, report)
    assert page.title() == "livecli report"
    assert page.evaluate("window.__pwned === undefined")
    assert page.locator("#summary .card").count() == 4  # pass rate, pass, fail, error
    assert page.locator("#latency-chart").evaluate("img => img.complete && img.naturalWidth > 0")
    assert page.locator("#timeline-chart").evaluate("img => img.complete && img.naturalWidth > 0")
    page.close()
    assert problems == []


def test_the_table_has_one_row_per_case_and_sorts(browser: Any, report: Path) -> None:
    page, problems = _open(browser, report)
    rows = page.locator("#cases tbody tr")
    assert rows.count() == 6
    first_column = "els => els.map(e => e.cells[0].textContent.trim())"
    assert rows.evaluate_all(first_column) == ["hello", "two-turns", "text", "hostile", "slow", "short"]
    page.locator("#cases thead th").nth(0).locator("button").click()
    assert rows.evaluate_all(first_column) == sorted(["hello", "two-turns", "text", "hostile", "slow", "short"])
    header = page.locator("#cases thead th").nth(4)  # seconds: numeric
    header.locator("button").click()
    header.locator("button").click()
    assert header.get_attribute("aria-sort") == "descending"
    seconds = rows.evaluate_all("els => els.map(e => parseFloat(e.cells[4].getAttribute('data-sort')))")
    assert seconds == sorted(seconds, reverse=True)
    page.close()
    assert problems == []


def test_every_audio_element_points_at_an_existing_file(browser: Any, report: Path, tmp_path: Path) -> None:
    page, problems = _open(browser, report)
    sources = page.locator("audio").evaluate_all("els => els.map(e => e.src)")
    assert len(sources) == 11
    for source in sources:
        assert source.startswith("file://")
        assert Path(unquote(urlparse(source).path)).is_file(), source
    for player in (page.locator("audio.input").first, page.locator("audio.reply").first):
        assert player.evaluate(LOAD_AUDIO) > 0.5  # the browser reads the linked file (the page's policy lets it)
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert (tmp_path / "report.png").stat().st_size > 10_000
    if SCREENSHOT_FOR_NOTES:
        page.screenshot(path=SCREENSHOT_FOR_NOTES, full_page=True)
    page.close()
    assert problems == []


def test_the_listeners_see_what_they_guard_against(browser: Any, report: Path) -> None:
    """The checks above would catch a failure: a script error, and a load from the network that the page's policy
    blocks."""
    page, problems = _open(browser, report)
    with page.expect_event("pageerror"):
        page.evaluate("setTimeout(() => { throw new Error('boom') }, 0)")
    with page.expect_console_message(lambda message: message.type == "error"):
        page.evaluate(
            "() => { const img = new Image(); img.src = 'http://127.0.0.1:9/x.png'; document.body.append(img) }"
        )
    page.close()
    assert any("boom" in problem for problem in problems)
    assert any("Content Security Policy" in problem for problem in problems)
