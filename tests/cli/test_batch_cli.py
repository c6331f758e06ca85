"""`livecli batch` end to end against the local server: a suite mixing audio, text, an image and a tool call
with passing and failing expectations at concurrency 8 (results.jsonl, JUnit read back by junitparser, the exit
status, the replies, no secret anywhere); quota cases that shrink the concurrency; bad manifests refused before
anything is sent; --shard through the CLI."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from helpers import SAMPLES, LocalServer, dev_only, run_cli
from hypothesis import given, settings
from hypothesis import strategies as st

HELLO = str(SAMPLES / "hello.flac")
SECRET = "AIzaSyBATCHSECRET0123456789abcdefghijk"

TOOLS = '''
def get_weather(query: str, unit: str = "C") -> dict:
    """The weather where the user asks."""
    return {"forecast": "sunny", "unit": unit}
'''


def write_jsonl(path: Path, cases: list[dict[str, Any]]) -> str:
    path.write_text("".join(json.dumps(case) + "\n" for case in cases))
    return str(path)


def records(out: Path) -> dict[str, dict[str, Any]]:
    lines = (out / "results.jsonl").read_text().splitlines()
    return {record["id"]: record for record in map(json.loads, lines)}


def suite(tmp_path: Path, server: LocalServer) -> list[dict[str, Any]]:
    """22 cases: audio (one and two turns), text, an image, a tool call; passing, failing, refused, broken."""
    (tmp_path / "tools.py").write_text(textwrap.dedent(TOOLS))
    image = dev_only("PIL.Image").new("RGB", (64, 48), (200, 30, 30))
    image.save(tmp_path / "red.png")
    cases: list[dict[str, Any]] = []
    for n in range(8):
        cases.append(
            {"id": f"audio-{n}", "turns": [HELLO], "expect_transcript": "heard", "min_reply_seconds": 0.5}
        )
    cases.append({"id": "two-turns", "turns": [HELLO, {"audio": HELLO}], "expect_transcript": "turn 2"})
    cases.append({"id": "heard-audio", "turns": [HELLO], "expect_input_transcript": r"\d+\.\d+ s of audio"})
    for n in range(4):
        cases.append(
            {"id": f"text-{n}", "turns": [{"text": f"hello number {n}"}], "expect_transcript": f"number {n}"}
        )
    cases.append(
        {"id": "image", "turns": [{"text": "what is this"}], "image": ["red.png"], "expect_transcript": "."}
    )
    cases.append(
        {
            "id": "tool",
            "turns": [{"text": "call get_weather unit=F"}],
            "tools": ["tools.py"],
            "expect_tool_call": [{"name": "get_weather", "args": {"unit": "F"}}],
            "expect_transcript": "sunny",
        }
    )
    # failing expectations (fail, exit class 5)
    cases.append({"id": "too-short", "turns": [HELLO], "min_reply_seconds": 100})
    cases.append({"id": "wrong-words", "turns": [{"text": "hello"}], "expect_transcript": "goodbye"})
    cases.append({"id": "wrong-tool", "turns": [{"text": "call get_weather unit=F"}], "tools": ["tools.py"],
                  "expect_tool_call": ["get_weather={\"unit\": \"C\"}"]})  # fmt: skip
    cases.append({"id": "slow", "turns": [HELLO], "max_ttfb_ms": 0, "expect_max_reply_seconds": 0.1})
    # a case that must be refused (expected exit 3), and an outage (error, exit class 4)
    cases.append(
        {"id": "refused", "turns": [{"text": "hi"}], "endpoint": server.endpoint("close-1007"), "expect_exit": 3}
    )
    cases.append(
        {"id": "outage", "turns": [{"text": "hi"}], "endpoint": server.endpoint("close-1011"), "max_reconnects": 0}
    )
    return cases


def test_a_mixed_suite_at_concurrency_8(live_server: LocalServer, tmp_path: Path) -> None:
    cases = suite(tmp_path, live_server)
    assert len(cases) >= 20
    manifest = write_jsonl(tmp_path / "suite.jsonl", cases)
    out, junit = tmp_path / "out", tmp_path / "junit.xml"
    args = ["--endpoint", live_server.endpoint(), "--api-key", SECRET, "--speed", "0", "--concurrency", "8"]
    result = run_cli("batch", manifest, "-o", str(out), "--junit", str(junit), *args, expect=None)

    # the outage (4) comes before the failed expectations (5) in the exit status
    assert result.exit_code == 4, result.stderr
    got = records(out)
    assert set(got) == {case["id"] for case in cases}
    failed = {"too-short", "wrong-words", "wrong-tool", "slow"}
    assert {i for i, r in got.items() if r["status"] == "pass"} == set(got) - failed - {"outage"}
    assert {i for i, r in got.items() if r["status"] == "fail"} == failed
    assert got["outage"]["status"] == "error"
    assert got["outage"]["exit_class"] == 4
    assert {got[i]["exit_class"] for i in failed} == {5}
    assert got["refused"]["exit_class"] == 0
    # every failed expectation, with what was expected and what came back
    assert [f["key"] for f in got["slow"]["failures"]] == ["expect_max_reply_seconds", "max_ttfb_ms"]
    [short] = got["too-short"]["failures"]
    assert short["expected"] == 100
    assert 1 < short["got"] < 100
    [tool] = got["wrong-tool"]["failures"]
    assert tool["expected"] == {"name": "get_weather", "args": {"unit": "C"}}
    assert tool["got"] == [{"name": "get_weather", "args": {"query": "call get_weather unit=F", "unit": "F"}}]
    assert got["tool"]["inputs"][0]["turns"][0]["tool_calls"][0]["args"]["unit"] == "F"
    # per-turn metrics, transcripts, usage and a reply file per case and turn
    two = got["two-turns"]["inputs"]
    assert [item["reply"] for item in two] == ["cases/two-turns/turn-1.wav", "cases/two-turns/turn-2.wav"]
    assert (out / "cases" / "two-turns" / "turn-2.wav").stat().st_size > 1000
    assert two[1]["turns"][0]["metrics"]["ttfb_s"] >= 0
    assert 1.8 < two[1]["duration_s"] < 2.0  # hello.flac: 1.89 s
    assert got["text-0"]["inputs"][0]["duration_s"] == 0
    assert "turn 2" in two[1]["turns"][0]["output_transcript"]
    assert got["text-1"]["usage"]["total_tokens"] > 0
    assert got["audio-0"]["attempts"] == 1
    assert all(set(record) == documented_fields() for record in got.values())

    junitparser = pytest.importorskip("junitparser")
    xml = junitparser.JUnitXml.fromfile(str(junit))
    [testsuite] = list(xml)
    testcases = {case.name: case for case in testsuite}
    assert set(testcases) == set(got)
    assert testsuite.failures == len(failed)
    assert testsuite.errors == 1
    assert isinstance(testcases["wrong-words"].result[0], junitparser.Failure)
    assert "goodbye" in testcases["wrong-words"].result[0].message
    assert isinstance(testcases["outage"].result[0], junitparser.Error)
    assert testcases["audio-3"].result == []
    assert "heard" in testcases["audio-3"].system_out

    for text in (result.stdout, result.stderr, junit.read_text(), (out / "results.jsonl").read_text()):
        assert SECRET not in text


def documented_events() -> dict[str, set[str]]:
    """docs/batch.md's `--json` table: each event type and its fields (besides type and t)."""
    import re

    from helpers import REPO

    text = (REPO / "docs" / "batch.md").read_text()
    table = text.split("`--json` writes one object per line", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1:3] for line in table.splitlines() if line.startswith("| `")]
    return {name.strip().strip("`"): set(re.findall(r"`(\w+)`", fields)) for name, fields in rows}


def documented_fields() -> set[str]:
    """docs/batch.md's results.jsonl table: the top-level fields of a record."""
    import re

    from helpers import REPO

    text = (REPO / "docs" / "batch.md").read_text()
    table = text.split("### `results.jsonl`", 1)[1].split("\n### ", 1)[0]
    rows = [line.split("|")[1] for line in table.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`(\w+)`", row)}


def test_quota_cases_shrink_the_concurrency_and_the_suite_finishes(
    live_server: LocalServer, tmp_path: Path
) -> None:
    cases = [{"id": f"ok-{n}", "turns": [{"text": f"hi {n}"}]} for n in range(10)]
    for n in range(3):
        cases.insert(
            2 * n, {"id": f"quota-{n}", "turns": [{"text": "hi"}], "endpoint": live_server.endpoint("http-429")}
        )
    manifest = write_jsonl(tmp_path / "suite.jsonl", cases)
    out = tmp_path / "out"
    args = ["--concurrency", "8", "--max-retries", "2", "--backoff", "0.01", "--json", "--speed", "0"]
    result = run_cli("batch", manifest, "-o", str(out), "--endpoint", live_server.endpoint(), *args,
                     "--api-key", SECRET, expect=7)  # fmt: skip
    assert SECRET not in result.stdout + result.stderr + (out / "results.jsonl").read_text()
    shrunk = [event for event in result.of_type("concurrency") if event["reason"] == "quota"]
    assert shrunk
    assert min(event["limit"] for event in shrunk) < 8
    retries = result.of_type("case_retry")
    assert {event["id"] for event in retries} == {"quota-0", "quota-1", "quota-2"}
    got = records(out)
    assert all(got[f"quota-{n}"]["attempts"] == 3 for n in range(3))
    assert {got[f"quota-{n}"]["exit_class"] for n in range(3)} == {7}
    assert all(got[f"ok-{n}"]["status"] == "pass" for n in range(10))
    documented = documented_events()
    assert {event["type"] for event in result.json_lines} == set(documented)
    for event in result.json_lines:
        assert set(event) - {"type", "t"} == documented[event["type"]], event["type"]
    [summary] = result.of_type("batch_summary")
    assert summary["passed"] == 10
    assert summary["errors"] == 3
    assert summary["exit_status"] == 7


def test_shards_through_the_cli_cover_every_case_once(tmp_path: Path) -> None:
    manifest = write_jsonl(tmp_path / "suite.jsonl", [{"id": f"c{n}", "turns": [HELLO]} for n in range(7)])
    seen: list[str] = []
    for index in (1, 2, 3):
        listed = run_cli("batch", manifest, "-o", str(tmp_path / "out"), "--dry-run", "--shard", f"{index}/3")
        rows = [line.split() for line in listed.stdout.splitlines()]
        assert all(int(position) % 3 == index - 1 for position, *_ in rows)
        seen += [row[1] for row in rows]
    assert sorted(seen) == sorted(f"c{n}" for n in range(7))
    assert not (tmp_path / "out").exists()


def test_a_plain_directory_is_one_case_per_audio_file(live_server: LocalServer, tmp_path: Path) -> None:
    folder = tmp_path / "inputs"
    folder.mkdir()
    for name in ("a.flac", "b.flac"):
        (folder / name).write_bytes((SAMPLES / "hello.flac").read_bytes())
    (folder / "notes.txt").write_text("not audio")
    out = tmp_path / "out"
    args = ["--endpoint", live_server.endpoint(), "--speed", "0", "--min-reply-seconds", "0.5"]
    result = run_cli("batch", str(folder), "-o", str(out), *args)
    assert sorted(records(out)) == ["a", "b"]
    assert "2 cases: 2 passed" in result.stderr


BAD = [
    ({"id": "x", "turns": [HELLO], "colour": "red"}, "'colour'"),
    ({"id": "x", "turns": [HELLO], "min_reply_seconds": -1}, "'min_reply_seconds'"),
    ({"id": "x", "turns": [HELLO], "transcribe": "yes"}, "'transcribe'"),
    ({"id": "x", "turns": [HELLO], "chunk_ms": 5}, "'chunk_ms'"),
    ({"id": "x", "turns": ["missing.wav"]}, "'turns'"),
    ({"id": "x", "turns": [HELLO], "client_content": True}, "'client_content'"),
    ({"id": "x", "turns": [{"text": "hi"}], "turn_end": "activity"}, "'turn_end'"),
    ({"id": "x", "turns": [HELLO], "expect_transcript": "("}, "'expect_transcript'"),
    ({"id": "x", "turns": [HELLO], "voice": "Nobody"}, "unknown voice"),
    ({"id": "x", "turns": [HELLO], "expect_tool_call": ["f=not json"]}, "'expect_tool_call'"),
    ({"id": "x", "turns": [{"text": "a"}, {"text": "b"}]}, "'turns'"),
    ({"id": "x/..", "turns": [HELLO]}, "'id'"),
    ({"id": "x", "turns": [HELLO], "image": ["nope.png"]}, "'image'"),
    ({"id": "x", "turns": [HELLO], "api_key": [SECRET]}, "'api_key': ***"),
]


@pytest.mark.parametrize(("case", "named"), BAD, ids=[str(i) for i in range(len(BAD))])
def test_a_bad_manifest_is_a_usage_error_naming_the_case_and_key(
    tmp_path: Path, case: dict[str, Any], named: str
) -> None:
    good = {"id": "fine", "turns": [HELLO]}
    manifest = write_jsonl(tmp_path / "suite.jsonl", [good, case])
    # nothing is sent: the endpoint is a closed port, so a run would be exit 4, not 2
    args = ["-o", str(tmp_path / "out"), "--endpoint", "ws://127.0.0.1:9/x", "--api-key", SECRET]
    result = run_cli("batch", manifest, *args, expect=2)
    assert named in result.stderr
    assert "suite.jsonl line 2" in result.stderr
    assert "Traceback" not in result.stderr
    assert SECRET not in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_toml_suite_and_duplicate_ids(tmp_path: Path) -> None:
    toml = tmp_path / "suite.toml"
    toml.write_text(
        f'[[case]]\nid = "a"\nturns = ["{HELLO}"]\n\n[[case]]\nid = "a"\nturns = [{{ text = "hi" }}]\n'
    )
    result = run_cli("batch", str(toml), "-o", str(tmp_path / "out"), "--dry-run", expect=2)
    assert "case 'a' (" in result.stderr
    assert "suite.toml case 2" in result.stderr
    assert "key 'id'" in result.stderr


def test_skip_done_after_a_sigterm_mid_suite(live_server: LocalServer, tmp_path: Path) -> None:
    """SIGTERM stops starting cases, the running ones write what they have (exit class 143), the process exits
    143; a rerun with --skip-done runs only what did not pass or fail."""
    import signal
    import subprocess
    import time

    from helpers import REPO, cli_command, subprocess_env

    cases = [{"id": f"c{n}", "turns": [HELLO]} for n in range(6)]
    manifest = write_jsonl(tmp_path / "suite.jsonl", cases)
    out = tmp_path / "out"
    argv = cli_command(
        "batch", manifest, "-o", str(out), "--endpoint", live_server.endpoint(), "--concurrency", "2"
    )
    with subprocess.Popen(argv, cwd=REPO, env=subprocess_env(), stderr=subprocess.PIPE) as proc:
        deadline = time.monotonic() + 30
        results = out / "results.jsonl"
        while time.monotonic() < deadline and (not results.exists() or len(results.read_text().splitlines()) < 2):
            time.sleep(0.05)
        time.sleep(0.3)  # the next two cases are streaming, paced in real time
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 143, stderr
    first = records(out)
    done = {i for i, r in first.items() if r["status"] == "pass"}
    interrupted = {i for i, r in first.items() if r["status"] == "error"}
    assert len(done) >= 2
    assert interrupted
    assert {first[i]["exit_class"] for i in interrupted} == {143}
    assert len(done) + len(interrupted) < 6

    rerun = run_cli("batch", manifest, "-o", str(out), "--endpoint", live_server.endpoint(), "--speed", "0",
                    "--skip-done", "--json")  # fmt: skip
    started = {event["id"] for event in rerun.of_type("case_started")}
    assert started == {f"c{n}" for n in range(6)} - done
    final = records(out)
    assert all(record["status"] == "pass" for record in final.values())
    assert len(final) == 6


def test_record_keeps_each_case_in_a_directory_of_its_own(live_server: LocalServer, tmp_path: Path) -> None:
    cases = [{"id": "a", "turns": [HELLO]}, {"id": "b", "turns": [{"text": "hi"}]}]
    manifest = write_jsonl(tmp_path / "suite.jsonl", cases)
    recordings = tmp_path / "rec"
    args = ["--endpoint", live_server.endpoint(), "--speed", "0", "--record", str(recordings)]
    run_cli("batch", manifest, "-o", str(tmp_path / "out"), *args)
    assert sorted(p.name for p in recordings.iterdir()) == ["a", "b"]
    assert any((recordings / "a").iterdir())
    assert any((recordings / "b").iterdir())
    header = json.loads((recordings / "b" / "recording.json").read_text())
    assert header["case"] == "b"
    assert header["command"] == "text"


KEYS = ["chunk_ms", "speed", "transcribe", "voice", "turn_end", "top_p", "image", "expect_exit", "max_ttfb_ms",
        "expect_tool_call", "no_pace", "system", "temperature", "modality", "fps", "seed"]  # fmt: skip


SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6)
VALUES = (
    SCALARS | st.lists(st.text(max_size=4), max_size=2) | st.dictionaries(st.text(max_size=3), SCALARS, max_size=2)
)


@settings(max_examples=15, deadline=None)
@given(key=st.sampled_from(KEYS), value=VALUES)
def test_any_value_of_a_key_is_taken_or_one_usage_error(
    tmp_path_factory: pytest.TempPathFactory, key: str, value: object
) -> None:
    folder = tmp_path_factory.mktemp("suite")
    manifest = write_jsonl(folder / "suite.jsonl", [{"id": "k", "turns": [HELLO], key: value}])
    result = run_cli("batch", manifest, "-o", str(folder / "out"), "--dry-run", "--local", expect=None)
    assert result.exit_code in (0, 2), result.stderr
    if result.exit_code == 2:
        assert result.stderr.startswith("livecli: error: case 'k' (")
        assert len(result.stderr.splitlines()) == 1


def test_a_bad_reply_format_is_refused_before_anything_is_sent(tmp_path: Path) -> None:
    manifest = write_jsonl(tmp_path / "suite.jsonl", [{"id": "f", "turns": [HELLO], "format": "raw"}])
    result = run_cli("batch", manifest, "-o", str(tmp_path / "out"), "--endpoint", "ws://127.0.0.1:9/x", expect=2)
    assert "case 'f' (" in result.stderr
    assert "--format raw" in result.stderr


def test_a_quota_that_clears_is_retried_to_a_pass_and_the_concurrency_recovers(
    live_server: LocalServer, tmp_path: Path
) -> None:
    """A front that refuses each quota case's first two upgrades with 429 (as a busy project would) and relays
    everything else to the local server: the cases pass on their third attempt, the limit went down and back up."""
    import threading
    from collections import Counter

    from helpers import ws_server_thread
    from websockets.sync.client import connect

    refused: Counter[str] = Counter()
    lock = threading.Lock()

    def process_request(connection: Any, request: Any) -> Any:
        tag = request.path.partition("tag=")[2]
        with lock:
            refused[tag] += 1
            if tag.startswith("quota") and refused[tag] <= 2:
                return connection.respond(429, "RESOURCE_EXHAUSTED\n")
        return None

    def relay(client: Any) -> None:
        with connect(live_server.url + client.request.path, max_size=None) as upstream:

            def up() -> None:
                try:
                    for message in client:
                        upstream.send(message)
                finally:
                    upstream.close()

            threading.Thread(target=up, daemon=True).start()
            try:
                for message in upstream:
                    client.send(message)
            finally:
                client.close()

    with ws_server_thread(relay, process_request=process_request, max_size=None) as front:
        path = live_server.endpoint().removeprefix(live_server.url)
        cases = [{"id": f"ok-{n}", "turns": [{"text": f"hi {n}"}], "endpoint": f"{front}{path}?tag=ok{n}"}
                 for n in range(24)]  # fmt: skip
        for n in range(2):
            cases.insert(
                n, {"id": f"quota-{n}", "turns": [{"text": "hi"}], "endpoint": f"{front}{path}?tag=quota{n}"}
            )
        manifest = write_jsonl(tmp_path / "suite.jsonl", cases)
        out = tmp_path / "out"
        args = ["--concurrency", "4", "--backoff", "0.05", "--json", "--speed", "0", "--start-rate", "0"]
        result = run_cli("batch", manifest, "-o", str(out), *args)
    got = records(out)
    assert all(record["status"] == "pass" for record in got.values())
    assert [got[f"quota-{n}"]["attempts"] for n in range(2)] == [3, 3]
    limits = [(event["reason"], event["limit"]) for event in result.of_type("concurrency")]
    assert ("quota", 2) in limits
    assert limits[-1] == ("recovered", 4)


def test_results_that_cannot_be_written_stop_the_suite_in_one_line(
    live_server: LocalServer, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.jsonl").symlink_to("/dev/full")
    manifest = write_jsonl(
        tmp_path / "suite.jsonl", [{"id": f"c{n}", "turns": [{"text": "hi"}]} for n in range(3)]
    )
    result = run_cli("batch", manifest, "-o", str(out), "--endpoint", live_server.endpoint(), expect=2)
    assert "results.jsonl: cannot write: No space left on device" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_low_soft_limit_on_open_files_is_raised_for_the_suite(live_server: LocalServer, tmp_path: Path) -> None:
    """40 sessions at once under a soft limit of 64 open files (the hard one higher): no case fails with EMFILE."""
    import resource
    import subprocess

    from helpers import REPO, cli_command, subprocess_env

    def low_soft_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))

    manifest = write_jsonl(tmp_path / "suite.jsonl", [{"id": f"c{n}", "turns": [HELLO]} for n in range(40)])
    out = tmp_path / "out"
    argv = cli_command(
        "batch", manifest, "-o", str(out), "--endpoint", live_server.endpoint(), "--concurrency", "40"
    )
    argv += ["--start-rate", "0", "--speed", "4", "-q"]  # paced: the 40 sessions are open at the same time
    proc = subprocess.run(
        argv, cwd=REPO, env=subprocess_env(), capture_output=True, text=True, timeout=60, preexec_fn=low_soft_limit
    )
    assert proc.returncode == 0, proc.stderr
    assert len(records(out)) == 40
