"""Scenarios: how the local server misbehaves on purpose (fault injection for tests and CI).

Built-ins (`--scenario NAME` for the whole server, `?scenario=NAME` per connection):

    echo                      the default: chime + your audio back (one tone per word for text)
    close-1007                close 1007 "Request contains an invalid argument." instead of setupComplete
    close-1008                close 1008 "Operation is not implemented, or supported, or enabled." at turn 1
    close-1011                close 1011 "Internal error encountered." at turn 1
    quota                     close 1011 "You exceeded your current quota..." 1 s after setup or at turn 1
    drop                      abrupt TCP drop (no close frame) at turn 1
    stall                     never answer turn 1 (pings still answered)
    generation-complete-only  end turns with generationComplete and no turnComplete (like 3.1 preview)
    goaway                    goAway timeLeft 1s right after setupComplete, then close 1008
    interrupt                 every reply is cut after 200 ms with interrupted
    tool-call                 every turn first calls a tool (the setup's first function, with arguments
                              from its schema; else "lookup" with {"query": what was heard}) and replies
                              once the toolResponse arrives (in every scenario, a turn that names a
                              declared function calls it: docs/wire.md, "Tool calls on the local server")
    http-401 / http-429       refuse the WebSocket upgrade with that HTTP status
    malformed-frame           answer turn 1 with a frame that is not JSON
    stream-end-ignored        audioStreamEnd does not end the turn (python-genai #1328)
    silent                    every reply is 1 s of digital silence

A scenario file (TOML, or the same structure in JSON), given as `--scenario FILE`; its `name` also works as
`?scenario=NAME`:

    name = "flaky"
    repeat_last_turn = false          # turns past the list: echo (false) or the last entry again (true)
    # upgrade = { status = 429, body = "RESOURCE_EXHAUSTED" }   # refuse the upgrade
    # setup = { close = { code = 1007, reason = "Request contains an invalid argument." } }

    [[turns]]                         # turn 1 of the session (turns continue across resumptions)
    delay_ms = 300                    # before the first reply byte
    audio = "answer.wav"              # reply audio from a file (relative to this file), sent at 24 kHz
    input_transcript = "what is the weather"
    output_transcript = "It is sunny."
    text = ["It is sunny."]           # text parts
    generation_complete_only = true   # no turnComplete
    # interrupt_after_ms = 200        # cut the reply with interrupted
    # silent = true                   # 1 s of silence as the reply audio

    [[turns]]                         # turn 2: a tool call, answered once the matching toolResponse arrives
    tool_call = { name = "get_weather", args = { city = "Paris" }, expect = { result = "sunny" } }

    [[turns]]                         # turn 3: instead of replying
    close = { code = 1011, reason = "Internal error encountered." }
    # or one of: drop = true, stall = true, malformed = true, quota = true

    [[at]]                            # over time: seconds after the session's first setupComplete
    t = 5.0
    action = "goaway"                 # goaway | close | drop | stall | malformed | quota
    time_left_s = 2                   # goaway: close 1008 when it runs out
    [[at]]
    t = 9.0
    action = "close"
    code = 1011
    reason = "Internal error encountered."

A toolResponse that does not contain `expect` closes the session with 1007.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from livecli.errors import UsageError
from livecli.protocol import close_reasons as cr
from livecli.protocol.close_reasons import CloseReason
from livecli.protocol.google_errors import error_body
from livecli.server.scenario_file import read_scenario_file

__all__ = [
    "BUILTIN",
    "CloseSpec",
    "Scenario",
    "TimedAction",
    "ToolCallSpec",
    "TurnSpec",
    "load_scenario",
]


@dataclass(frozen=True)
class CloseSpec:
    """Close the WebSocket with this code and reason."""

    code: int
    reason: str = ""

    @classmethod
    def of(cls, reason: CloseReason) -> CloseSpec:
        """Close with one of the service's reasons (docs/wire.md, "Close codes")."""
        return cls(reason.code, reason.format())


@dataclass(frozen=True)
class ToolCallSpec:
    """A function call the server makes before replying; `expect` must be contained in the response."""

    name: str | None = None
    args: dict[str, Any] | None = None
    expect: dict[str, Any] | None = None


@dataclass(frozen=True)
class TurnSpec:
    """How the server answers one user turn (all defaults: the echo reply)."""

    delay_ms: int = 0
    audio: bytes | None = None
    input_transcript: str | None = None
    output_transcript: str | None = None
    text: tuple[str, ...] = ()
    generation_complete_only: bool = False
    interrupt_after_ms: int | None = None
    silent: bool = False
    tool_call: ToolCallSpec | None = None
    close: CloseSpec | None = None
    drop: bool = False
    stall: bool = False
    malformed: bool = False
    quota: bool = False


@dataclass(frozen=True)
class TimedAction:
    """Something that happens `t` seconds after the session's first setupComplete (not re-armed on resumption)."""

    t: float
    action: str
    code: int = cr.INTERNAL_ERROR.code
    reason: str = cr.INTERNAL_ERROR.text
    time_left_s: float = 1.0


@dataclass(frozen=True)
class Scenario:
    """A named behaviour: per turn, over time, at setup and at upgrade."""

    name: str
    turns: tuple[TurnSpec, ...] = ()
    repeat_last_turn: bool = False
    at: tuple[TimedAction, ...] = ()
    setup_close: CloseSpec | None = None
    upgrade_status: int | None = None
    upgrade_body: str = ""
    stream_end_ignored: bool = False

    def turn(self, index: int) -> TurnSpec:
        """The spec for the session's scenario turn `index` (1-based; counted across resumptions)."""
        if index <= len(self.turns):
            return self.turns[index - 1]
        if self.repeat_last_turn and self.turns:
            return self.turns[-1]
        return TurnSpec()


BUILTIN: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("echo"),
        Scenario("close-1007", setup_close=CloseSpec.of(cr.INVALID_ARGUMENT)),
        Scenario("close-1008", turns=(TurnSpec(close=CloseSpec.of(cr.NOT_SUPPORTED)),)),
        Scenario("close-1011", turns=(TurnSpec(close=CloseSpec.of(cr.INTERNAL_ERROR)),)),
        Scenario("quota", turns=(TurnSpec(quota=True),), at=(TimedAction(1.0, "quota"),)),
        Scenario("drop", turns=(TurnSpec(drop=True),)),
        Scenario("stall", turns=(TurnSpec(stall=True),)),
        Scenario(
            "generation-complete-only", turns=(TurnSpec(generation_complete_only=True),), repeat_last_turn=True
        ),
        Scenario("goaway", at=(TimedAction(0.0, "goaway", time_left_s=1.0),)),
        Scenario("interrupt", turns=(TurnSpec(interrupt_after_ms=200),), repeat_last_turn=True),
        Scenario("tool-call", turns=(TurnSpec(tool_call=ToolCallSpec()),), repeat_last_turn=True),
        Scenario(
            "http-401",
            upgrade_status=401,
            upgrade_body=error_body(401, cr.API_KEY_INVALID.text, "UNAUTHENTICATED"),
        ),
        Scenario(
            "http-429",
            upgrade_status=429,
            upgrade_body=error_body(429, "Resource has been exhausted (e.g. check quota).", "RESOURCE_EXHAUSTED"),
        ),
        Scenario("malformed-frame", turns=(TurnSpec(malformed=True),)),
        Scenario("stream-end-ignored", stream_end_ignored=True),
        Scenario("silent", turns=(TurnSpec(silent=True),), repeat_last_turn=True),
    )
}


def load_scenario(name_or_path: str) -> Scenario:
    """A built-in scenario by name, or one read from a TOML/JSON file; UsageError when neither, or when the file
    holds anything a scenario cannot (livecli.server.scenario_file checks every key)."""
    if name_or_path in BUILTIN:
        return BUILTIN[name_or_path]
    path = Path(name_or_path)
    if not path.exists():
        known = ", ".join(BUILTIN)
        raise UsageError(f"unknown scenario {name_or_path!r}: not a file, nor one of {known}")
    data = read_scenario_file(path)
    return Scenario(
        name=data["name"],
        turns=tuple(_turn(turn) for turn in data["turns"]),
        repeat_last_turn=data["repeat_last_turn"],
        at=tuple(TimedAction(**timed) for timed in data["at"]),
        setup_close=CloseSpec(**data["setup_close"]) if "setup_close" in data else None,
        upgrade_status=data.get("upgrade_status"),
        upgrade_body=data["upgrade_body"],
        stream_end_ignored=data["stream_end_ignored"],
    )


def _turn(fields: dict[str, Any]) -> TurnSpec:
    call, close = fields.pop("tool_call", None), fields.pop("close", None)
    return TurnSpec(
        **fields,
        tool_call=ToolCallSpec(**call) if call is not None else None,
        close=CloseSpec(**close) if close is not None else None,
    )
