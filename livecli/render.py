"""Displays: RichRenderer (people, on stderr), JsonLinesRenderer (`--json`, stdout), NullRenderer (`-qq`).

Server text reaches the terminal through `printable()` and Rich `Text` objects (markup and highlighting off),
so a transcript cannot inject escape sequences or Rich markup. The progress bar appears only when stderr is a
terminal. Verbosity: -q hides status and progress, -qq everything but errors; -v shows every reply chunk.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, TextIO

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from rich.text import Text

from livecli.errors import LivecliError
from livecli.protocol.events import (
    AudioChunk,
    GoAway,
    InputTranscription,
    Interrupted,
    OutputTranscription,
    ServerEvent,
    TextPart,
    ToolCall,
    ToolCallCancellation,
    Usage,
)
from livecli.render_base import InputInfo, NullRenderer, Renderer, TurnReport, printable
from livecli.render_json import JsonLinesRenderer

if TYPE_CHECKING:
    from livecli.env import Env
    from livecli.protocol.session import Turn

__all__ = ["JsonLinesRenderer", "NullRenderer", "Renderer", "RichRenderer", "make_renderer"]

PROGRESS_MIN_S = 2.0  # inputs shorter than this get no progress bar


class RichRenderer(Renderer):
    """Human-readable status, transcripts and timings on stderr."""

    def __init__(self, stderr: TextIO, *, is_tty: bool, verbosity: int = 0) -> None:
        self.console = Console(
            file=stderr,
            markup=False,
            highlight=False,
            emoji=False,
            force_terminal=is_tty,
            no_color=not is_tty,
            soft_wrap=True,
        )
        self.is_tty = is_tty
        self.verbosity = verbosity
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._reply_chunks = 0
        self._reply_bytes = 0

    def _say(self, *parts: str | tuple[str, str], level: int = 0) -> None:
        """One line; plain strings are livecli's own text, (text, style) pairs are styled."""
        if self.verbosity < level:
            return
        line = Text()
        for part in parts:
            if isinstance(part, tuple):
                line.append(printable(part[0]), style=part[1] if self.is_tty else None)
            else:
                line.append(printable(part))
        self.console.print(line)

    def connecting(self, url: str, backend: str) -> None:
        self._say("connecting to ", (url, "bold"), f" ({backend})", level=0)

    def setup_complete(self, setup_s: float, session_id: str | None) -> None:
        self._say(("setup complete", "green"), f" in {setup_s * 1000:.0f} ms", level=0)

    def input_started(self, info: InputInfo) -> None:
        if info.kind != "audio":
            self._say(f"sending the prompt ({info.total_bytes} bytes of text)", level=0)
            return
        count = f" [{info.index}/{info.count}]" if info.count > 1 else ""
        self._say("sending ", (info.name, "bold"), f"{count}: {info.duration_s:.2f} s of audio", level=0)
        if self.is_tty and self.verbosity >= 0 and info.duration_s >= PROGRESS_MIN_S:
            self._progress = Progress(
                TextColumn("  "),
                BarColumn(),
                DownloadColumn(),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task("send", total=info.total_bytes)

    def input_progress(self, info: InputInfo, chunks: int, sent_bytes: int) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, completed=sent_bytes)

    def input_ended(self, info: InputInfo, chunks: int, sent_bytes: int) -> None:
        self._stop_progress()
        if info.kind == "audio":
            self._say(f"  sent {chunks} chunks, {sent_bytes} bytes; waiting for the reply", level=0)

    def _stop_progress(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = self._task = None

    def server_event(self, event: ServerEvent, turn: Turn | None) -> None:
        if isinstance(event, AudioChunk):
            self._reply_chunks += 1
            self._reply_bytes += len(event.data)
            self._say(f"  reply audio: {len(event.data)} bytes ({event.duration_s * 1000:.0f} ms)", level=1)
        elif isinstance(event, InputTranscription):
            self._say("  you: ", (event.text, "cyan"), level=0)
        elif isinstance(event, OutputTranscription):
            self._say("  model: ", (event.text, "magenta"), level=0)
        elif isinstance(event, TextPart):
            self._say("  thought: " if event.thought else "  text: ", (event.text, "magenta"), level=0)
        elif isinstance(event, ToolCall):
            for call in event.calls:
                self._say("  tool call: ", (call.name, "yellow"), f" id={call.id} args={call.args}", level=0)
        elif isinstance(event, ToolCallCancellation):
            self._say(f"  tool calls cancelled: {', '.join(event.ids)}", level=0)
        elif isinstance(event, Usage):
            self._say(
                f"  usage: prompt {event.prompt_tokens}, response {event.response_tokens}, "
                f"total {event.total_tokens} tokens",
                level=1,
            )
        elif isinstance(event, Interrupted):
            self._say(("  interrupted", "yellow"), level=0)
        elif isinstance(event, GoAway):
            self._say(("server goAway", "yellow"), f": closing in {event.time_left_s} s", level=-1)

    def turn_complete(self, report: TurnReport) -> None:
        turn = report.turn
        timings = []
        if report.setup_s is not None:
            timings.append(f"setup {report.setup_s * 1000:.0f} ms")
        if report.metrics is not None:
            timings.extend(report.metrics.describe())
        elif turn.reply_latency_s is not None:
            timings.append(f"end of input → first reply byte {turn.reply_latency_s * 1000:.0f} ms")
        timings.append(f"reply {turn.audio_duration_s:.2f} s audio ({len(turn.audio)} bytes)")
        if turn.text:
            timings.append(f"{len(turn.text)} chars of text")
        if turn.usage is not None:
            timings.append(f"{turn.usage.total_tokens} tokens")
        end = turn.end or "turnComplete"
        self._say(("turn complete", "green"), f" ({end}): " + ", ".join(timings), level=0)
        if report.near_silent:
            level = "-inf" if report.level_dbfs == -math.inf else f"{report.level_dbfs:.0f}"
            self.warning(f"the reply to {report.input_name} is near-silent ({level} dBFS)")

    def tool_answered(self, call_id: str | None, name: str) -> None:
        self._say(f"  answered tool call {name} (id={call_id}) with an error: livecli runs no tools", level=0)

    def reconnecting(self, attempt: int, limit: int, cause: str, delay_s: float, resend: str | None) -> None:
        again = f"; sending {resend} again" if resend else ""
        wait = f" in {delay_s:g} s" if delay_s else ""
        self._stop_progress()
        self._say(("reconnecting", "yellow"), f" ({attempt}/{limit}){wait}: {cause}{again}", level=-1)

    def resumed(self, setup_s: float, with_handle: bool) -> None:
        how = "session resumed" if with_handle else "new session (no resumable handle: earlier turns are lost)"
        self._say(("resumed", "green"), f": {how}, setup {setup_s * 1000:.0f} ms", level=-1)

    def summary(
        self, inputs: int, turns: int, reply_bytes: int, status: int, *, reconnects: int = 0, usage_turns: int = 0
    ) -> None:
        if usage_turns:
            self._say("token counts are per turn, as the server reported them (not summed)", level=0)

    def reply_written(self, dest: str, nbytes: int, rate: int, partial: bool) -> None:
        where = "stdout" if dest == "-" else dest
        what = "partial reply" if partial else "reply"
        self._say(f"{what} written to ", (where, "bold"), f" ({nbytes / (2 * rate):.2f} s, {rate} Hz)", level=-1)

    def warning(self, text: str) -> None:
        self._stop_progress()
        self._say(("warning: ", "yellow"), text, level=-1)

    def error(self, exc: LivecliError, status: int) -> None:
        self._stop_progress()

    def close(self) -> None:
        self._stop_progress()


def make_renderer(env: Env, *, json: bool, verbosity: int) -> Renderer:
    """The renderer the flags ask for: --json → JSON lines on stdout; -qq → nothing; else Rich on stderr."""
    if json:
        return JsonLinesRenderer(env.stdout, env.clock)
    if verbosity <= -2:
        return NullRenderer()
    return RichRenderer(env.stderr, is_tty=env.stderr_isatty, verbosity=verbosity)
