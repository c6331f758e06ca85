"""`chat`'s data on stdout: each reply's transcript (or its text parts, `--modality text`) as it arrives.

A Reporter in front of the display: the pieces of the reply go to stdout as the client reports them, one line
per reply turn, and the display is not told them again (it would show the same words twice on a terminal). On a
terminal the text is escaped (protocol.redact.printable); in a pipe it is data, written as it came (a lone
surrogate as `\\ud800`, as `text` writes it).

When stdout is a terminal, the display on stderr shares it: the display is then plain (commands/chat/run: no
progress bar redrawing the line the transcript is written on), and lines do not run into each other: the
display's open "you:" line is ended (the empty `finished` piece the service itself ends a transcript with)
before a reply line starts, and a reply line is ended before the display shows more of what the user said.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from livecli.commands.forwarding import ForwardingReporter
from livecli.protocol.events import InputTranscription, OutputTranscription, TextPart
from livecli.protocol.redact import printable
from livecli.protocol.report import Reporter, TurnReport

if TYPE_CHECKING:
    from livecli.env import Env
    from livecli.protocol.events import ServerEvent
    from livecli.protocol.turns import Turn

__all__ = ["TranscriptOut"]


class TranscriptOut(ForwardingReporter):
    """Streams the reply's words to stdout; everything else goes on to the display (`inner`)."""

    def __init__(self, inner: Reporter, env: Env, *, text_modality: bool) -> None:
        super().__init__(inner)
        self.env = env
        self.text_modality = text_modality
        self._line_of: int | None = None  # the turn whose line is being written (not ended yet)

    def _piece(self, event: ServerEvent) -> str | None:
        """The words of the reply in `event`, if it carries them (the transcript, or text parts under TEXT)."""
        if isinstance(event, OutputTranscription) and not self.text_modality:
            return event.text
        if isinstance(event, TextPart) and self.text_modality and not event.thought:
            return event.text
        return None

    def server_event(self, event: ServerEvent, turn: Turn | None) -> None:
        piece = self._piece(event)
        if piece is None:
            if isinstance(event, InputTranscription) and event.text and self.env.stdout_isatty:
                self.end_line()
            self.inner.server_event(event, turn)
            return
        if not piece:
            return
        index = turn.index if turn is not None else 0
        if self._line_of is not None and self._line_of != index:
            self.end_line()
        if self._line_of is None and self.env.stdout_isatty:
            self.inner.server_event(InputTranscription("", finished=True), turn)
        self._line_of = index
        shown = printable(piece, keep_newlines=True) if self.env.stdout_isatty else piece
        self._write(shown.encode("utf-8", "backslashreplace"))

    def turn_complete(self, report: TurnReport) -> None:
        if self._line_of == report.turn.index:
            self.end_line()
        self.inner.turn_complete(report)

    def end_line(self) -> None:
        """End the line being written, if one is."""
        if self._line_of is not None:
            self._line_of = None
            self._write(b"\n")

    def _write(self, data: bytes) -> None:
        from livecli.audio.encode import write_to_stdout

        write_to_stdout(self.env.stdout, data)
