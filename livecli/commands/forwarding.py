"""`ForwardingReporter`: a Reporter in front of another, passing every report on, so a use case can act on what
the client reports (stream the reply as it arrives, stop a reply past its limit) without the client knowing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from livecli.protocol.report import FramesSent, InputInfo, Reporter, ToolOutcome, TurnReport

if TYPE_CHECKING:
    from livecli.protocol.events import ServerEvent
    from livecli.protocol.turns import Turn

__all__ = ["ForwardingReporter"]


class ForwardingReporter(Reporter):
    """Passes every report to `inner`; subclasses override what they act on and call the base."""

    def __init__(self, inner: Reporter) -> None:
        self.inner = inner

    def connecting(self, url: str, backend: str) -> None:
        self.inner.connecting(url, backend)

    def connected(self, url: str, backend: str) -> None:
        self.inner.connected(url, backend)

    def setup_complete(self, setup_s: float, session_id: str | None) -> None:
        self.inner.setup_complete(setup_s, session_id)

    def input_started(self, info: InputInfo) -> None:
        self.inner.input_started(info)

    def input_progress(self, info: InputInfo, chunks: int, sent_bytes: int) -> None:
        self.inner.input_progress(info, chunks, sent_bytes)

    def input_ended(self, info: InputInfo, chunks: int, sent_bytes: int) -> None:
        self.inner.input_ended(info, chunks, sent_bytes)

    def frames_sent(self, info: InputInfo, sent: FramesSent) -> None:
        self.inner.frames_sent(info, sent)

    def server_event(self, event: ServerEvent, turn: Turn | None) -> None:
        self.inner.server_event(event, turn)

    def turn_complete(self, report: TurnReport) -> None:
        self.inner.turn_complete(report)

    def tool_finished(self, outcome: ToolOutcome) -> None:
        self.inner.tool_finished(outcome)

    def reconnecting(self, attempt: int, limit: int, cause: str, delay_s: float, resend: str | None) -> None:
        self.inner.reconnecting(attempt, limit, cause, delay_s, resend)

    def resumed(self, setup_s: float, with_handle: bool) -> None:
        self.inner.resumed(setup_s, with_handle)

    def reply_streaming(self, dest: str, rate: int, kind: str) -> None:
        self.inner.reply_streaming(dest, rate, kind)

    def reply_written(self, dest: str, nbytes: int, rate: int, partial: bool) -> None:
        self.inner.reply_written(dest, nbytes, rate, partial)

    def warning(self, text: str) -> None:
        self.inner.warning(text)

    def checks_passed(self, text: str) -> None:
        self.inner.checks_passed(text)

    def error(self, exc: BaseException, status: int) -> None:
        self.inner.error(exc, status)

    def summary(
        self, inputs: int, turns: int, reply_bytes: int, status: int, *, reconnects: int = 0, usage_turns: int = 0
    ) -> None:
        self.inner.summary(inputs, turns, reply_bytes, status, reconnects=reconnects, usage_turns=usage_turns)

    def close(self) -> None:
        self.inner.close()
