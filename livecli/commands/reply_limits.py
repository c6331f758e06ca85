"""How much reply one input may bring: `--max-reply-seconds` of audio and `MAX_REPLY_TEXT_CHARS` of text.

Reply text is kept in memory and reply audio on disk (commands/reply_spill) until the run writes them, so a
server that streams without end (a hostile one reached 15 GB in 150 s, 7.3 GB of text in 40 s) would take all
of one or the other. Every attempt at an input
counts (a reconnect that resends it keeps the cut-off attempt's turns too), so what one input can hold is
bounded. Past a limit the run stops with a ProtocolError (exit 4, never retried: a new connection would only
bring more); the reply received up to the limit is still written, as partial.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from livecli.commands.forwarding import ForwardingReporter
from livecli.errors import ProtocolError
from livecli.protocol.events import AudioChunk, InputTranscription, OutputTranscription, TextPart

if TYPE_CHECKING:
    from livecli.protocol.events import ServerEvent
    from livecli.protocol.report import Reporter
    from livecli.protocol.turns import Turn

__all__ = ["DEFAULT_MAX_REPLY_S", "MAX_REPLY_TEXT_CHARS", "ReplyLimits"]

DEFAULT_MAX_REPLY_S = 3600.0  # an hour of audio per input: 173 MB at 24 kHz (on disk), far past any real reply
MAX_REPLY_TEXT_CHARS = 8 * 2**20  # text parts and transcripts per input, about 8 MiB: a book, not a flood


class ReplyLimits(ForwardingReporter):
    """Counts each input's reply as it arrives and stops the run past a limit (the error ends the reader)."""

    def __init__(self, inner: Reporter, max_reply_s: float = DEFAULT_MAX_REPLY_S) -> None:
        super().__init__(inner)
        self.max_reply_s = max_reply_s
        self._audio_s: dict[int, float] = {}  # per input number (0: before any input)
        self._text: dict[int, int] = {}

    def server_event(self, event: ServerEvent, turn: Turn | None) -> None:
        number = turn.input.number if turn is not None and turn.input is not None else 0
        name = turn.input.name if turn is not None and turn.input is not None else "the session"
        if isinstance(event, AudioChunk):
            received = self._audio_s[number] = self._audio_s.get(number, 0.0) + event.duration_s
            if received > self.max_reply_s:
                raise ProtocolError(
                    f"{name}: the reply passed --max-reply-seconds ({self.max_reply_s:g} s of audio): "
                    "stopped reading it; what came up to the limit is kept"
                )
        elif isinstance(event, TextPart | InputTranscription | OutputTranscription):
            chars = self._text[number] = self._text.get(number, 0) + len(event.text)
            if chars > MAX_REPLY_TEXT_CHARS:
                raise ProtocolError(
                    f"{name}: the reply passed {MAX_REPLY_TEXT_CHARS} characters of text and transcripts: "
                    "stopped reading it; what came up to the limit is kept"
                )
        super().server_event(event, turn)
