"""A run's outcome as it becomes known (send, text and chat): its first failure, the exit status that failure
means, and the summary last.

The CLI's exit-status table (`status_of`) is passed in: only the CLI knows it, and the `--json` error and
summary lines carry the status the process will exit with.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from livecli.client.hints import with_hint
from livecli.errors import LivecliError, ServerClosed
from livecli.protocol.redact import redact

if TYPE_CHECKING:
    from livecli.commands.input_loop import RunState
    from livecli.commands.replies import ReplyTotals
    from livecli.commands.request import RunRequest
    from livecli.protocol.report import Reporter

__all__ = ["RunOutcome", "redact_error"]


class RunOutcome:
    """The run's first failure and the exit status it means, reported as it becomes known.

    The first failure decides the exit status and gets the `error` event; a later one (a reply that cannot be
    written after the connection failed) is a warning, since it does not change the status. The summary comes
    last, once no failure can follow, so its exit_status is the process's. A display that breaks while
    reporting (--json on a stdout whose reader left) becomes the failure only if there was none.
    """

    def __init__(
        self, renderer: Reporter, status_of: Callable[[BaseException], int], req: RunRequest, state: RunState
    ) -> None:
        self.renderer = renderer
        self.status_of = status_of
        self.req = req
        self.state = state
        self.failure: BaseException | None = None
        self.status = 0

    def fail(self, exc: BaseException) -> None:
        if isinstance(exc, LivecliError):
            with_hint(exc, client_content=self.req.client_content)
            redact_error(exc, self.state.secrets)
        if self.failure is not None:
            if isinstance(exc, LivecliError):
                self._report(lambda: self.renderer.warning(f"also: {exc}"))
            return
        self.failure, self.status = exc, self.status_of(exc)
        self._report(lambda: self.renderer.error(exc, self.status))

    def finish(self, totals: ReplyTotals, inputs: int) -> None:
        reconnects = self.state.resumer.total if self.state.resumer is not None else 0
        self._report(
            lambda: self.renderer.summary(
                inputs,
                totals.turns,
                totals.reply_bytes,
                self.status,
                reconnects=reconnects,
                usage_turns=totals.usage_turns,
            )
        )
        self._report(self.renderer.close)

    def _report(self, call: Callable[[], None]) -> None:
        try:
            call()
        except Exception as exc:
            if self.failure is None:
                self.failure, self.status = exc, self.status_of(exc)


def redact_error(exc: LivecliError, secrets: Sequence[str]) -> None:
    """Mask secrets a server may have echoed back, in the message and in a close reason."""
    text = str(exc)
    cleaned = redact(text, secrets)
    if cleaned != text:
        exc.args = (cleaned,)
    if isinstance(exc, ServerClosed):
        exc.reason = redact(exc.reason, secrets)
