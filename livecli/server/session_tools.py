"""Function calls the local server makes, and the replies around them (docs/wire.md, "Tool calls on the local
server").

ToolCalls holds the calls awaiting a toolResponse, by id: `call_all` gives the toolCall frame and remembers what to
do with each response; `respond` runs that for each functionResponse (an unknown or repeated id is refused with
1007); `cancel` forgets them all (a barge-in). ModelCalls is the model's side: for one user turn it decides which
declared functions to call (livecli.server.tool_model), sends the toolCall, and lays out the reply: after every
BLOCKING call's response, quoting them; at once for NON_BLOCKING calls, whose results follow as their `scheduling`
says (INTERRUPT cuts the reply in flight, WHEN_IDLE waits for it to end, SILENT says nothing).
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, Protocol

from livecli.protocol import close_reasons as cr
from livecli.protocol import server_messages as sm
from livecli.server.replies import Reply, spoken_reply
from livecli.server.scenarios import TurnSpec
from livecli.server.session_queue import ActionQueue
from livecli.server.tool_model import declarations, generate_args, is_non_blocking, named_functions
from livecli.server.validate import Refusal, SetupInfo

__all__ = ["CallHost", "ModelCalls", "OnResponse", "ToolCalls", "contains", "short_json"]

# Called with the time the response arrived and the functionResponse object.
OnResponse = Callable[[float, dict[str, Any]], None]

# Call ids are unique across the server's sessions, as the service's are.
_call_ids = itertools.count(1)


class ToolCalls:
    """Pending function calls by id."""

    def __init__(self, log: logging.Logger) -> None:
        self.log = log
        self._pending: dict[str, OnResponse] = {}
        self._answered: set[str] = set()
        self._cancelled: set[str] = set()

    def __bool__(self) -> bool:
        return bool(self._pending)

    def __len__(self) -> int:
        return len(self._pending)

    def call(self, name: str, args: dict[str, Any], on_response: OnResponse) -> bytes:
        """The toolCall frame for one new call; `on_response` runs when its functionResponse arrives."""
        return self.call_all([(name, args, on_response)])

    def call_all(self, calls: Sequence[tuple[str, dict[str, Any], OnResponse]]) -> bytes:
        """One toolCall frame asking for several calls at once, each answered on its own."""
        entries = []
        for name, args, on_response in calls:
            call_id = f"call-{next(_call_ids)}"
            self._pending[call_id] = on_response
            entries.append({"id": call_id, "name": name, "args": args})
        return sm.tool_call(entries)

    def respond(self, body: dict[str, Any], now: float) -> None:
        """Match each functionResponse to its pending call by id (docs/wire.md, "Tool calls").

        An id never sent, or answered already, closes the session with 1007; an id cancelled by a barge-in is
        ignored (the client may have answered before the toolCallCancellation reached it).
        """
        for response in body.get("functionResponses", []):
            call_id = str(response.get("id", ""))
            on_response = self._pending.pop(call_id, None)
            if on_response is None:
                if call_id in self._cancelled:
                    self.log.info("toolResponse for cancelled call %s ignored", call_id)
                    continue
                why = "was already answered" if call_id in self._answered else "matches no pending function call"
                raise Refusal.of(cr.TOOL_CALL_ID, id=short_json(call_id, 40), why=why)
            if response.get("willContinue") is True:
                self._pending[call_id] = on_response  # more responses to this call follow
            else:
                self._answered.add(call_id)
            on_response(now, response)

    def cancel(self) -> list[str]:
        """Forget every pending call; return their ids (for toolCallCancellation)."""
        ids = list(self._pending)
        self._pending.clear()
        self._cancelled.update(ids)
        return ids


class CallHost(Protocol):
    """What ModelCalls needs of the session it works for (livecli.server.session.ServerSession)."""

    setup: SetupInfo | None
    queue: ActionQueue
    tools: ToolCalls
    pending_replies: set[int]
    history: list[dict[str, Any]]

    def schedule_reply(self, now: float, turn: int, spec: TurnSpec, reply: Reply) -> None: ...

    def cut_reply(self, now: float, *, cancel_calls: bool) -> None: ...

    def send_tool_call(self, when: float, frame: bytes) -> None: ...

    def settle(self, now: float) -> None: ...


class ModelCalls:
    """The model's function calls for the turns of one session."""

    def __init__(self, host: CallHost) -> None:
        self.host = host

    def plan(self, spec: TurnSpec, text: str, described: str) -> list[tuple[str, dict[str, Any]]]:
        """The calls a turn makes: the scenario's `tool_call`, else every declared function the text names."""
        setup = self.host.setup
        assert setup is not None
        declared = declarations(setup.tools)
        tool = spec.tool_call
        if tool is None:
            names = named_functions([text, spec.input_transcript, spec.output_transcript], declared)
            return [(name, generate_args(declared[name], text)) for name in names]
        name = tool.name or next(iter(declared), "lookup")
        if tool.args is not None:
            return [(name, tool.args)]
        # A function the setup does not declare gets the echo's own argument
        # (docs/wire.md, "Tool calls on the local server").
        return [(name, generate_args(declared[name], text) if name in declared else {"query": described})]

    def start(
        self, now: float, turn: int, spec: TurnSpec, build: Callable[[str], Reply], text: str, described: str
    ) -> bool:
        """Send the turn's toolCall and arrange its reply; False when the turn calls nothing."""
        setup = self.host.setup
        assert setup is not None
        calls = self.plan(spec, text, described)
        if not calls:
            return False
        declared = declarations(setup.tools)
        expect = spec.tool_call.expect if spec.tool_call is not None else None
        later = {i for i, (name, _) in enumerate(calls) if is_non_blocking(declared.get(name))}
        waiting = set(range(len(calls))) - later
        quoted: dict[int, str] = {}
        text_modality = "TEXT" in setup.modalities

        def answer(index: int, name: str) -> OnResponse:
            def answered(when: float, response: dict[str, Any]) -> None:
                result = response.get("response")
                if expect is not None and not contains(result, expect):
                    self.host.queue.close_with(when, cr.TOOL_RESPONSE_MISMATCH, name=name)
                elif index in later:
                    self._later(when, turn, f"{name} returned {short_json(result)}", response, text_modality)
                elif response.get("willContinue") is not True:
                    quoted[index] = f"; {name} returned {short_json(result)}"
                    waiting.discard(index)
                    if not waiting:
                        reply = build("".join(quoted[i] for i in sorted(quoted)))
                        self.host.schedule_reply(when, turn, replace(spec, tool_call=None, delay_ms=0), reply)

            return answered

        frame = self.host.tools.call_all([(name, args, answer(i, name)) for i, (name, args) in enumerate(calls)])
        self.host.send_tool_call(now + spec.delay_ms / 1000, frame)
        if not waiting:  # NON_BLOCKING only: the reply goes on while the calls run
            self.host.schedule_reply(now, turn, replace(spec, tool_call=None), build(""))
        return True

    def _later(self, when: float, turn: int, summary: str, response: dict[str, Any], text_modality: bool) -> None:
        """A NON_BLOCKING call's result, told as its response's `scheduling` says (WHEN_IDLE by default)."""
        scheduling = response.get("scheduling") or "WHEN_IDLE"
        said = f"turn {turn}: {summary}"
        self.host.history.append({"role": "tool", "turn": turn, "content": said})
        if scheduling == "SILENT":
            self.host.settle(when)
            return
        if scheduling == "INTERRUPT" and self.host.pending_replies:
            self.host.cut_reply(when, cancel_calls=False)
        self.host.schedule_reply(when, turn, TurnSpec(), spoken_reply(said, text_modality=text_modality))


def contains(actual: Any, expected: Any) -> bool:
    """Whether `actual` holds `expected`: every key of an expected object, recursively; other values equal."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            k in actual and contains(actual[k], v) for k, v in expected.items()
        )
    return bool(actual == expected)


def short_json(value: Any, limit: int = 80) -> str:
    """Compact JSON of a tool result (or a client's id), cut to `limit` characters for a transcript or a reason."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."
