"""`livecli send` / `livecli text` end to end against the local server: outputs, --json, every exit status."""

from __future__ import annotations

import dataclasses
import io
import json
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import typer.main
from helpers import (
    SAMPLES,
    LocalServer,
    RawFrameServer,
    Result,
    cli_command,
    local_server,
    run_cli,
    run_cli_subprocess,
    subprocess_env,
)

from livecli.auth.target import ConnectOptions
from livecli.cli.app import app
from livecli.commands.request import RunRequest

HELLO_FLAC = str(SAMPLES / "hello.flac")
HELLO_WAV = str(SAMPLES / "hello_16k.wav")
FAKE_KEY = "AIzaFAKE-key-0123456789abcdefghijklmno"


def tone_wav(path: Path, seconds: float, rate: int = 16000, freq: float = 440.0) -> str:
    """A 16-bit mono sine file."""
    t = np.arange(int(seconds * rate)) / rate
    sf.write(path, (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32), rate, subtype="PCM_16")
    return str(path)


def send(server: LocalServer, *args: str, scenario: str | None = None, expect: int | None = 0) -> Result:
    """`livecli send --endpoint <server> --speed 0 ARGS` in-process."""
    return run_cli("send", "--endpoint", server.endpoint(scenario), "--speed", "0", *args, expect=expect)


def test_flac_send_writes_a_24k_reply(live_server: LocalServer, tmp_path: Path) -> None:
    """A FLAC input gets a 24 kHz mono 16-bit reply file and a turn-complete line on stderr."""
    out = tmp_path / "reply.wav"
    result = run_cli("send", HELLO_FLAC, "--endpoint", live_server.endpoint(), "--speed", "0", "-o", str(out))
    info = sf.info(out)
    assert (info.samplerate, info.channels, info.subtype) == (24000, 1, "PCM_16")
    assert info.frames > 24000  # a chime plus ~1.9 s of echoed speech
    assert "turn 1 complete" in result.stderr
    assert "reply written to" in result.stderr
    assert result.stdout == ""


def test_wav_send_to_flac_output(live_server: LocalServer, tmp_path: Path) -> None:
    """A 16 kHz WAV input, reply written as FLAC because of the suffix."""
    out = tmp_path / "reply.flac"
    run_cli("send", HELLO_WAV, "--endpoint", live_server.endpoint(), "--speed", "0", "-o", str(out))
    assert sf.info(out).format == "FLAC"


def test_audio_from_stdin(live_server: LocalServer, tmp_path: Path) -> None:
    """`send -` reads the audio from stdin (spooled, so WAV and FLAC both work)."""
    out = tmp_path / "reply.wav"
    data = Path(HELLO_FLAC).read_bytes()
    result = run_cli("send", "-", "--endpoint", live_server.endpoint(), "--speed", "0", "-o", str(out), input=data)
    assert sf.info(out).frames > 0
    assert "stdin" in result.stderr


def test_without_output_the_transcript_goes_to_stdout(live_server: LocalServer) -> None:
    """No -o: nothing saved, the model's transcript on stdout."""
    result = run_cli("send", HELLO_WAV, "--endpoint", live_server.endpoint(), "--speed", "0")
    assert result.stdout.startswith("turn 1: heard")


def test_json_events_parse_and_match_the_reply_file(live_server: LocalServer, tmp_path: Path) -> None:
    """--json: one object per line, stable types, sizes that add up to the file, and no base64 anywhere."""
    out = tmp_path / "reply.wav"
    result = run_cli(
        "send", HELLO_FLAC, "--endpoint", live_server.endpoint(), "--speed", "0", "-o", str(out), "--json"
    )
    events = result.json_lines
    types = [e["type"] for e in events]
    for kind in ("connected", "setup_complete", "input_progress", "reply_audio", "turn_complete", "summary"):
        assert kind in types
    assert types[-1] == "summary"
    assert events[-1]["exit_status"] == 0
    assert all(isinstance(e["t"], float | int) for e in events)
    audio_bytes = sum(e["bytes"] for e in result.of_type("reply_audio"))
    assert audio_bytes == sf.info(out).frames * 2 == result.of_type("turn_complete")[0]["reply_bytes"]
    assert result.of_type("output_transcription")[0]["text"].startswith("turn 1")
    assert max(len(line) for line in result.stdout.splitlines()) < 2000  # no audio payloads


def test_several_files_one_turn_each_into_a_directory(live_server: LocalServer, tmp_path: Path) -> None:
    """Two files → two turns in one session → DIR/<stem>.wav each, with different replies."""
    short = tone_wav(tmp_path / "short.wav", 0.5)
    result = run_cli(
        "send", HELLO_WAV, short, "--endpoint", live_server.endpoint(), "--speed", "0",
        "-o", str(tmp_path / "out") + "/", "--json",
    )  # fmt: skip
    done = result.of_type("turn_complete")
    assert [e["turn"] for e in done] == [1, 2]
    assert "turn 2" in done[1]["output_transcript"]
    first, second = sf.read(tmp_path / "out" / "hello_16k.wav")[0], sf.read(tmp_path / "out" / "short.wav")[0]
    assert len(first) != len(second)


def test_several_files_need_a_directory(live_server: LocalServer, tmp_path: Path) -> None:
    """A single file name for several inputs is a usage error (exit 2) before connecting."""
    result = send(live_server, HELLO_WAV, HELLO_FLAC, "-o", str(tmp_path / "x.wav"), expect=2)
    assert "-o DIR/" in result.stderr


def test_text_prompt_to_stdout_and_to_file(live_server: LocalServer, tmp_path: Path) -> None:
    """`text` prints the transcript without -o and writes audio with -o."""
    result = run_cli("text", "hello there", "--endpoint", live_server.endpoint())
    assert result.stdout.strip()
    out = tmp_path / "r.wav"
    run_cli("text", "hello there friend", "--endpoint", live_server.endpoint(), "-o", str(out))
    assert sf.info(out).frames > 0


def test_text_from_stdin_and_client_content(live_server: LocalServer) -> None:
    """`text -` reads the prompt from stdin; --client-content sends a clientContent turn."""
    result = run_cli(
        "text", "-", "--endpoint", live_server.endpoint(), "--client-content", "--json", input=b"a b c"
    )
    assert result.of_type("turn_complete")[0]["reply_bytes"] > 0


def test_turn_end_vad_sends_audio_stream_end(live_server: LocalServer) -> None:
    """--turn-end vad: server VAD on, audioStreamEnd ends the input; the turn completes with a reply."""
    result = send(live_server, HELLO_WAV, "--turn-end", "vad", "--settle-ms", "100", "--json")
    assert result.of_type("turn_complete")[0]["reply_bytes"] > 0


def test_turn_end_silence_needs_real_time_pacing(live_server: LocalServer, tmp_path: Path) -> None:
    """--turn-end silence: the appended silence, paced in real time, ends the turn under server VAD."""
    short = tone_wav(tmp_path / "short.wav", 0.3)
    result = run_cli(
        "send", short, "--endpoint", live_server.endpoint(), "--turn-end", "silence", "--silence-ms", "1000",
        "--settle-ms", "100", "--timeout", "5", "--json",
    )  # fmt: skip
    assert result.of_type("turn_complete")[0]["reply_bytes"] > 0
    sent = result.of_type("input_progress")[-1]
    assert sent["bytes"] == 0.3 * 32000 + 1000 * 32  # the tone plus the silence


def test_tool_calls_are_answered(live_server: LocalServer) -> None:
    """A tool call gets an error functionResponse and the turn still completes."""
    result = send(live_server, HELLO_WAV, "--json", scenario="tool-call")
    assert result.of_type("tool_call")
    assert result.of_type("tool_response")
    assert result.of_type("turn_complete")[0]["reply_bytes"] > 0


def test_local_server_in_process(tmp_path: Path) -> None:
    """--local starts the server in-process: no key needed (the `make demo` command)."""
    out = tmp_path / "reply.wav"
    run_cli("send", HELLO_FLAC, "--local", "-o", str(out), "--speed", "0")
    assert sf.info(out).frames > 0


@pytest.fixture(scope="module")
def scripted_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalServer, np.ndarray]]:
    """A server whose first turn replies with known 24 kHz audio, and whose turn 2 replies with nothing."""
    folder = tmp_path_factory.mktemp("scripted")
    rng = np.random.default_rng(7)
    answer = rng.integers(-20000, 20000, 24000 * 3 // 2, dtype=np.int16)
    sf.write(folder / "answer.wav", answer, 24000, subtype="PCM_16")
    sf.write(folder / "empty.wav", np.zeros(0, np.int16), 24000, subtype="PCM_16")
    (folder / "s.toml").write_text(
        'name = "scripted"\n[[turns]]\naudio = "answer.wav"\noutput_transcript = "known"\n'
        '[[turns]]\naudio = "empty.wav"\n'
    )
    with local_server(scenario=str(folder / "s.toml")) as server:
        yield server, answer


def test_reply_is_byte_exact(scripted_server: tuple[LocalServer, np.ndarray], tmp_path: Path) -> None:
    """The reply file holds exactly the samples the server sent."""
    server, answer = scripted_server
    out = tmp_path / "reply.wav"
    send(server, HELLO_WAV, "-o", str(out))
    samples, rate = sf.read(out, dtype="int16")
    assert rate == 24000
    assert np.array_equal(samples, answer)


def test_empty_reply_is_no_reply(scripted_server: tuple[LocalServer, np.ndarray], tmp_path: Path) -> None:
    """A turn that completes with no audio or text exits 5; the first file's reply is still written."""
    server, answer = scripted_server
    short = tone_wav(tmp_path / "b.wav", 0.3)
    result = send(server, HELLO_WAV, short, "-o", str(tmp_path / "out") + "/", expect=5)
    assert "no audio or text" in result.stderr
    assert np.array_equal(sf.read(tmp_path / "out" / "hello_16k.wav", dtype="int16")[0], answer)


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    ("scenario", "status", "needle"),
    [
        ("close-1007", 3, "1007 Request contains an invalid argument."),
        ("http-401", 3, "HTTP 401"),
        ("close-1008", 4, "1008 Operation is not implemented"),
        ("close-1011", 4, "1011 Internal error encountered."),
        ("drop", 4, "1006"),
        ("malformed-frame", 4, "JSON"),
        ("http-429", 7, "HTTP 429"),
        ("quota", 7, "You exceeded your current quota"),
    ],
)
def test_exit_status_per_scenario(live_server: LocalServer, scenario: str, status: int, needle: str) -> None:
    """Each failure the server can stage maps to its exit status, with the reason verbatim on stderr.

    --max-reconnects 0: 1011 and a drop would otherwise be retried with 0.5 + 1 + 2 s of backoff first
    (reconnecting is tests/client/test_resume.py's subject; the exit status is the same either way)."""
    result = run_cli(
        "send", HELLO_WAV, "--endpoint", live_server.endpoint(scenario), "--speed", "0", "--max-reconnects", "0",
        "--json", expect=status,
    )  # fmt: skip
    assert needle in result.stderr
    error = result.of_type("error")[0]
    assert error["exit_status"] == status
    if scenario.startswith("close"):
        assert error["close_code"] == int(scenario[-4:])


def test_connection_failures_exit_4(tmp_path: Path) -> None:
    """A dead port, and a server that never completes setup, exit 4."""
    result = run_cli("send", HELLO_WAV, "--endpoint", f"ws://127.0.0.1:{_dead_port()}", "--speed", "0", expect=4)
    assert "cannot connect to 127.0.0.1" in result.stderr
    with socket.socket() as listener:  # accepts TCP, never answers the upgrade
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        url = f"ws://127.0.0.1:{listener.getsockname()[1]}"
        result = run_cli("send", HELLO_WAV, "--endpoint", url, "--connect-timeout", "0.3", expect=4)
    assert "timed out after 0.3 s" in result.stderr


def test_reply_timeout_exits_5(live_server: LocalServer) -> None:
    """A server that never answers: --timeout of silence → exit 5."""
    result = send(live_server, HELLO_WAV, "--timeout", "0.3", scenario="stall", expect=5)
    assert "no reply" in result.stderr


def test_bad_input_exits_6(live_server: LocalServer, tmp_path: Path) -> None:
    """A missing file and a file that is not audio exit 6 before connecting, with one line naming the file."""
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"not audio at all" * 10)
    for bad in (tmp_path / "missing.wav", junk):
        result = send(live_server, str(bad), expect=6)
        lines = result.stderr.splitlines()
        assert len(lines) == 1, lines
        assert lines[0].startswith(f"livecli: error: {bad}: "), lines


@pytest.mark.parametrize(
    "args",
    [
        ["--chunk-ms", "5"],
        ["--chunk-ms", "5000"],
        ["--modality", "text"],
        ["--voice", "Nobody"],
        ["--turn-end", "sometimes"],
        ["-o", "-", "--json"],
        ["-o", "reply.xyz"],
        ["-o", "/nonexistent-dir/reply.wav"],
        ["--system", "a", "--system-file", "b"],
    ],
)
def test_usage_errors_exit_2(live_server: LocalServer, args: list[str]) -> None:
    """Bad flags and setups the model table refuses exit 2 before connecting."""
    result = send(live_server, HELLO_WAV, *args, expect=2)
    assert "Traceback" not in result.stderr


def _one_usage_line(*args: str, input: bytes = b"") -> str:
    """Run livecli expecting exit 2 with exactly one `livecli: error:` line on stderr; returns that line."""
    result = run_cli(*args, input=input, expect=2)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("livecli: error: "), result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("endpoint", "needle"),
    [
        ("ws://[::1", "Invalid IPv6 URL"),
        ("ws://127.0.0.1:99999", "Port out of range"),
        ("ws://127.0.0.1:abc/x?key=AIzaSECRETSECRET", "ws://127.0.0.1:abc/x: Port could not be cast"),
        ("http://127.0.0.1:1", "ws:// or wss://"),
    ],
)
def test_malformed_endpoint_is_a_usage_error(endpoint: str, needle: str) -> None:
    """An --endpoint with a bad scheme, host or port exits 2 with one line (it was an internal error, exit 1)."""
    line = _one_usage_line("send", HELLO_WAV, "--endpoint", endpoint, "--api-key", FAKE_KEY)
    assert needle in line
    assert "SECRET" not in line


def test_local_with_endpoint_and_system_file_problems(tmp_path: Path) -> None:
    """--local with --endpoint, a missing --system-file and a non-UTF-8 one each give one clear line."""
    assert "cannot be used together" in _one_usage_line("send", HELLO_WAV, "--local", "--endpoint", "ws://h")
    missing = _one_usage_line("send", HELLO_WAV, "--local", "--system-file", str(tmp_path / "nope.txt"))
    assert missing.endswith("nope.txt: No such file or directory")
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("café".encode("latin-1"))
    assert "not UTF-8 text (byte 0xe9 at offset 3)" in _one_usage_line(
        "send", HELLO_WAV, "--local", "--system-file", str(latin)
    )


@pytest.mark.parametrize(("prompt", "stdin"), [("", b""), ("  \n", b""), ("-", b""), ("-", b"\n\n")])
def test_empty_prompt_is_a_usage_error(prompt: str, stdin: bytes) -> None:
    """An empty prompt, given or read from stdin, exits 2 before connecting (it used to send an empty turn)."""
    assert "the prompt is empty" in _one_usage_line("text", prompt, "--local", input=stdin)


def test_stdin_prompt_loses_the_trailing_newline(live_server: LocalServer) -> None:
    """`echo hi | livecli text -` sends "hi", not "hi\\n"."""
    result = run_cli("text", "-", "--endpoint", live_server.endpoint(), "--json", input=b"hi there\n")
    assert result.of_type("input_transcription")[0]["text"] == "hi there"


def test_traceback_keeps_the_exit_status(tmp_path: Path) -> None:
    """--traceback prints the trace and still exits with the error's status, not 1."""
    result = run_cli("send", str(tmp_path / "missing.wav"), "--local", "--traceback", expect=6)
    assert "Traceback" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("livecli: error:")


def test_missing_key_exits_3_before_connecting() -> None:
    """A non-loopback endpoint without a key exits 3 and never connects."""
    result = run_cli("send", HELLO_WAV, "--endpoint", "wss://live.example.invalid", expect=3)
    assert "API key" in result.stderr


def test_key_is_redacted_everywhere(live_server: LocalServer, tmp_path: Path) -> None:
    """The API key never appears in stdout or stderr: success, refusal, close, dead port, -v, --json."""
    cases = [
        (live_server.endpoint(), 0),
        (live_server.endpoint("http-401"), 3),
        (live_server.endpoint("close-1007"), 3),
        (f"ws://127.0.0.1:{_dead_port()}", 4),
    ]
    for endpoint, status in cases:
        for extra in (["-vv"], ["--json"]):
            result = run_cli(
                "send", HELLO_WAV, "--endpoint", endpoint, "--api-key", FAKE_KEY, "--key-in-query",
                "--speed", "0", *extra, expect=status,
            )  # fmt: skip
            assert FAKE_KEY not in result.stdout + result.stderr
            assert FAKE_KEY[4:20] not in result.stdout + result.stderr


FAKE_TOKEN = "auth_tokens/FAKEtoken0123456789abcdefghij"


@pytest.mark.parametrize(
    ("credentials", "env"),
    [
        (["--traceback", "--json"], {"GEMINI_API_KEY": FAKE_KEY}),
        (["--traceback", "-vv", "--key-in-query"], {"GOOGLE_API_KEY": FAKE_KEY}),
        (["--token", FAKE_TOKEN, "--traceback", "-vv"], {}),
        (["--token", FAKE_TOKEN, "--json", "--token-in-header"], {}),
    ],
)
def test_credentials_stay_hidden_with_traceback_env_keys_and_tokens(
    live_server: LocalServer, credentials: list[str], env: dict[str, str]
) -> None:
    """Keys from the environment and ephemeral tokens stay out of the output, also in --traceback traces."""
    for scenario, status in (("malformed-frame", 4), ("http-401", 3), ("stall", 5)):
        endpoint = live_server.endpoint(scenario) + "&x=1"  # a query of its own: the token is appended to it
        result = run_cli(
            "send", HELLO_WAV, "--endpoint", endpoint, "--speed", "0", "--timeout", "0.3", *credentials,
            env=env, expect=status,
        )  # fmt: skip
        shown = result.stdout + result.stderr
        assert "FAKE" not in shown, shown
        assert "0123456789abcdef" not in shown, shown
        assert ("Traceback" in result.stderr) == ("--traceback" in credentials)


def test_output_dash_pipes_a_wav(live_server: LocalServer) -> None:
    """`-o -` writes a WAV to stdout that a pipe reader can decode; chatter stays on stderr."""
    result = run_cli_subprocess("send", HELLO_WAV, "--endpoint", live_server.endpoint(), "--speed", "0", "-o", "-")
    assert result.stdout_bytes[:4] == b"RIFF"
    samples, rate = sf.read(io.BytesIO(result.stdout_bytes), dtype="int16")
    assert rate == 24000
    assert len(samples) > 0
    assert "turn 1 complete" in result.stderr


def _start_two_inputs(
    tmp_path: Path, *args: str, preexec_fn: Callable[[], object] | None = None
) -> subprocess.Popen[bytes]:
    """livecli sending hello then a long tone (paced at 10x: streaming lasts seconds, not minutes) with --json,
    returned once the second input is streaming, so the first reply is complete and the second is cut."""
    long = tone_wav(tmp_path / "long.wav", 60.0)
    argv = cli_command("send", HELLO_WAV, long, "--speed", "10", "-o", f"{tmp_path / 'out'}/", "--json", *args)
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=subprocess_env(), preexec_fn=preexec_fn
    )
    assert proc.stdout is not None
    for line in proc.stdout:  # wait until the second input has started streaming
        event = json.loads(line)
        if event["type"] == "input_progress" and event["index"] == 2:
            return proc
    proc.kill()
    raise AssertionError(f"the second input never streamed: {proc.communicate()[1]!r}")


def _first_reply_written(tmp_path: Path, rest: bytes, status: int) -> None:
    """The first input's reply is in its file, and the --json summary carries the process's exit status."""
    assert sf.info(tmp_path / "out" / "hello_16k.wav").frames > 0
    events = [json.loads(line) for line in rest.splitlines()]
    written = [e for e in events if e["type"] == "reply_written"]
    assert written
    assert written[0]["partial"] is False
    assert events[-1]["type"] == "summary"
    assert events[-1]["exit_status"] == status


@pytest.mark.parametrize(
    ("signum", "status", "word"),
    [(signal.SIGINT, 130, b"interrupted"), (signal.SIGTERM, 143, b"terminated")],
)
def test_ctrl_c_or_sigterm_writes_the_reply_so_far(
    live_server: LocalServer, tmp_path: Path, signum: int, status: int, word: bytes
) -> None:
    """SIGINT (130) or SIGTERM (143) while the second file streams: the first reply is written, socket closed,
    and the --json summary says the status the process exits with (SIGTERM's said 130)."""
    proc = _start_two_inputs(tmp_path, "--endpoint", live_server.endpoint())
    proc.send_signal(signum)
    rest, stderr = proc.communicate(timeout=20)
    assert proc.returncode == status, stderr
    assert word in stderr
    _first_reply_written(tmp_path, rest, status)


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def test_sigterm_ends_a_run_that_inherited_sigint_ignored(tmp_path: Path) -> None:
    """nohup, a background job of a non-interactive shell, some CI runners: SIGINT arrives ignored. SIGTERM must
    still end the run with 143 and the reply so far written (it was re-raised as the ignored SIGINT and the run
    went on), and SIGINT stays ignored as the user's environment asked."""
    proc = _start_two_inputs(tmp_path, "--local", preexec_fn=_ignore_sigint)
    ignored = int(Path(f"/proc/{proc.pid}/status").read_text().split("SigIgn:")[1].split()[0], 16)
    proc.send_signal(signal.SIGTERM)
    rest, stderr = proc.communicate(timeout=20)
    assert ignored & (1 << (signal.SIGINT - 1)), "livecli must not take over an ignored SIGINT"
    assert proc.returncode == 143, stderr
    assert b"terminated" in stderr
    _first_reply_written(tmp_path, rest, 143)


def test_send_help_imports_nothing_heavy() -> None:
    """`livecli send --help` imports neither numpy, websockets, rich nor the optional extras."""
    code = (
        "import sys\nfrom livecli.cli.app import app\n"
        "try:\n    app(['send', '--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = ('numpy', 'soundfile', 'websockets', 'rich', 'google.auth', 'PIL', 'av', 'mcp', 'jinja2',\n"
        "         'matplotlib', 'sounddevice')\n"
        "print('HEAVY', [m for m in heavy if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert "HEAVY []" in out.stdout, out.stderr
    assert "--turn-end" in out.stdout
    assert "--api-key" in out.stdout


@pytest.mark.parametrize("command", ["send", "text"])
def test_options_default_to_what_the_request_defaults_to(command: str) -> None:
    """Each option named after a RunRequest or ConnectOptions field (all shared ones are) defaults to that
    field's default: the CLI and a RunRequest built in code mean the same by "not given"."""
    fields = [*dataclasses.fields(RunRequest), *dataclasses.fields(ConnectOptions)]
    defaults = {f.name: f.default for f in fields if f.default is not dataclasses.MISSING}
    group = typer.main.get_group(app)
    params = [p for p in group.commands[command].params if p.name in defaults]
    assert len(params) >= 27
    for param in params:
        assert param.default == defaults[str(param.name)], param.name


def test_dry_run_prints_the_setup_without_connecting(tmp_path: Path) -> None:
    """--dry-run needs no server: the setup has activity detection disabled for --turn-end activity."""
    result = run_cli("send", HELLO_WAV, "--local", "--dry-run", "--json")
    report = result.json_lines[0]
    assert report["setup"]["setup"]["realtimeInputConfig"] == {"automaticActivityDetection": {"disabled": True}}
    assert report["chunk_plan"][0]["chunks"] > 10


# JSON source text: the escapes are decoded by the client's parser into ESC, CSI (U+009B), a bidi override and
# a lone surrogate, next to Rich markup that must print literally.
HOSTILE_JSON = r"\u001b[31mred\u001b[0m [bold]b[/bold] \u009b2J \u202eevil \ud800!"
HOSTILE = json.loads(f'"{HOSTILE_JSON}"')
HOSTILE_FRAMES = [
    f'{{"toolCall": {{"functionCalls": [{{"id": "c1", "name": "f{HOSTILE_JSON}", "args": {{}}}}]}}}}'.encode(),
    f'{{"serverContent": {{"inputTranscription": {{"text": "{HOSTILE_JSON}"}}}}}}'.encode(),
    b'{"serverContent": {"modelTurn": {"parts": [{"inlineData": {"mimeType": "audio/pcm;rate=24000", '
    b'"data": "AAABAAIA"}}]}}}',
    f'{{"serverContent": {{"outputTranscription": {{"text": "{HOSTILE_JSON}"}}}}}}'.encode(),
    b'{"serverContent": {"turnComplete": true}}',
]
RAW_CONTROLS = ("\x1b", "\x9b", "\u202e", "\ud800")


def test_server_text_cannot_reach_the_terminal_raw() -> None:
    """ESC/CSI/bidi/lone-surrogate text and Rich markup from a server are shown escaped and literal on stderr."""
    with RawFrameServer(HOSTILE_FRAMES) as server:
        result = run_cli("send", HELLO_WAV, "--endpoint", server.url, "--speed", "0", "--timeout", "5", "-v")
    assert not any(ch in result.stderr for ch in RAW_CONTROLS), result.stderr
    assert "[bold]b[/bold]" in result.stderr
    assert "\\x1b[31mred" in result.stderr
    assert "\\u202eevil" in result.stderr
    assert "tool call: f\\x1b[31mred" in result.stderr
    # stdout is data (the transcript, as sent) but always valid UTF-8: the lone surrogate is written as text.
    assert result.stdout_bytes.decode("utf-8").rstrip("\n") == HOSTILE.replace("\ud800", "\\ud800")


def test_json_survives_lone_surrogates_and_escapes_controls() -> None:
    """--json: every line is strict UTF-8 with no raw control character and decodes to the server's exact text."""
    with RawFrameServer(HOSTILE_FRAMES) as server:
        result = run_cli("send", HELLO_WAV, "--endpoint", server.url, "--speed", "0", "--timeout", "5", "--json")
    text = result.stdout_bytes.decode("utf-8")  # strict: a raw surrogate could not have been encoded
    assert not any(ch in text for ch in RAW_CONTROLS)
    assert result.of_type("tool_call")[0]["calls"][0]["name"] == "f" + HOSTILE
    assert result.of_type("output_transcription")[0]["text"] == HOSTILE
    assert result.of_type("turn_complete")[0]["input_transcript"] == HOSTILE


@pytest.mark.parametrize("command", ["send", "text", "serve", "doctor", "token"])
def test_help_names_every_value_instead_of_its_python_type(command: str) -> None:
    """--help shows value names (S, URL, FILE|DIR/|-), never Typer's <str>/<float range> placeholders."""
    shown = run_cli(command, "--help").stdout
    options = [line for line in shown.splitlines() if line.lstrip().startswith("-")]
    assert options, options
    assert not [line for line in options if "<" in line.split("  ")[1]], options
    if command in ("send", "text"):
        assert "-o, --output FILE|DIR/|-" in shown
        assert "--timeout S" in shown
    if command == "doctor":
        assert "--connect-timeout S" in shown
        assert "--timeout S" in shown


def test_output_dash_refuses_a_terminal(tmp_path: Path) -> None:
    """`-o -` with stdout on a terminal (a pty) is a usage error before connecting: no binary on the screen."""
    import os

    controller, terminal = os.openpty()
    try:
        proc = subprocess.run(
            cli_command("send", HELLO_FLAC, "--local", "-o", "-"),
            stdout=terminal,
            stderr=subprocess.PIPE,
            env=subprocess_env(),
            timeout=30,
        )
    finally:
        os.close(terminal)
    os.close(controller)
    assert proc.returncode == 2
    (line,) = proc.stderr.decode().splitlines()
    assert line.startswith("livecli: error: -o - writes WAV audio to stdout, which is a terminal: redirect it")
