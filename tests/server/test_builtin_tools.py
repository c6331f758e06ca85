"""Built-in tools on the local server: accepted where the model table has them (else the service's 1008), and
answered with canned content as the API spells it (executableCode, codeExecutionResult, groundingMetadata,
urlContextMetadata)."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import LocalServer
from session_harness import MODEL, NO_VAD, Harness

from livecli.protocol import close_reasons as cr
from livecli.protocol.models import BUILTIN_TOOLS, MODELS
from livecli.server.probe import Probe
from livecli.server.session import Close

MODEL_25 = "models/gemini-2.5-flash-native-audio-preview-12-2025"
ALL_BUILTIN = [{name: {}} for name in BUILTIN_TOOLS]


def text_turn(model: str, tools: list[dict[str, Any]], text: str) -> Harness:
    h = Harness(reply_speed=0)
    h.send({"setup": {"model": model, "tools": tools, **NO_VAD}})
    h.send({"realtimeInput": {"text": text}})
    return h


def test_each_builtin_tool_answers_with_its_canned_content_in_the_reply() -> None:
    h = text_turn(MODEL_25, ALL_BUILTIN, "summarise https://example.org/page")
    kinds = h.kinds()
    assert kinds[kinds.index("inputTranscription") + 1 : kinds.index("inputTranscription") + 3] == [
        "executableCode",
        "codeExecutionResult",
    ]
    assert kinds[-4:] == ["groundingMetadata", "urlContextMetadata", "generationComplete", "turnComplete"]
    (code,) = h.messages("executableCode")
    assert code["serverContent"]["modelTurn"]["parts"][0]["executableCode"]["language"] == "PYTHON"
    (grounding,) = h.messages("groundingMetadata")
    queries = grounding["serverContent"]["groundingMetadata"]["webSearchQueries"]
    assert queries == ["summarise https://example.org/page"]
    (urls,) = h.messages("urlContextMetadata")
    retrieved = urls["serverContent"]["urlContextMetadata"]["urlMetadata"][0]
    assert retrieved["retrievedUrl"] == "https://example.org/page"
    assert h.transcripts() == ['turn 1: heard "summarise https://example.org/page"']


def test_without_builtin_tools_the_reply_has_none_of_that() -> None:
    h = text_turn(MODEL_25, [], "summarise https://example.org/page")
    assert not {"executableCode", "groundingMetadata", "urlContextMetadata"} & set(h.kinds())


@pytest.mark.parametrize(
    ("model", "tool"),
    [(model, tool) for model, info in MODELS.items() for tool in BUILTIN_TOOLS],
)
def test_a_builtin_tool_is_accepted_exactly_where_the_model_table_has_it(model: str, tool: str) -> None:
    h = Harness(reply_speed=0)
    h.send({"setup": {"model": f"models/{model}", "tools": [{tool: {}}]}})
    if tool in MODELS[model].builtin_tools:
        assert h.kinds()[0] == "setupComplete"
    else:
        (close,) = h.messages("Close")
        assert isinstance(close, Close)
        assert (close.code, cr.identify(close.reason)) == (1008, cr.NOT_SUPPORTED)


def test_search_is_accepted_on_the_default_model_and_code_execution_is_not() -> None:
    assert "setupComplete" in text_turn(MODEL, [{"googleSearch": {}}], "hi").kinds()
    refused = text_turn(MODEL, [{"codeExecution": {}}], "hi")
    assert "setupComplete" not in refused.kinds()


async def test_a_raw_client_sees_the_grounding_of_a_search(live_server: LocalServer) -> None:
    probe = await Probe.open(live_server.url)
    await probe.setup(tools=[{"googleSearch": {}}], **NO_VAD)
    await probe.send({"realtimeInput": {"text": "who won"}})
    turn = await probe.turn()
    grounding = [m["serverContent"]["groundingMetadata"] for m in turn.messages if "groundingMetadata" in str(m)]
    assert grounding[0]["webSearchQueries"] == ["who won"]
    assert grounding[0]["groundingChunks"][0]["web"]["uri"].startswith("https://")
    await probe.close()
