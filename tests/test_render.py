"""Renderers: server text escaped and never read as markup, verbosity thresholds, JSON lines without audio."""

from __future__ import annotations

import io
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from livecli.env import Env
from livecli.errors import ServerClosed
from livecli.protocol.events import AudioChunk, InputTranscription, OutputTranscription, TextPart, Usage
from livecli.protocol.session import Turn
from livecli.render import JsonLinesRenderer, NullRenderer, RichRenderer, make_renderer
from livecli.render_base import InputInfo, TurnReport, printable
from livecli.render_json import terminal_safe_json

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
    assert printable("plain ünïcode\nline") == "plain ünïcode\nline"
    assert "\x1b" not in printable(EVIL) and "\\x1b" in printable(EVIL) and "\\x07" in printable(EVIL)


def test_rich_output_has_no_escape_sequences_or_markup_from_the_server() -> None:
    """Transcripts and text parts print literally: no ESC reaches stderr, [bold] stays visible."""
    renderer, out = rich()
    for event in (InputTranscription(EVIL), OutputTranscription(EVIL), TextPart(EVIL)):
        renderer.server_event(event, None)
    text = out.getvalue()
    assert "\x1b" not in text and "\x07" not in text
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
    assert "connecting" not in out.getvalue() and "careful" in out.getvalue()


def test_turn_complete_line_has_timings_and_flags_near_silence() -> None:
    """Setup time, end of input → first byte and reply duration are shown; a quiet reply is flagged."""
    renderer, out = rich()
    renderer.turn_complete(TurnReport(finished_turn(), "a.wav", 0.05, -70.0))
    line = out.getvalue()
    assert "setup 50 ms" in line and "first reply byte 250 ms" in line and "reply 0.10 s" in line
    assert "near-silent" in line and "a.wav" in line


def test_progress_bar_only_on_a_terminal() -> None:
    """Not a TTY: no progress bar is created even for a long input."""
    renderer, out = rich(tty=False)
    info = InputInfo("long.wav", 1, 1, 60.0, 60 * 32000)
    renderer.input_started(info)
    assert renderer._progress is None
    renderer.input_ended(info, 1500, 60 * 32000)
    assert "sent 1500 chunks" in out.getvalue()


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
    assert events[3]["text"] == "hello" and events[3]["latency_s"] == 0.25 and not events[3]["near_silent"]
    assert (events[4]["close_code"], events[4]["close_reason"]) == (1011, "Internal error encountered.")
    assert b"AQI" not in out.getvalue()  # base64 of the audio bytes


def test_make_renderer_follows_the_flags() -> None:
    """--json → JSON lines on stdout; -qq → nothing; otherwise Rich on stderr."""
    env = Env(stdin=io.BytesIO(), stdout=io.BytesIO(), stderr=io.StringIO())
    assert isinstance(make_renderer(env, json=True, verbosity=0), JsonLinesRenderer)
    assert type(make_renderer(env, json=False, verbosity=-2)) is NullRenderer
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
    assert out.getvalue().strip() == "sending the prompt (11 bytes of text)"
