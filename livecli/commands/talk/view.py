"""What `talk` shows: a Rich live view on a terminal, one line per event otherwise (or with -q).

The live view (stderr, redrawn ten times a second): the state (listening / thinking / speaking, muted in half
duplex), the input level meter, the last turn's latency (end of your speech → first audible reply sample), and the
latest lines of both transcripts as they stream, tool calls and notices. The line mode prints each finished
transcript, tool call, latency and notice as one line. Text from the server goes through `printable()` and Rich
`Text` (markup off), so a transcript cannot inject escape sequences or markup.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from typing import TYPE_CHECKING, Any, TextIO

from livecli.protocol.events import InputTranscription, Interrupted, OutputTranscription, ServerEvent
from livecli.protocol.redact import printable
from livecli.protocol.report import Reporter, ToolOutcome, TurnReport

if TYPE_CHECKING:
    from livecli.protocol.turns import Turn

__all__ = ["TalkView", "meter"]

HISTORY_LINES = 8  # transcript and notice lines the live view keeps
METER_WIDTH = 20
METER_FLOOR_DBFS = -60.0


def meter(level_dbfs: float, width: int = METER_WIDTH) -> str:
    """A level bar from -60 dBFS (empty) to 0 dBFS (full)."""
    if math.isinf(level_dbfs) or level_dbfs <= METER_FLOOR_DBFS:
        filled = 0
    else:
        filled = min(width, round(width * (level_dbfs - METER_FLOOR_DBFS) / -METER_FLOOR_DBFS))
    return "█" * filled + "·" * (width - filled)


class TalkView(Reporter):
    """The talk display. `live`: the Rich live view (a terminal); else line mode. `quiet`: only the transcripts
    and errors."""

    def __init__(self, stderr: TextIO, *, live: bool, quiet: bool = False) -> None:
        from rich.console import Console

        self.console = Console(file=stderr, highlight=False, markup=False, emoji=False, soft_wrap=False)
        self.quiet = quiet
        self.state = "connecting"
        self.muted = False
        self.level_dbfs = -math.inf
        self.latency_s: float | None = None
        self.lines: deque[tuple[str, str]] = deque(maxlen=HISTORY_LINES)  # (style, text), finished lines
        self._you = ""  # the transcripts streaming in the current turn
        self._model = ""
        self._lock = threading.Lock()  # the live view redraws from Rich's thread
        self._live: Any = None
        if live and not quiet:
            from rich.live import Live

            self._live = Live(get_renderable=self._renderable, console=self.console, refresh_per_second=10)
            self._live.start()

    # --- talk's own reports (from the driving loop) -------------------------------------------------------

    def level(self, dbfs: float) -> None:
        self.level_dbfs = dbfs

    def set_state(self, state: str, *, muted: bool = False) -> None:
        if (state, muted) != (self.state, self.muted):
            self.state, self.muted = state, muted

    def latency(self, seconds: float) -> None:
        self.latency_s = seconds
        if not self.quiet:
            self._line("dim", f"turn latency {seconds * 1000:.0f} ms (end of speech → first audible reply sample)")

    def notice(self, text: str) -> None:
        if not self.quiet:
            self._line("yellow", text)

    # --- the Reporter interface -----------------------------------------------------------------------------

    def setup_complete(self, setup_s: float, session_id: str | None) -> None:
        if self.state == "connecting" and self._live is None and not self.quiet:
            self._line("dim", "listening (Ctrl-C ends the conversation)")
        self.state = "listening"

    def server_event(self, event: ServerEvent, turn: Turn | None) -> None:
        with self._lock:
            if isinstance(event, InputTranscription):
                self._you += event.text
            elif isinstance(event, OutputTranscription):
                if self._you.strip():  # the user's words end where the model's begin
                    self._finish_you()
                self._model += event.text
        if isinstance(event, Interrupted) and not self.quiet:
            self._line("dim", "(interrupted)")

    def turn_complete(self, report: TurnReport) -> None:
        with self._lock:
            self._finish_you()
            model = self._model.strip() or "".join(report.turn.text_parts).strip()
            self._model = ""
        if model:
            self._line("cyan", f"model: {printable(model)}")

    def _finish_you(self) -> None:
        you, self._you = self._you.strip(), ""
        if you:
            self._line_locked("green", f"you: {printable(you)}")

    def tool_finished(self, outcome: ToolOutcome) -> None:
        if self.quiet:
            return
        result = outcome.error or outcome.cancelled or outcome.response_json
        self._line("magenta", f"tool {printable(outcome.name)} → {printable(result[:100])}")

    def reconnecting(self, attempt: int, limit: int, cause: str, delay_s: float, resend: str | None) -> None:
        self.state = "reconnecting"
        if not self.quiet:
            self._line("yellow", f"reconnecting ({printable(cause)})")

    def resumed(self, setup_s: float, with_handle: bool) -> None:
        self.state = "listening"

    def warning(self, text: str) -> None:
        self._line("yellow", f"warning: {printable(text)}")

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    # --- drawing --------------------------------------------------------------------------------------------

    def _line(self, style: str, text: str) -> None:
        with self._lock:
            self._line_locked(style, text)

    def _line_locked(self, style: str, text: str) -> None:
        if self._live is not None:
            self.lines.append((style, text))
        else:
            from rich.text import Text

            self.console.print(Text(text, style=style))

    def _renderable(self) -> Any:
        from rich.console import Group
        from rich.text import Text

        with self._lock:
            state = self.state + (" (mic muted)" if self.muted else "")
            level = "-inf" if math.isinf(self.level_dbfs) else f"{self.level_dbfs:5.1f}"
            latency = f"{self.latency_s * 1000:.0f} ms" if self.latency_s is not None else "-"
            header = Text.assemble(  # 72 columns at most: one line on an 80-column terminal
                (f"● {state:<20}", "bold"), f" {meter(self.level_dbfs)} {level:>5} dBFS  latency {latency}"
            )
            rows = [Text(text, style=style) for style, text in self.lines]
            if self._you:
                rows.append(Text(f"you: {printable(self._you)}", style="green"))
            if self._model:
                rows.append(Text(f"model: {printable(self._model)}", style="cyan"))
        return Group(header, *rows)
