"""Every close the local server sends uses a reason of the table in livecli.protocol.close_reasons (so the client
has a hint for it), and the server's code spells no reason of its own."""

from __future__ import annotations

import ast
import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from session_harness import MODEL, NO_VAD, Harness

import livecli.server
from livecli.client.hints import HINTS
from livecli.protocol import close_reasons as cr
from livecli.server.config import ServerConfig
from livecli.server.gate import decide
from livecli.server.probe import GEMINI_PATH
from livecli.server.scenarios import BUILTIN, Scenario, ToolCallSpec, TurnSpec
from livecli.server.session import MAX_PENDING, Close

# The service's reasons the local server has no occasion to send.
NEVER_SENT_LOCALLY = {
    cr.GEO_BLOCKED,
    cr.API_KEY_EXPIRED,
    cr.RESOURCE_EXHAUSTED,
    cr.DEADLINE_EXCEEDED,
    cr.DEADLINE_EXPIRED,
}
SETUP = {"setup": {"model": MODEL, **NO_VAD}}


def _last_close(h: Harness) -> Close:
    closes = h.messages("Close")
    assert closes, f"no close; sent {h.kinds()}"
    close = closes[-1]
    assert isinstance(close, Close)
    return close


def _refused(*messages: dict[str, Any] | str, **limits: Any) -> Harness:
    h = Harness(**limits)
    for message in messages:
        h.send(message)
    return h


def _tool_mismatch() -> Harness:
    h = Harness(Scenario("t", turns=(TurnSpec(tool_call=ToolCallSpec(expect={"ok": True})),)), reply_speed=0)
    h.send(SETUP)
    h.send({"realtimeInput": {"text": "x"}})
    call_id = h.messages("toolCall")[0]["toolCall"]["functionCalls"][0]["id"]
    h.send({"toolResponse": {"functionResponses": [{"id": call_id, "response": {"ok": False}}]}})
    return h


def _overload() -> Harness:
    h = Harness(reply_speed=1.0)
    realtime = {"automaticActivityDetection": {"disabled": True}, "activityHandling": "NO_INTERRUPTION"}
    h.send({"setup": {"model": MODEL, "realtimeInputConfig": realtime}})
    for index in range(MAX_PENDING + 1):
        h.send({"realtimeInput": {"text": f"t{index}"}})
    return h


def _internal_error(monkeypatch: pytest.MonkeyPatch) -> Harness:
    import livecli.server.session as session_module

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("bug")

    h = Harness(reply_speed=0)
    h.send(SETUP)
    monkeypatch.setattr(session_module, "echo_reply", broken)
    h.send({"realtimeInput": {"text": "hi"}})
    return h


def _timed_out(**limits: Any) -> Harness:
    h = Harness(**limits)
    if "setup_timeout_s" not in limits:
        h.send({"setup": {"model": MODEL}})
    h.run_until(100)
    return h


def _scenario_turn(name: str) -> Harness:
    h = Harness(name, reply_speed=0)
    h.send(SETUP)
    h.send({"realtimeInput": {"text": "x"}})
    return h


def _setup_refused(name: str) -> Harness:
    h = Harness(name)
    h.send(SETUP)
    return h


PCM = base64.b64encode(bytes(640)).decode()
PATHS: dict[str, tuple[Callable[..., Harness], cr.CloseReason]] = {
    "not JSON": (lambda: _refused("{nope"), cr.NOT_JSON),
    "first message not setup": (lambda: _refused({"realtimeInput": {"text": "hi"}}), cr.INVALID_ARGUMENT),
    "unknown field": (
        lambda: _refused({"setup": {"model": MODEL, "generationConfig": {"bogus": 1}}}),
        cr.UNKNOWN_FIELD,
    ),
    "invalid value": (
        lambda: _refused({"setup": {"model": MODEL, "generationConfig": {"temperature": "hot"}}}),
        cr.INVALID_VALUE,
    ),
    "unknown voice": (
        lambda: _refused(
            {
                "setup": {
                    "model": MODEL,
                    "generationConfig": {
                        "speechConfig": {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Nobody"}}}
                    },
                }
            }
        ),
        cr.NO_VOICE,
    ),
    "text from a native-audio model": (
        lambda: _refused({"setup": {"model": MODEL, "generationConfig": {"responseModalities": ["TEXT"]}}}),
        cr.NON_AUDIO,
    ),
    "code execution": (
        lambda: _refused({"setup": {"model": MODEL, "tools": [{"codeExecution": {}}]}}),
        cr.NOT_SUPPORTED,
    ),
    "audio that is not PCM": (
        lambda: _refused(SETUP, {"realtimeInput": {"audio": {"data": PCM, "mimeType": "audio/wav"}}}),
        cr.UNSUPPORTED_AUDIO,
    ),
    "toolResponse against expect": (_tool_mismatch, cr.TOOL_RESPONSE_MISMATCH),
    "a video frame that is not an image": (
        lambda: _refused(SETUP, {"realtimeInput": {"video": {"data": PCM, "mimeType": "image/jpeg"}}}),
        cr.BAD_IMAGE,
    ),
    "toolResponse with an unknown id": (
        lambda: _refused(SETUP, {"toolResponse": {"functionResponses": [{"id": "never-sent", "response": {}}]}}),
        cr.TOOL_CALL_ID,
    ),
    "no setup in time": (lambda: _timed_out(setup_timeout_s=30.0), cr.SETUP_TIMEOUT),
    "connection lifetime": (lambda: _timed_out(max_connection_s=4.0), cr.LIFETIME_EXCEEDED),
    "session duration": (lambda: _timed_out(max_session_s=4.0), cr.SESSION_LIMIT),
    "too many queued replies": (_overload, cr.OVERLOADED),
    "quota scenario": (lambda: _scenario_turn("quota"), cr.QUOTA),
    "close-1007 scenario": (lambda: _setup_refused("close-1007"), cr.INVALID_ARGUMENT),
    "close-1008 scenario": (lambda: _scenario_turn("close-1008"), cr.NOT_SUPPORTED),
    "close-1011 scenario": (lambda: _scenario_turn("close-1011"), cr.INTERNAL_ERROR),
}


@pytest.mark.parametrize("path", PATHS)
def test_each_close_path_sends_a_reason_from_the_table(path: str) -> None:
    make, expected = PATHS[path]
    close = _last_close(make())
    assert cr.identify(close.reason) is expected
    assert close.code == expected.code
    assert expected in HINTS


def test_an_internal_error_closes_with_the_tables_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    close = _last_close(_internal_error(monkeypatch))
    assert close == Close(cr.INTERNAL_ERROR.code, cr.INTERNAL_ERROR.text)


def test_a_wrong_api_key_is_refused_with_the_tables_reason() -> None:
    config = ServerConfig(require_key="KEY")
    decision = decide(GEMINI_PATH, {"x-goog-api-key": "WRONG"}, config, BUILTIN["echo"])
    assert decision.scenario is not None
    close = decision.scenario.setup_close
    assert close is not None
    assert cr.identify(close.reason) is cr.API_KEY_INVALID
    assert close.code == cr.API_KEY_INVALID.code


def test_every_reason_the_server_can_send_has_a_close_path_here() -> None:
    """A reason added to the table for the server gets a path above (or joins NEVER_SENT_LOCALLY)."""
    covered = {reason for _, reason in PATHS.values()} | {cr.INTERNAL_ERROR, cr.API_KEY_INVALID}
    covered |= {cr.TOKEN_USED_UP, cr.TOKEN_NO_NEW_SESSIONS}  # their close paths: tests/server/test_tokens.py
    assert covered == set(cr.ALL) - NEVER_SENT_LOCALLY


def _reason_literals(tree: ast.AST) -> list[str]:
    """String literals passed as a close reason (to Refusal, Close, CloseSpec, close_now, ws.close)."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if name not in {"Refusal", "Close", "CloseSpec", "close_now", "close"}:
            continue
        for arg in [*node.args, *(keyword.value for keyword in node.keywords)]:
            if isinstance(arg, ast.Constant | ast.JoinedStr) and not isinstance(getattr(arg, "value", None), int):
                found.append(ast.unparse(arg))
    return found


def test_the_server_spells_no_close_reason_of_its_own() -> None:
    package = Path(livecli.server.__file__).parent
    literals = {
        path.name: _reason_literals(ast.parse(path.read_text(encoding="utf-8"))) for path in package.glob("*.py")
    }
    assert {name: found for name, found in literals.items() if found} == {}
