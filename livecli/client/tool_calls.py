"""The tool-call dispatcher a Conversation owns: every call id the server sends is answered exactly once.

A call to a function the runner handles runs as its own task, concurrently with the session (audio keeps
streaming, replies keep arriving), within the runner's timeout. Its answer goes to `send`, which has the task
that drives the session send it (Conversation.answer_later: the ClientSession is only ever touched by that one
task). A call to any other name, or any call when no tool option was given, is answered
at once with an error response, so a turn never stalls (docs/wire.md, "Tool calls"). `toolCallCancellation`
cancels the running handler and nothing is sent for that id; closing the dispatcher (the connection ends)
cancels every handler still running, and each is reported. A handler that fails in a way that is not an answer
(a bug) goes to `on_failure` at once, which ends the run with it, never a later "no reply".

The runner is whatever the command built (livecli.tools.registry.ToolRegistry); the client knows it only by
the `ToolRunner` shape below, and never imports the tools package.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, Protocol

from livecli.errors import LivecliError
from livecli.protocol.client_messages import FUNCTION_RESPONSE_SCHEDULINGS
from livecli.protocol.events import FunctionCall, ToolCall
from livecli.protocol.redact import redact
from livecli.protocol.report import Reporter, ToolOutcome

__all__ = ["SendAnswers", "ToolCallDispatcher", "ToolRunner"]

# Sends functionResponses on the current connection: True once sent, False when the connection ended first.
SendAnswers = Callable[[list[dict[str, Any]]], Awaitable[bool]]


class ToolRunner(Protocol):
    """What runs function calls: one owner per declared name."""

    @property
    def timeout_s(self) -> float:
        """A call still running after this long is answered with an error (--tool-timeout)."""
        ...

    def handles(self, name: str) -> bool:
        """Whether `name` is a declared function."""
        ...

    async def call(self, name: str, args: dict[str, Any], *, call_id: str) -> dict[str, Any]:
        """The function response; a LivecliError is an error answer; cancellation must stop the work."""
        ...


class ToolCallDispatcher:
    """Answers the function calls of one Conversation."""

    def __init__(
        self,
        runner: ToolRunner | None,
        renderer: Reporter,
        clock: Callable[[], float],
        *,
        send: SendAnswers,
        wake: Callable[[], None],
        on_failure: Callable[[Exception], None],
        secrets: Callable[[], Sequence[str]],
    ) -> None:
        self.runner = runner
        self.renderer = renderer
        self.clock = clock
        self._send = send
        self._wake = wake  # an answer went out: whoever waits on the session looks again
        self._on_failure = on_failure
        self._secrets = secrets
        self._seen: set[str] = set()  # every id taken: a repeated id is not answered twice
        self._running: dict[str, tuple[FunctionCall, float]] = {}  # handlers not yet done, and when they began
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._sending: set[str] = set()  # handlers done, answers on their way out
        self._answered_at: float | None = None

    @property
    def busy(self) -> bool:
        """Whether a handler is still working or its answer is on its way (the server's silence is then
        livecli's own wait)."""
        return bool(self._running or self._sending)

    def quiet_since(self, now: float) -> float:
        """Since when nothing was pending on livecli's side: now while a handler runs, else the last answer."""
        if self.busy:
            return now
        return self._answered_at if self._answered_at is not None else -float("inf")

    def take(self, event: ToolCall) -> list[dict[str, Any]]:
        """Start a handler for each new call; returns the error responses to send at once (unknown names)."""
        immediate: list[dict[str, Any]] = []
        for call in event.calls:
            if call.id in self._seen:
                self.renderer.warning(f"the server sent the call id {call.id} again; it is answered once")
                continue
            self._seen.add(call.id)
            if self.runner is None or not self.runner.handles(call.name):
                immediate.append(self._refusal(call))
                continue
            self._running[call.id] = (call, self.clock())
            self._tasks[call.id] = asyncio.create_task(self._run(call), name=f"tool call {call.id}")
        if immediate:
            self._answered_at = self.clock()
        return immediate

    def _refusal(self, call: FunctionCall) -> dict[str, Any]:
        """The error response for a function no source declared."""
        if self.runner is None:
            message = f"livecli cannot run functions: {call.name} is not available"
        else:
            message = f"unknown function {call.name}: no --tools, --tool-exec or --mcp source declares it"
        response = {"id": call.id, "name": call.name, "response": {"error": message}}
        self._report(call, 0.0, response)
        return response

    def cancel(self, ids: Iterable[str], why: str = "toolCallCancellation") -> None:
        """Stop the handlers of these calls; nothing is sent for them (ids already answered are ignored)."""
        for call_id in ids:
            running = self._running.pop(call_id, None)
            if running is None:
                continue  # answered already (an answer and the cancellation crossed), or never ours
            call, started = running
            self._tasks[call_id].cancel()
            self._outcome(ToolOutcome(call.id, call.name, self.clock() - started, "", cancelled=why))

    async def close(self, why: str = "the connection closed") -> None:
        """Cancel every handler still running (each reported) and wait until they stopped."""
        await asyncio.sleep(0)  # an answer already sent is reported first (its task resumes in this turn)
        self.cancel(list(self._running), why)
        tasks = list(self._tasks.values())
        for task in tasks:
            if not task.cancelling():  # (also one whose answer waits to be sent: its connection is going)
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _run(self, call: FunctionCall) -> None:
        """Run one handler and send its answer; a failure that is not an answer is `on_failure`."""
        try:
            response = await self._response(call)
            running = self._running.pop(call.id, None)
            if running is None:
                return  # cancelled as it finished: nothing is sent for a cancelled id
            started = running[1]
            self._sending.add(call.id)
            if await self._send([response]):
                self._answered_at = self.clock()
                self._report(call, self._answered_at - started, response)
            else:
                why = "the connection ended before the answer could be sent"
                self._outcome(ToolOutcome(call.id, call.name, self.clock() - started, "", cancelled=why))
        except asyncio.CancelledError:
            if call.id in self._sending:  # (a running handler's cancellation was reported by cancel())
                why = "the connection closed before the answer was sent"
                self._outcome(ToolOutcome(call.id, call.name, 0.0, "", cancelled=why))
        except Exception as exc:  # a bug in a handler's plumbing: the run stops now, not at a reply timeout
            self._running.pop(call.id, None)
            self._on_failure(exc)
        finally:
            self._tasks.pop(call.id, None)
            if call.id in self._sending:
                self._sending.discard(call.id)
                self._wake()

    async def _response(self, call: FunctionCall) -> dict[str, Any]:
        """The functionResponse for one call: the handler's answer, or an error response saying why not."""
        assert self.runner is not None
        limit = self.runner.timeout_s
        timeout = asyncio.timeout(limit if limit > 0 else None)
        try:
            async with timeout:
                result = await self.runner.call(call.name, dict(call.args), call_id=call.id)
        except TimeoutError:
            if not timeout.expired():
                raise
            return _error(call, f"no answer within {limit:g} s (--tool-timeout); the call was stopped")
        except LivecliError as exc:
            return _error(call, str(exc))
        if not isinstance(result, dict):
            raise TypeError(f"the handler of {call.name} returned {type(result).__name__}, not a dict")
        return _with_scheduling(call, result)

    def _report(self, call: FunctionCall, duration_s: float, response: dict[str, Any]) -> None:
        body = response["response"]
        error = body.get("error") if isinstance(body, dict) and set(body) == {"error"} else None
        secrets = self._secrets()
        self._outcome(
            ToolOutcome(
                call.id,
                call.name,
                duration_s,
                redact(json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str), secrets),
                error=redact(str(error), secrets) if error is not None else None,
                scheduling=response.get("scheduling"),
            )
        )

    def _outcome(self, outcome: ToolOutcome) -> None:
        """Report one outcome; a display that fails (a closed stdout) ends the run like any failure."""
        try:
            self.renderer.tool_finished(outcome)
        except Exception as exc:
            self._on_failure(exc)


def _error(call: FunctionCall, message: str) -> dict[str, Any]:
    return {"id": call.id, "name": call.name, "response": {"error": message}}


def _with_scheduling(call: FunctionCall, result: dict[str, Any]) -> dict[str, Any]:
    """The functionResponse; a `scheduling` the handler returned (INTERRUPT, WHEN_IDLE, SILENT) moves from its
    result to the functionResponse, where the API reads it (docs/wire.md, "Tool calls")."""
    body = dict(result)
    scheduling = body.get("scheduling")
    response: dict[str, Any] = {"id": call.id, "name": call.name}
    if isinstance(scheduling, str) and scheduling.upper() in FUNCTION_RESPONSE_SCHEDULINGS:
        del body["scheduling"]
        response["scheduling"] = scheduling.upper()
    response["response"] = body
    return response
