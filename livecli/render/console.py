"""Displays: RichRenderer (people, on stderr), JsonLinesRenderer (`--json`, stdout), Reporter (`-qq`).

Server text reaches the terminal through `printable()` and Rich `Text` objects (markup and highlighting off),
so a transcript cannot inject escape sequences or Rich markup. The progress bar appears only when stderr is a
terminal. Verbosity: -q hides status, transcripts and progress, -qq everything but errors; -v adds every reply
chunk, usage and the full URL.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO
from urllib.parse import urlsplit

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from rich.text import Text

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
from livecli.protocol.redact import printable
from livecli.protocol.report import FramesSent, InputInfo, Reporter, ToolOutcome, TurnReport
from livecli.protocol.wire import INPUT_BYTES_PER_S
from livecli.render.json_lines import JsonLinesRenderer
from livecli.render.wording import TURN_ENDINGS, byte_size, count_of, seconds, turn_timings

if TYPE_CHECKING:
    from livecli.env import Env
    from livecli.protocol.session import Turn

__all__ = ["JsonLinesRenderer", "RichRenderer", "make_renderer"]

PROGRESS_MIN_S = 2.0  # inputs shorter than this get no progress bar
TOOL_RESULT_SHOWN = 100  # characters of a function response shown (all of it with -v)
STYLE = str | None


class RichRenderer(Reporter):
    """Human-readable status, transcripts and timings on stderr."""

    def __init__(
        self, stderr: TextIO, *, is_tty: bool, verbosity: int = 0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.console = Console(
            file=stderr,
            markup=False,
            highlight=False,
            emoji=False,
            force_terminal=is_tty,
            no_color=not is_tty,
            # A terminal wraps at words; a log or a pipe keeps one event per line for grep.
            soft_wrap=not is_tty,
        )
        self.is_tty = is_tty
        self.verbosity = verbosity
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._open_line: str | None = None  # the label of a streamed transcript line not yet ended
        self._chunks: dict[int, int] = {}  # reply chunks per turn
        self._reconnecting = False
        self._sending: tuple[InputInfo, int] | None = None  # the audio input being sent, and its bytes sent
        self._frames: dict[int, FramesSent] = {}  # per input (index): the latest report of image frames sent
        self._clock = clock
        self._receiving: tuple[int, float] | None = (
            None  # the turn whose reply is arriving, its first chunk's time
        )

    def _say(self, *parts: str | tuple[str, STYLE], level: int = 0, keep_newlines: bool = False) -> None:
        """One line; plain strings are livecli's own text, (text, style) pairs are styled. A newline inside a
        part (a file name can hold one) is shown escaped, so each event stays one line; only what the model
        said (`keep_newlines`) keeps its line breaks."""
        if self.verbosity < level:
            return
        self._end_line()
        self.console.print(self._text(*parts, keep_newlines=keep_newlines))

    def _text(self, *parts: str | tuple[str, STYLE], keep_newlines: bool = False) -> Text:
        line = Text()
        for part in parts:
            text, style = part if isinstance(part, tuple) else (part, None)
            line.append(printable(text, keep_newlines=keep_newlines), style=style if self.is_tty else None)
        return line

    def _stream(self, label: str, text: str, style: str, finished: bool = False) -> None:
        """A transcript or text delta: appended to its open line, which ends when something else is printed.

        The service sends transcripts in small pieces; one line per piece would be unreadable.
        """
        if self.verbosity < 0:
            return
        if not text:  # the service ends a transcript with an empty `finished` piece, often after turnComplete
            if finished and self._open_line == label:
                self._end_line()
            return
        if self._progress is not None:  # a live progress bar owns the cursor: whole lines only
            self._say(f"  {label}: ", (text, style), keep_newlines=True)
            return
        if self._open_line != label:
            self._end_line()
            self.console.print(self._text(f"  {label}: "), end="", soft_wrap=True)
            self._open_line = label
        self.console.print(self._text((text, style), keep_newlines=True), end="", soft_wrap=True)
        if finished:
            self._end_line()

    def _end_line(self) -> None:
        if self._open_line is not None:
            self._open_line = None
            self.console.print()

    def connecting(self, url: str, backend: str) -> None:
        parts = urlsplit(url)
        self._say("connecting to ", (f"{parts.scheme}://{parts.netloc}", "bold"), f" ({backend})", level=0)
        self._say(f"  url: {url}", level=1)

    def setup_complete(self, setup_s: float, session_id: str | None) -> None:
        if self._reconnecting:
            return  # `resumed` reports the new connection's setup
        self._say(("setup complete", "green"), f" in {seconds(setup_s)}", level=0)
        if session_id:
            self._say(f"  session id: {session_id}", level=1)

    def input_started(self, info: InputInfo) -> None:
        self._stop_progress()  # Rich allows one live display at a time
        self._frames.pop(info.index, None)  # sent again after a reconnect: its frames count again
        if info.kind != "audio":
            self._say(f"sending the prompt ({info.total_bytes} bytes)", level=0)
            return
        self._sending = (info, 0)
        count = f" [{info.index}/{info.count}]" if info.count > 1 else ""
        self._say("sending ", (info.name, "bold"), f"{count}: {info.duration_s:.2f} s of audio", level=0)
        if self.is_tty and self.verbosity >= 0 and info.duration_s >= PROGRESS_MIN_S:
            self._end_line()
            self._progress = Progress(
                TextColumn("  "),
                BarColumn(),
                TextColumn("{task.completed:.1f}/{task.total:.1f} s sent,"),
                TimeRemainingColumn(),
                TextColumn("left"),
                console=self.console,
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task("send", total=info.total_bytes / INPUT_BYTES_PER_S)

    def input_progress(self, info: InputInfo, chunks: int, sent_bytes: int) -> None:
        self._sending = (info, sent_bytes)
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, completed=sent_bytes / INPUT_BYTES_PER_S)

    def input_ended(self, info: InputInfo, chunks: int, sent_bytes: int) -> None:
        self._stop_progress()
        self._sending = None
        if info.kind != "audio":
            return
        sent_s = sent_bytes / INPUT_BYTES_PER_S
        padding = sent_s - info.duration_s
        tail = f", {padding:.2f} s of it silence" if padding >= 0.01 else ""
        frames = self._frames.pop(info.index, None)
        if frames is not None:
            tail += f", with {count_of(frames.total_frames, 'frame')} ({byte_size(frames.total_bytes)})"
        self._say(f"  sent {sent_s:.2f} s in {chunks} chunks{tail}; waiting for the reply", level=0)

    def frames_sent(self, info: InputInfo, sent: FramesSent) -> None:
        self._frames[info.index] = sent
        kind = sent.mime.rpartition("/")[2].upper()
        self._say(
            "  sent ",
            (sent.source, "bold"),
            f": {count_of(sent.frames, 'frame')}, {sent.width}x{sent.height} {kind}, {byte_size(sent.nbytes)}",
            level=0,
        )

    def _stop_progress(self) -> None:
        self._receiving = None
        if self._progress is not None:
            self._progress.stop()
            self._progress = self._task = None

    def _reply_progress(self, turn: Turn) -> None:
        """On a terminal, the reply arriving: seconds received and how fast against real time (a real-time
        factor above 1 means the audio comes faster than it plays). Not while an input's own bar is shown."""
        now = self._clock()
        if self._receiving is None or self._receiving[0] != turn.index:
            self._stop_progress()
            self._end_line()
            self._receiving = (turn.index, now)
            self._progress = Progress(
                TextColumn("  reply: {task.description}"), console=self.console, transient=True, auto_refresh=False
            )
            self._progress.start()
            self._task = self._progress.add_task("", total=None)
        elapsed = now - self._receiving[1]
        speed = f", {turn.audio_duration_s / elapsed:.1f}x real time" if elapsed > 0 else ""
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, description=f"{turn.audio_duration_s:.2f} s received{speed}")
            self._progress.refresh()

    def server_event(self, event: ServerEvent, turn: Turn | None) -> None:
        if isinstance(event, AudioChunk):
            self._reply_chunk(event, turn)
        elif isinstance(event, InputTranscription):
            self._stream("you", event.text, "cyan", event.finished)
        elif isinstance(event, OutputTranscription):
            self._stream("model", event.text, "magenta", event.finished)
        elif isinstance(event, TextPart):
            self._stream("thought" if event.thought else "text", event.text, "magenta")
        elif isinstance(event, ToolCall):
            for call in event.calls:
                args = json.dumps(call.args, ensure_ascii=False)
                self._say("  tool call: ", (call.name, "yellow"), f" {args} (id {call.id})", level=0)
        elif isinstance(event, ToolCallCancellation):
            self._say(f"  tool calls cancelled: {', '.join(event.ids)}", level=0)
        elif isinstance(event, Usage):
            self._say(
                f"  usage: prompt {event.prompt_tokens}, response {event.response_tokens}, "
                f"total {event.total_tokens} tokens",
                level=1,
            )
        elif isinstance(event, Interrupted):
            self._say(("  interrupted", "yellow"), ": the server cut the reply short", level=0)
        elif isinstance(event, GoAway):
            left = f"in {event.time_left_s:.1f} s" if event.time_left_s is not None else "soon"
            self._say(("server sent goAway", "yellow"), f": this connection closes {left}", level=-1)

    def _reply_chunk(self, event: AudioChunk, turn: Turn | None) -> None:
        index = turn.index if turn is not None else 0
        self._chunks[index] = self._chunks.get(index, 0) + 1
        so_far = f", {turn.audio_duration_s:.2f} s so far" if turn is not None else ""
        self._say(f"  reply audio: {len(event.data)} bytes ({event.duration_s * 1000:.0f} ms){so_far}", level=1)
        if self.is_tty and self.verbosity >= 0 and turn is not None and self._sending is None:
            self._reply_progress(turn)

    def turn_complete(self, report: TurnReport) -> None:
        if self._receiving is not None:
            self._stop_progress()
        turn = report.turn
        reply = []
        if turn.audio:
            chunks = self._chunks.get(turn.index, 0)
            reply.append(f"{turn.audio_duration_s:.2f} s of audio" + (f" ({chunks} chunks)" if chunks else ""))
        if turn.text:
            reply.append(f"{len(turn.text)} chars of text")
        if turn.usage is not None and turn.usage.total_tokens is not None:
            reply.append(f"{turn.usage.total_tokens} tokens")
        ending = TURN_ENDINGS.get(turn.end or "turnComplete", turn.end or "complete")
        style = "green" if turn.end in (None, "turnComplete", "generationComplete") else "yellow"
        self._say((f"turn {turn.index} {ending}", style), ": " + (", ".join(reply) or "no reply"), level=0)
        timings = turn_timings(report)
        if timings:
            self._say("  " + ", ".join(timings), level=0)
        if report.near_silent:
            loudness = "all samples zero" if report.level_dbfs == -math.inf else f"{report.level_dbfs:.0f} dBFS"
            self.warning(f"the reply to {report.input_name} is near-silent ({loudness})")

    def tool_finished(self, outcome: ToolOutcome) -> None:
        took = seconds(outcome.duration_s)
        head = f"  tool {outcome.name} (id {outcome.call_id}): "
        if outcome.cancelled is not None:
            why = f" ({outcome.cancelled}); nothing sent"
            self._say(head, (f"cancelled after {took}", "yellow"), why, level=0)
            return
        scheduling = f", scheduling {outcome.scheduling}" if outcome.scheduling else ""
        if outcome.error is not None:
            self._say(head, (f"error after {took}", "yellow"), f"{scheduling}: {outcome.error}", level=0)
            return
        shown = outcome.response_json
        if len(shown) > TOOL_RESULT_SHOWN and self.verbosity < 1:  # -v shows all of it
            shown = shown[: TOOL_RESULT_SHOWN - 1] + "…"
        size = f"{outcome.response_bytes} bytes"
        self._say(head, (f"answered in {took}", "green"), f" ({size}{scheduling}): {shown}", level=0)

    def reconnecting(self, attempt: int, limit: int, cause: str, delay_s: float, resend: str | None) -> None:
        self._stop_progress()
        self._reconnecting = True
        wait = f" in {delay_s:g} s" if delay_s else ""
        self._say(("reconnecting", "yellow"), f"{wait} (attempt {attempt} of {limit}): {cause}", level=-1)
        if resend:
            # All of it, the unacknowledged tail or the audio after the last answered turn (docs/wire.md,
            # "Resending input"): what the new connection has not taken.
            self._say(f"  {resend}: what the server has not taken of it will be sent again", level=-1)

    def resumed(self, setup_s: float, with_handle: bool) -> None:
        self._reconnecting = False
        if with_handle:
            self._say(("session resumed", "green"), f" (setup {seconds(setup_s)})", level=-1)
        else:
            self._say(
                ("new session", "yellow"),
                f" (setup {seconds(setup_s)}): no resumable handle, earlier turns are forgotten",
                level=-1,
            )

    def summary(
        self, inputs: int, turns: int, reply_bytes: int, status: int, *, reconnects: int = 0, usage_turns: int = 0
    ) -> None:
        if usage_turns:
            self._say("token counts are per turn, as the server reported them (not summed)", level=1)

    def reply_streaming(self, dest: str, rate: int, kind: str) -> None:
        # raw audio carries no rate, so its line stays under -q: the reader needs it to play the stream
        what = f"raw s16le mono at {rate} Hz" if kind == "raw" else f"WAV, {rate} Hz"
        where = "stdout" if dest == "-" else dest
        self._say("streaming the reply to ", (where, "bold"), f" ({what})", level=-1 if kind == "raw" else 0)

    def reply_written(self, dest: str, nbytes: int, rate: int, partial: bool) -> None:
        where = "stdout" if dest == "-" else dest
        what = "partial reply" if partial else "reply"
        self._say(f"{what} written to ", (where, "bold"), f" ({nbytes / (2 * rate):.2f} s, {rate} Hz)", level=-1)

    def warning(self, text: str) -> None:
        self._say(("warning: ", "yellow"), text, level=-1)

    def checks_passed(self, text: str) -> None:
        self._say(("checks passed", "green"), f": {text}", level=-1)

    def error(self, exc: BaseException, status: int) -> None:
        self.close()
        if isinstance(exc, KeyboardInterrupt) and self._sending is not None:
            # Ctrl-C mid-input: the turn never ended, so the server was never asked to answer it.
            info, sent_bytes = self._sending
            self._say(
                ("stopped while sending ", "yellow"),
                (info.name, "bold"),
                f": {sent_bytes / INPUT_BYTES_PER_S:.2f} s of {info.duration_s:.2f} s sent; "
                "its turn never ended, so there is no reply to it",
                level=-1,
            )

    def close(self) -> None:
        self._stop_progress()
        self._end_line()


def make_renderer(env: Env, *, json: bool, verbosity: int) -> Reporter:
    """The renderer the flags ask for: --json → JSON lines on stdout; -qq or a closed stderr → nothing; else Rich
    on stderr."""
    if json:
        return JsonLinesRenderer(env.stdout, env.clock)
    if verbosity <= -2 or env.stderr_closed:  # a closed stderr turns the display off, never onto stdout
        return Reporter()
    return RichRenderer(env.stderr, is_tty=env.stderr_isatty, verbosity=verbosity, clock=env.clock)
