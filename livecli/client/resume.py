"""Surviving a connection's end: resume the session on a new socket and send the unanswered input again.

When (docs/wire.md, "goAway and resumption" and "Close codes"): after a goAway, at the first idle moment before
the next input, or — when the connection is busy — once its time is nearly up (ReconnectNow, a timer); after a
close 1011, an abnormal drop, a 1008 that follows a goAway, or any other transient close (1000/1001/1012–1014)
while a reply is expected. Never after 1007, quota, credentials, 1008 without a goAway, a protocol error or a
reply timeout: those would fail the same way again. Answered inputs are never sent again.

The input in flight (docs/wire.md, "Resending input"): with transparent resumption (Vertex) the unacknowledged
tail is sent first on the new connection (`Conversation.resend_tail`, inside the same retry loop, so a goAway or a
close while it is resent is one more reconnect) and the input goes on where it was; when that cannot be done (the
tail overflowed, no index came) it is sent again from its start, and a warning says so once per run. Without
it, under server VAD the audio after the last answered turn is sent again; with activity brackets the whole
input, because the newest resumable handle predates it (the service marks handles unresumable mid-turn).

Everything here runs in the task that drives the Conversation (see its docstring): the session is never
changed from another task, also not while a reconnect or a resend is in progress.

At most `max_reconnects` reconnects per input (the count starts again after each answered input), waiting 0.5,
1, 2, 4, 4… s before each one that follows a failure; planned reconnects (goAway, and the 1008 close that it
announced) do not wait. Credentials are refreshed (Vertex Bearer tokens) before every reconnect.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from livecli.client.conversation import Conversation, ReconnectNow
from livecli.errors import ConnectError, LivecliError, ProtocolError, QuotaError, ServerClosed
from livecli.protocol.endpoints import Target
from livecli.protocol.outbox import TAIL_LIMIT_S
from livecli.protocol.report import Reporter
from livecli.protocol.session import ClientSession

__all__ = ["BACKOFF_MAX_S", "BACKOFF_START_S", "Resumer", "backoff_s", "retryable"]

BACKOFF_START_S = 0.5
BACKOFF_MAX_S = 4.0
# Before an idle reconnect, how long to wait for the acknowledgement of an answered input's last messages: the
# update that covers them may trail its turnComplete, and resending them would have the input answered again.
ACKNOWLEDGE_WAIT_S = 1.0
# Close codes after which the same session may well work on a new connection.
_TRANSIENT_CODES = frozenset({1000, 1001, 1006, 1011, 1012, 1013, 1014})


def backoff_s(failures: int) -> float:
    """The wait before the reconnect that follows the `failures`-th consecutive failure (1-based)."""
    return float(min(BACKOFF_MAX_S, BACKOFF_START_S * 2.0 ** max(0, failures - 1)))


def retryable(exc: LivecliError, *, after_go_away: bool) -> bool:
    """Whether a new connection may cure this error (see the module docstring)."""
    if isinstance(exc, QuotaError | ProtocolError):
        return False
    if isinstance(exc, ServerClosed):
        if exc.quota or exc.token_used_up:
            return False
        if exc.code == 1008:
            return after_go_away and exc.after_setup
        return exc.code in _TRANSIENT_CODES
    return type(exc) is ConnectError  # refused, reset, timed out, TLS hiccup — not credentials or usage


@dataclass
class Connection:
    """How to (re)connect: the target and the options `Conversation.open` takes."""

    target: Target
    timeout: float
    environ: Mapping[str, str]


class Resumer:
    """Delivers inputs over a Conversation, reconnecting within a budget when the connection ends."""

    # How the backoff waits: a test of the retry logic replaces it (the delays are reported, not waited).
    pause: Callable[[float], Awaitable[None]] = staticmethod(asyncio.sleep)

    def __init__(
        self,
        conversation: Conversation,
        connection: Connection,
        renderer: Reporter,
        *,
        max_reconnects: int,
        enabled: bool,
        on_secrets: Callable[[tuple[str, ...]], None] = lambda secrets: None,
    ) -> None:
        self.conv = conversation
        self.connection = connection
        self.renderer = renderer
        self.max_reconnects = max_reconnects if enabled else 0
        self.on_secrets = on_secrets
        self.used = 0  # reconnects for the current input
        self.total = 0  # reconnects in the whole run
        self._failures = 0
        self._fallback_warned = False

    def _arm(self) -> None:
        self.conv.force_reconnect = self.used < self.max_reconnects

    async def deliver(
        self, attempt: Callable[[], Awaitable[None]], number: int, name: str, *, whole_s: float | None = None
    ) -> None:
        """Run `attempt` (send input `number` and wait for its reply) until it succeeds or cannot be retried.

        An input whose reply already completed (the session says it is answered) is not sent again for a
        close or the goAway deadline during the settle wait after it. `whole_s`: how long the input takes to
        send when it must reach the server within one connection (one activity, `--turn-end activity`); once a
        goAway tells how long connections last, an input longer than that is reported instead of being sent
        again from its start after every reconnect, which could never finish.
        """
        answered = functools.partial(self.conv.session.answered, number)
        self.used = 0
        await self.conv.poll()  # a goAway that came with the last reply counts before this input starts
        if self.conv.go_away_pending and self.max_reconnects > 0:
            await self.conv.settle_tail(ACKNOWLEDGE_WAIT_S)
            await self.reconnect("goAway received, resuming before the next input", None, failed=False)
        while True:
            self._arm()
            try:
                # A connection that ended after the previous reply (a close during its settle wait, or right
                # after its turnComplete) fails this input like a close while sending it would.
                self.conv.raise_if_failed()
                await self.conv.resend_tail()
                await attempt()
                self._failures = 0
                return
            except ReconnectNow:
                if answered():  # the deadline fell in the settle wait: the next input reconnects first
                    return
                self._refuse_if_it_cannot_fit(name, whole_s)
                cause, failed = "goAway: the connection's time is nearly up", False
            except LivecliError as exc:
                if answered():
                    return
                if self.used >= self.max_reconnects or not retryable(exc, after_go_away=self.conv.go_away_pending):
                    raise
                self._refuse_if_it_cannot_fit(name, whole_s)
                # The 1008 a goAway announced is the connection's planned end, not a failure to back off from.
                planned = isinstance(exc, ServerClosed) and exc.code == 1008 and self.conv.go_away_pending
                cause, failed = str(exc), not planned
            await self.reconnect(cause, name, failed=failed)

    def _refuse_if_it_cannot_fit(self, name: str, whole_s: float | None) -> None:
        """Raise when the input, sent whole, takes longer than a whole connection lasts (known from its goAway)."""
        lifetime = self.conv.lifetime_s()
        if whole_s is None or lifetime is None or whole_s <= lifetime:
            return
        raise ConnectError(
            f"{name} takes {whole_s:.1f} s to send but connections to this server last about {lifetime:.1f} s "
            "(goAway, then close): with --turn-end activity the whole input must fit in one connection, so it "
            "would be sent again from its start after every reconnect; use --turn-end vad (the server ends turns "
            "itself and the input streams across reconnects) or split the input"
        )

    async def reconnect(self, cause: str, resend: str | None, *, failed: bool) -> None:
        """Replace the connection, retrying failed connects within the budget; raises the last error."""
        while True:
            self.used += 1
            self.total += 1
            if failed:
                self._failures += 1
            delay = backoff_s(self._failures) if failed else 0.0
            self.renderer.reconnecting(self.used, self.max_reconnects, cause, delay, resend)
            if delay:
                await self.pause(delay)
            try:
                await self._connect()
                self._warn_if_not_transparent(resend)
                return
            except LivecliError as exc:
                if self.used >= self.max_reconnects or not retryable(exc, after_go_away=False):
                    raise
                cause, failed = str(exc), True

    def _warn_if_not_transparent(self, resend: str | None) -> None:
        """Once per run: transparent resumption was asked for, but the input in flight is sent again instead."""
        session = self.conv.session
        if resend is None or not session.outbox.keep or session.resumed_transparently or self._fallback_warned:
            return
        self._fallback_warned = True
        self.renderer.warning(
            f"transparent resumption could not go on with {resend} where it was ({_why_not(session)}): "
            "it is sent again from its start"
        )

    async def _connect(self) -> None:
        # Vertex Bearer tokens expire: refresh before every reconnect (a blocking HTTP call, so in a thread).
        target = await asyncio.to_thread(self.connection.target.refreshed)
        self.connection.target = target
        self.on_secrets(target.secrets)
        handle = self.conv.session.resume_handle is not None
        await self.conv.reconnect(target, timeout=self.connection.timeout, environ=self.connection.environ)
        self.renderer.resumed(self.conv.setup_s or 0.0, handle)


def _why_not(session: ClientSession) -> str:
    """Why a transparent resumption could not resend just the unacknowledged tail."""
    if session.outbox.overflowed:
        return f"more than {TAIL_LIMIT_S:g} s of its audio went unacknowledged"
    if session.resume_handle is None:
        return "the server sent no resumable handle"
    if session.outbox.acknowledged is None:
        return "the server's handle came without lastConsumedClientMessageIndex"
    return "the server had all of it, but its reply was cut"
