"""Renderers: server text escaped and never read as markup, verbosity thresholds, JSON lines without audio."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from livecli.env import Env
from livecli.errors import ServerClosed
from livecli.protocol.events import (
    AudioChunk,
    FunctionCall,
    GoAway,
    InputTranscription,
    Interrupted,
    OutputTranscription,
    TextPart,
    ToolCall,
    ToolCallCancellation,
    TurnComplete,
    Usage,
)
from livecli.protocol.redact import printable
from livecli.protocol.report import FramesSent, InputInfo, Reporter, ToolOutcome, TurnMetrics, TurnReport
from livecli.protocol.session import Turn
from livecli.render import json_lines
from livecli.render.console import JsonLinesRenderer, RichRenderer, make_renderer
from livecli.render.json_lines import terminal_safe_json

EVIL = "hi \x1b[31mred\x1b[0m [bold]not markup[/bold] \x07bell"


def rich(verbosity: int = 0, tty: bool = False) -> tuple[RichRenderer, io.StringIO]:
    out = io.StringIO()
    return RichRenderer(out, is_tty=tty, verbosity=verbosity), out


def finished_turn(audio: bytes = b"\x10\x00" * 2400, text: str = "") -> Turn:
    turn = Turn(index=1, started_at=0.0, input_ended_at=1.0, first_reply_at=1.25, ended_at=2.0, end="turnComplete")
    turn.audio += audio
    turn.audio_rate = 24000
    if text:
        turn.text_parts.append(text)
    return turn


def test_printable_escapes_control_characters_but_keeps_text() -> None:
    """ESC and BEL become visible escapes; ordinary text and newlines are untouched."""
    assert printable("plain ünïcode\nline", keep_newlines=True) == "plain ünïcode\nline"
    escaped = printable(EVIL, keep_newlines=True)
    assert "\x1b" not in escaped
    assert "\\x1b" in escaped
    assert "\\x07" in escaped


def test_rich_output_has_no_escape_sequences_or_markup_from_the_server() -> None:
    """Transcripts and text parts print literally: no ESC reaches stderr, [bold] stays visible."""
    renderer, out = rich()
    for event in (InputTranscription(EVIL), OutputTranscription(EVIL), TextPart(EVIL)):
        renderer.server_event(event, None)
    text = out.getvalue()
    assert "\x1b" not in text
    assert "\x07" not in text
    assert text.count("[bold]not markup[/bold]") == 3


def test_reply_chunks_only_with_verbose() -> None:
    """Per-chunk sizes appear with -v only; -q hides status lines but not warnings."""
    chunk = AudioChunk(b"\x00\x00" * 960, 24000, "audio/pcm;rate=24000")
    renderer, out = rich(verbosity=0)
    renderer.server_event(chunk, None)
    assert out.getvalue() == ""
    renderer, out = rich(verbosity=1)
    renderer.server_event(chunk, None)
    assert "1920 bytes (40 ms)" in out.getvalue()
    renderer, out = rich(verbosity=-1)
    renderer.connecting("ws://x", "local")
    renderer.warning("careful")
    assert "connecting" not in out.getvalue()
    assert "careful" in out.getvalue()


def test_turn_complete_line_has_timings_and_flags_near_silence() -> None:
    """The turn line says what came back; the timings line TTFB; a quiet reply is flagged; no repeated setup."""
    renderer, out = rich()
    renderer.turn_complete(TurnReport(finished_turn(), "a.wav", 0.05, -70.0))
    lines = out.getvalue().splitlines()
    assert lines[0] == "turn 1 complete: 0.10 s of audio"
    assert lines[1] == "  TTFB 250 ms"
    assert "near-silent (-70 dBFS)" in lines[2]
    assert "a.wav" in lines[2]
    assert "setup" not in out.getvalue()  # "setup complete in …" already said it


def test_turn_lines_fit_80_columns_and_name_how_the_turn_ended() -> None:
    """A busy turn (slow service, text, usage) still prints lines of at most 80 columns; endings are worded."""
    turn = finished_turn(audio=b"\x10\x00" * 24000 * 12, text="x" * 120)
    turn.usage = Usage(1234, 5678, 6912, {})
    metrics = TurnMetrics(1.234, 1.5, 1.62, 13.9, 14.25, 0.98)
    renderer, out = rich()
    for _ in range(25):  # chunk counts with 2 digits
        renderer.server_event(AudioChunk(b"\x00\x00" * 960, 24000, "audio/pcm;rate=24000"), turn)
    renderer.turn_complete(TurnReport(turn, "a.wav", 0.05, -20.0, metrics))
    lines = out.getvalue().splitlines()
    assert lines == [
        "turn 1 complete: 12.00 s of audio (25 chunks), 120 chars of text, 6912 tokens",
        "  transcript 1.23 s, TTFB 1.50 s, TTFA 1.62 s, complete 14.25 s, 1.0x real time",
    ]
    for line in lines:
        assert len(line) <= 80, line
    for end, words in [
        ("interrupted", "turn 1 interrupted"),
        ("generationComplete", "turn 1 ended at generationComplete (no turnComplete)"),
        ("disconnected", "turn 1 cut off by the reconnect"),
    ]:
        renderer, out = rich()
        renderer.turn_complete(_ended(end))
        assert out.getvalue().startswith(words + ": no reply"), out.getvalue()


def _ended(end: str) -> TurnReport:
    turn = Turn(index=1, started_at=0.0, ended_at=1.0, end=end)
    return TurnReport(turn, "a.wav", None, None)


def test_digital_silence_is_named() -> None:
    """A reply of zeros is "all samples zero", not "-inf dBFS"."""
    renderer, out = rich()
    renderer.turn_complete(TurnReport(finished_turn(b"\x00\x00" * 100), "a.wav", None, float("-inf")))
    assert "near-silent (all samples zero)" in out.getvalue()
    assert "inf" not in out.getvalue()


def test_transcript_pieces_stream_on_one_line() -> None:
    """The service sends transcripts in pieces: they join on one line per speaker, not a line per piece."""
    renderer, out = rich()
    for piece in ("Hel", "lo ", "there"):
        renderer.server_event(OutputTranscription(piece), None)
    renderer.server_event(InputTranscription("what", finished=True), None)
    renderer.server_event(OutputTranscription("!"), None)
    renderer.server_event(Interrupted(), None)
    renderer.server_event(OutputTranscription("", finished=True), None)  # late, empty: no empty line
    renderer.close()
    assert out.getvalue().splitlines() == [
        "  model: Hello there",
        "  you: what",
        "  model: !",
        "  interrupted: the server cut the reply short",
    ]


def test_status_lines_are_short_and_full_detail_is_verbose() -> None:
    """The URL shows as scheme://host:port (the path with -v); tool args are JSON; silence padding is said."""
    url = "ws://127.0.0.1:4000/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"
    renderer, out = rich()
    renderer.connecting(url, "local")
    renderer.server_event(ToolCall((FunctionCall("c1", "lookup", {"city": "Zürich"}),)), None)
    info = InputInfo("a.wav", 1, 1, 1.0, 32000)
    renderer.input_ended(info, 63, 32000 + 48000)
    assert out.getvalue().splitlines() == [
        "connecting to ws://127.0.0.1:4000 (local)",
        '  tool call: lookup {"city": "Zürich"} (id c1)',
        "  sent 2.50 s in 63 chunks, 1.50 s of it silence; waiting for the reply",
    ]
    renderer, out = rich(verbosity=1)
    renderer.connecting(url, "local")
    assert url in out.getvalue()


def test_a_reconnect_is_announced_once() -> None:
    """Reconnecting names attempt, cause and the input sent again; the new setup is reported by `resumed` only."""
    renderer, out = rich()
    renderer.setup_complete(0.01, None)
    renderer.reconnecting(1, 3, "server closed the connection: 1011 Internal error.", 0.5, "b.wav")
    renderer.setup_complete(0.02, None)
    renderer.resumed(0.02, True)
    renderer.reconnecting(2, 3, "connection dropped", 0.0, None)
    renderer.resumed(0.03, False)
    assert out.getvalue().splitlines() == [
        "setup complete in 10 ms",
        "reconnecting in 0.5 s (attempt 1 of 3): server closed the connection: 1011 Internal error.",
        "  b.wav: what the server has not taken of it will be sent again",
        "session resumed (setup 20 ms)",
        "reconnecting (attempt 2 of 3): connection dropped",
        "new session (setup 30 ms): no resumable handle, earlier turns are forgotten",
    ]


def test_json_lines_are_typed_flushed_and_carry_no_audio() -> None:
    """Each event is one line with type and t; audio shows as sizes; errors carry the close code/reason."""
    out = io.BytesIO()
    ticks = iter(range(100))
    renderer = JsonLinesRenderer(out, lambda: float(next(ticks)))
    renderer.connected("ws://h/p", "local")
    renderer.server_event(AudioChunk(b"\x01\x02" * 1200, 24000, "audio/pcm;rate=24000"), finished_turn())
    renderer.server_event(Usage(10, 20, 30, {"totalTokenCount": 30}), None)
    renderer.turn_complete(TurnReport(finished_turn(text="hello"), "a.wav", 0.01, -10.0))
    renderer.error(ServerClosed(1011, "Internal error encountered.", after_setup=True), 4)
    renderer.summary(1, 1, 4800, 4)
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [e["type"] for e in events] == [
        "connected",
        "reply_audio",
        "usage",
        "turn_complete",
        "error",
        "summary",
    ]
    assert events[1] == {
        "type": "reply_audio",
        "t": 2,
        "turn": 1,
        "bytes": 2400,
        "rate": 24000,
        "duration_s": 0.05,
    }
    assert events[3]["text"] == "hello"
    assert events[3]["latency_s"] == 0.25
    assert events[3]["near_silent"] is False
    assert events[4]["close_code"] == 1011
    assert events[4]["close_reason"] == "Internal error encountered."
    assert b"AQI" not in out.getvalue()  # base64 of the audio bytes


def test_make_renderer_follows_the_flags() -> None:
    """--json → JSON lines on stdout; -qq → nothing; otherwise Rich on stderr."""
    env = Env(stdin=io.BytesIO(), stdout=io.BytesIO(), stderr=io.StringIO())
    assert isinstance(make_renderer(env, json=True, verbosity=0), JsonLinesRenderer)
    assert type(make_renderer(env, json=False, verbosity=-2)) is Reporter
    assert isinstance(make_renderer(env, json=False, verbosity=0), RichRenderer)


# Any text, with lone surrogates (Cs), controls (Cc: C0 and C1) and format characters (Cf: bidi) made common.
ANY_TEXT = st.text(st.one_of(st.characters(), st.characters(categories=["Cs", "Cc", "Cf", "Zl"])), max_size=40)


@settings(max_examples=200, deadline=None)
@given(ANY_TEXT)
def test_json_lines_round_trip_any_text_without_raw_controls(text: str) -> None:
    """Any server text (lone surrogates, C1, bidi, astral): strict UTF-8, printable, decodes to the same string."""
    line = terminal_safe_json({"type": "text", "text": text})
    assert line.isprintable()
    assert json.loads(line.encode("utf-8").decode("utf-8"))["text"] == text


def test_prompt_line_says_what_is_sent() -> None:
    """A text input is described as the prompt and its size, not as "text: text"."""
    renderer, out = rich()
    renderer.input_started(InputInfo("text", 1, 1, 0.0, 11, kind="text"))
    assert out.getvalue().strip() == "sending the prompt (11 bytes)"


def test_json_progress_starts_again_for_an_input_sent_again() -> None:
    """After a reconnect the same input is sent from its start: its progress is reported again, once a second."""
    out = io.BytesIO()
    renderer = JsonLinesRenderer(out, lambda: 0.0)
    info = InputInfo("a.wav", 1, 1, 3.0, 96000)
    for _ in range(2):
        renderer.input_started(info)
        for sent in range(3200, 96001, 3200):
            renderer.input_progress(info, sent // 1280, sent)
    progress = [json.loads(line)["sent_s"] for line in out.getvalue().splitlines()]
    assert progress == [1.0, 2.0, 3.0, 1.0, 2.0, 3.0]


def test_go_away_and_warnings_keep_the_progress_bar() -> None:
    """goAway and warnings print above a live progress bar instead of ending it; its time left is rounded."""
    renderer, out = rich(tty=True)
    info = InputInfo("long.wav", 1, 1, 60.0, 60 * 32000)
    renderer.input_started(info)
    renderer.server_event(GoAway(1.998), None)
    renderer.warning("careful")
    assert renderer._progress is not None
    renderer.input_started(info)  # sent again after a reconnect: one live display at a time
    renderer.close()
    assert renderer._progress is None
    assert "this connection closes in 2.0 s" in out.getvalue()


README = Path(__file__).resolve().parents[2] / "README.md"
JSON_TABLE_HEADER = "| type | fields besides `type` and `t` |"


def every_json_event() -> dict[str, set[str]]:
    """Each JSON event type with the fields it carries, from one call of every JsonLinesRenderer method.

    The inputs are chosen so that every optional field is present: an error with a close code, a turn with
    metrics and usage, a summary with usage.
    """
    out = io.BytesIO()
    renderer = JsonLinesRenderer(out, lambda: 0.0)
    turn = finished_turn(text="hi")
    turn.usage = Usage(1, 2, 3, {"totalTokenCount": 3})
    turn.complete = TurnComplete(reason="NEED_MORE_INPUT", inferred=True)
    info = InputInfo("a.wav", 1, 1, 2.0, 64000)
    calls: list[tuple[str, tuple[Any, ...]]] = [
        ("connecting", ("ws://h/p", "local")),
        ("connected", ("ws://h/p", "local")),
        ("setup_complete", (0.01, "session-1")),
        ("input_started", (info,)),
        ("input_progress", (info, 50, 64000)),
        ("input_ended", (info, 50, 64000)),
        ("frames_sent", (info, FramesSent("a.png", 1, 2048, 640, 480, "image/png", 1, 2048))),
        *[
            ("server_event", (event, turn))
            for event in (
                AudioChunk(b"\x00\x00" * 960, 24000, "audio/pcm;rate=24000"),
                InputTranscription("what", finished=True),
                OutputTranscription("this"),
                TextPart("thinking", thought=True),
                ToolCall((FunctionCall("c1", "lookup", {"city": "Paris"}),)),
                ToolCallCancellation(("c1",)),
                Usage(1, 2, 3, {}),
                Interrupted(),
                GoAway(50.0),
            )
        ],
        ("turn_complete", (TurnReport(turn, "a.wav", 0.01, -20.0, TurnMetrics(0.1, 0.2, 0.3, 0.4, 0.5, 1.0)),)),
        ("tool_finished", (ToolOutcome("c1", "lookup", 0.25, '{"result":"sunny"}', scheduling="SILENT"),)),
        ("reconnecting", (1, 3, "connection dropped", 0.5, "a.wav")),
        ("resumed", (0.02, True)),
        ("reply_written", ("reply.wav", 4800, 24000, False)),
        ("warning", ("careful",)),
        ("error", (ServerClosed(1011, "Internal error encountered.", after_setup=True), 4)),
        ("summary", (1, 1, 4800, 0)),
    ]
    overridden = {name for name in vars(JsonLinesRenderer) if name in vars(Reporter) and not name.startswith("__")}
    assert overridden <= {name for name, _ in calls}, "every method of the JSON renderer is driven here"
    for name, args in calls:
        getattr(renderer, name)(*args)
    renderer.summary(1, 1, 4800, 0, reconnects=1, usage_turns=1)
    fields: dict[str, set[str]] = {}
    for line in out.getvalue().splitlines():
        record = json.loads(line)
        fields.setdefault(record.pop("type"), set()).update(set(record) - {"t"})
    return fields


def readme_json_table() -> dict[str, set[str]]:
    """The README's --json table, one row per type: its field names (names in parentheses detail a field)."""
    table = README.read_text(encoding="utf-8").split(JSON_TABLE_HEADER)[1].split("\n\n")[0]
    rows: dict[str, set[str]] = {}
    for row in table.strip().splitlines()[1:]:
        type_cell, fields_cell = row.split("|")[1:3]
        types = re.findall(r"`(\w+)`", type_cell)
        assert len(types) == 1, f"one type per row of the README's --json table: {row}"
        rows[types[0]] = set(re.findall(r"`(\w+)`", re.sub(r"\([^)]*\)", "", fields_cell)))
    return rows


def test_json_driver_emits_every_type_in_the_renderer_source() -> None:
    """The driver above reaches every `emit("type", ...)` of the JSON renderer, so no type escapes the check."""
    source = Path(json_lines.__file__).read_text(encoding="utf-8")
    in_source = set(re.findall(r'emit\(\s*"(\w+)"', source)) | {"input_transcription", "output_transcription"}
    assert in_source == set(every_json_event())


def test_readme_json_table_lists_exactly_the_emitted_types() -> None:
    """Every type the JSON renderer emits has a row in the README's --json table, and no row is stale."""
    assert set(readme_json_table()) == set(every_json_event())


def test_readme_json_table_lists_every_field_of_each_type() -> None:
    """Field by field: the README row of each type names exactly the fields that type's events carry."""
    documented = readme_json_table()
    for type_, fields in every_json_event().items():
        row = documented.get(type_, set())
        assert fields - row == set(), f"{type_}: emitted but not in the README"
        assert row - fields == set(), f"{type_}: in the README but not emitted"
