"""The talk view escapes what the server says; the terminal's keys arrive without Enter (cbreak) and the
terminal is given back as it was."""

from __future__ import annotations

import asyncio
import io
import os
import termios

from livecli.commands.talk.keys import TerminalKeys
from livecli.commands.talk.view import TalkView, meter
from livecli.protocol.events import InputTranscription, OutputTranscription
from livecli.protocol.report import ToolOutcome


def test_line_mode_escapes_transcripts_and_tool_results() -> None:
    stderr = io.StringIO()
    view = TalkView(stderr, live=False)
    view.server_event(InputTranscription("hi \x1b[2J there"), None)
    view.server_event(OutputTranscription("ok \x1b]0;owned\x07"), None)
    view.tool_finished(ToolOutcome("id1", "look\x1bup", 0.1, '{"a": "\\u001b[31m"}'))
    view._line("cyan", "model: done")  # the turn's end prints the model's line through the same path
    text = stderr.getvalue()
    assert "\x1b" not in text
    assert "you: hi" in text


def test_the_live_view_renders_state_level_and_latency() -> None:
    from rich.console import Console

    view = TalkView(io.StringIO(), live=False)
    view.set_state("speaking", muted=True)
    view.level(-30.0)
    view.latency_s = 0.812
    console = Console(file=io.StringIO(), width=100, color_system=None)
    console.print(view._renderable())
    shown = console.file.getvalue()  # type: ignore[attr-defined]
    assert "speaking (mic muted)" in shown
    assert "812 ms" in shown
    assert meter(-30.0) in shown


def test_meter_is_empty_for_silence_and_full_at_full_scale() -> None:
    assert meter(float("-inf")) == "·" * 20
    assert meter(0.0) == "█" * 20


async def test_terminal_keys_arrive_without_enter_and_the_terminal_is_restored() -> None:
    controller, terminal = os.openpty()
    try:
        before = termios.tcgetattr(terminal)
        keys = TerminalKeys(terminal)
        got: list[str] = []
        arrived = asyncio.Event()

        def deliver(key: str) -> None:
            got.append(key)
            arrived.set()

        keys.start(deliver)
        assert not termios.tcgetattr(terminal)[3] & termios.ICANON  # cbreak: no line buffering
        os.write(controller, b"x ")
        async with asyncio.timeout(5):
            await arrived.wait()
        keys.close()
        assert got == [" "]  # other keys are ignored
        assert termios.tcgetattr(terminal) == before
    finally:
        os.close(controller)
        os.close(terminal)
