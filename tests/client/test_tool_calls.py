"""The tool-call dispatcher: each call id answered exactly once, by its handler, concurrently; cancellation
sends nothing; the connection's end cancels and reports what still runs; a bug surfaces at once."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from livecli.client.tool_calls import ToolCallDispatcher
from livecli.errors import LivecliError
from livecli.protocol.events import FunctionCall, ToolCall
from livecli.protocol.report import Reporter, ToolOutcome

SECRET = "AIzaSyTESTKEY0123456789abcdefghijklmn"


class Runner:
    """Handles `echo`, `slow`, `fails`, `broken`, `scheduled`, `leaky`; records what ran and what was stopped."""

    timeout_s = 5.0

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.stopped: list[str] = []

    def handles(self, name: str) -> bool:
        return name in {"echo", "slow", "fails", "broken", "scheduled", "leaky"}

    async def call(self, name: str, args: dict[str, Any], *, call_id: str) -> dict[str, Any]:
        self.calls.append(call_id)
        if name == "slow":
            try:
                await asyncio.sleep(args.get("s", 60))
            except asyncio.CancelledError:
                self.stopped.append(call_id)
                raise
        if name == "fails":
            raise LivecliError("the backend is down")
        if name == "broken":
            raise KeyError("a bug")
        if name == "scheduled":
            return {"result": 1, "scheduling": "silent"}
        if name == "leaky":
            return {"key": SECRET}
        return {"echo": args}


class Outcomes(Reporter):
    def __init__(self) -> None:
        self.outcomes: list[ToolOutcome] = []
        self.warnings: list[str] = []

    def tool_finished(self, outcome: ToolOutcome) -> None:
        self.outcomes.append(outcome)

    def warning(self, text: str) -> None:
        self.warnings.append(text)


class Driver:
    """Stands in for the Conversation: collects what would be sent, and failures."""

    def __init__(self, runner: Runner | None = None, timeout_s: float | None = None) -> None:
        self.runner = runner if runner is not None else Runner()
        if timeout_s is not None:
            self.runner.timeout_s = timeout_s
        self.reporter = Outcomes()
        self.failures: list[Exception] = []
        self.answered = asyncio.Event()
        self.sent: list[dict[str, Any]] = []
        self.connected = True
        self.dispatcher = ToolCallDispatcher(
            self.runner,
            self.reporter,
            time.monotonic,
            send=self.send,
            wake=lambda: None,
            on_failure=self.failures.append,
            secrets=lambda: (SECRET,),
        )

    async def send(self, responses: list[dict[str, Any]]) -> bool:
        if self.connected:
            self.sent += responses
            self.answered.set()
        return self.connected

    def call(self, *calls: tuple[str, str, dict[str, Any]]) -> None:
        event = ToolCall(tuple(FunctionCall(i, n, a) for i, n, a in calls))
        self.sent += self.dispatcher.take(event)

    async def answers(self, count: int) -> list[dict[str, Any]]:
        """Wait until `count` answers were sent in all (as the driver would send them)."""
        async with asyncio.timeout(10):
            while len(self.sent) < count:
                self.answered.clear()
                await self.answered.wait()
        return self.sent


async def test_each_call_is_answered_by_its_handler() -> None:
    driver = Driver()
    driver.call(("c1", "echo", {"x": 1}), ("c2", "echo", {"x": 2}))
    sent = await driver.answers(2)
    assert sorted(sent, key=lambda r: r["id"]) == [
        {"id": "c1", "name": "echo", "response": {"echo": {"x": 1}}},
        {"id": "c2", "name": "echo", "response": {"echo": {"x": 2}}},
    ]
    assert [o.error for o in driver.reporter.outcomes] == [None, None]


async def test_a_repeated_id_is_answered_once() -> None:
    driver = Driver()
    driver.call(("c1", "echo", {}))
    driver.call(("c1", "echo", {}))
    await driver.answers(1)
    await asyncio.sleep(0.05)
    assert [r["id"] for r in driver.sent] == ["c1"]
    assert driver.runner.calls == ["c1"]
    assert driver.reporter.warnings == ["the server sent the call id c1 again; it is answered once"]


async def test_calls_run_concurrently() -> None:
    """A slow handler does not hold up a quick one."""
    driver = Driver()
    driver.call(("slow", "slow", {"s": 30}), ("quick", "echo", {}))
    sent = await driver.answers(1)
    assert [r["id"] for r in sent] == ["quick"]
    assert driver.dispatcher.busy
    await driver.dispatcher.close()


async def test_an_unknown_name_is_answered_at_once_with_an_error() -> None:
    driver = Driver()
    driver.call(("c1", "nope", {}))
    assert driver.sent == [
        {
            "id": "c1",
            "name": "nope",
            "response": {"error": "unknown function nope: no --tools, --tool-exec or --mcp source declares it"},
        }
    ]
    assert driver.reporter.outcomes[0].error is not None


async def test_without_tools_every_call_is_answered_with_the_error_of_old() -> None:
    dispatcher = ToolCallDispatcher(
        None,
        Outcomes(),
        time.monotonic,
        send=Driver().send,
        wake=lambda: None,
        on_failure=lambda e: None,
        secrets=tuple,
    )
    sent = dispatcher.take(ToolCall((FunctionCall("c1", "lookup", {}),)))
    assert sent == [
        {
            "id": "c1",
            "name": "lookup",
            "response": {"error": "livecli cannot run functions: lookup is not available"},
        }
    ]


async def test_a_handler_error_is_an_error_response() -> None:
    driver = Driver()
    driver.call(("c1", "fails", {}))
    assert await driver.answers(1) == [{"id": "c1", "name": "fails", "response": {"error": "the backend is down"}}]
    assert driver.reporter.outcomes[0].error == "the backend is down"


async def test_a_handler_past_the_timeout_is_stopped_and_answered_with_an_error() -> None:
    driver = Driver(timeout_s=0.05)
    driver.call(("c1", "slow", {}))
    [response] = await driver.answers(1)
    assert response["response"]["error"] == "no answer within 0.05 s (--tool-timeout); the call was stopped"
    assert driver.runner.stopped == ["c1"]


async def test_cancellation_stops_the_handler_and_nothing_is_sent() -> None:
    driver = Driver()
    driver.call(("c1", "slow", {}), ("c2", "echo", {}))
    await driver.answers(1)
    await asyncio.sleep(0.01)
    driver.dispatcher.cancel(["c1", "c2", "unknown"])
    await driver.dispatcher.close()
    assert [r["id"] for r in driver.sent] == ["c2"]
    assert driver.runner.stopped == ["c1"]
    [cancelled] = [o for o in driver.reporter.outcomes if o.cancelled]
    assert (cancelled.call_id, cancelled.cancelled, cancelled.response_json) == ("c1", "toolCallCancellation", "")


async def test_an_answer_the_connection_could_not_take_is_reported_not_sent() -> None:
    driver = Driver()
    driver.connected = False
    driver.call(("c1", "echo", {}))
    async with asyncio.timeout(10):
        while not driver.reporter.outcomes:
            await asyncio.sleep(0.01)
    assert driver.sent == []
    assert driver.reporter.outcomes[0].cancelled == "the connection ended before the answer could be sent"


async def test_closing_cancels_and_reports_every_handler_still_running() -> None:
    driver = Driver()
    driver.call(("c1", "slow", {}), ("c2", "slow", {}))
    await asyncio.sleep(0.01)
    await driver.dispatcher.close()
    assert sorted(driver.runner.stopped) == ["c1", "c2"]
    assert {o.cancelled for o in driver.reporter.outcomes} == {"the connection closed"}
    assert not driver.dispatcher.busy
    assert driver.sent == []


async def test_a_bug_in_a_handler_surfaces_at_once() -> None:
    driver = Driver()
    driver.call(("c1", "broken", {}))
    async with asyncio.timeout(10):
        while not driver.failures:
            await asyncio.sleep(0.01)
    assert isinstance(driver.failures[0], KeyError)
    assert driver.sent == []


async def test_a_scheduling_the_handler_returns_goes_into_the_function_response() -> None:
    driver = Driver()
    driver.call(("c1", "scheduled", {}))
    assert await driver.answers(1) == [
        {"id": "c1", "name": "scheduled", "scheduling": "SILENT", "response": {"result": 1}}
    ]
    assert driver.reporter.outcomes[0].scheduling == "SILENT"


async def test_what_is_reported_is_redacted_and_what_is_sent_is_not() -> None:
    driver = Driver()
    driver.call(("c1", "leaky", {}))
    assert await driver.answers(1) == [{"id": "c1", "name": "leaky", "response": {"key": SECRET}}]
    assert SECRET not in driver.reporter.outcomes[0].response_json


async def test_the_silence_while_a_handler_runs_is_not_the_servers() -> None:
    driver = Driver()
    assert driver.dispatcher.quiet_since(100.0) == -float("inf")
    driver.call(("c1", "slow", {"s": 0.05}))
    assert driver.dispatcher.quiet_since(100.0) == 100.0
    await driver.answers(1)
    assert driver.dispatcher.quiet_since(1e9) < 1e9


@pytest.mark.parametrize("bad", [[1, 2], "text"])
async def test_a_runner_returning_something_else_than_a_dict_is_a_bug(bad: Any) -> None:
    class Odd(Runner):
        async def call(self, name: str, args: dict[str, Any], *, call_id: str) -> Any:
            return bad

    driver = Driver(Odd())
    driver.call(("c1", "echo", {}))
    async with asyncio.timeout(10):
        while not driver.failures:
            await asyncio.sleep(0.01)
    assert isinstance(driver.failures[0], TypeError)
