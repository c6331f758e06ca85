"""The recording format's pure parts: payloads out and back (any message), sidecar names, kinds, the target without
secrets; and what replay compares (turns from server frames, differences)."""

from __future__ import annotations

import base64
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from livecli.protocol.recording import (
    Sidecar,
    externalize,
    frame_kind,
    internalize,
    public_target,
    sidecar_for,
)
from livecli.protocol.replay_diff import MIN_TOLERANCE_S, TurnSummary, compare, summarize_turns

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=12,
)
_blob = st.builds(
    lambda data, mime: {"data": base64.b64encode(data).decode(), "mimeType": mime},
    st.binary(max_size=64),
    st.sampled_from(["audio/pcm;rate=16000", "audio/pcm", "image/jpeg", "application/octet-stream"]),
)


class Store:
    """An in-memory sidecar store: what `place` put, `read` gives back."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def place(self, sender: str, mime: str, data: bytes) -> dict[str, Any]:
        name = sidecar_for(sender, mime, len(self.files)).name
        offset = len(self.files.get(name, b""))
        self.files[name] = self.files.get(name, b"") + data
        return {"sidecar": name, "offset": offset, "bytes": len(data)}

    def read(self, ref: dict[str, Any]) -> bytes:
        return self.files[ref["sidecar"]][ref["offset"] : ref["offset"] + ref["bytes"]]


@given(st.dictionaries(st.text(max_size=6), _json | _blob | st.lists(_blob, max_size=3), max_size=4))
def test_any_message_comes_back_as_it_was(message: dict[str, Any]) -> None:
    store = Store()
    stored = externalize(message, "client", store.place)
    assert internalize(stored, store.read) == message


@given(_blob)
def test_a_blob_leaves_no_base64_behind(blob: dict[str, Any]) -> None:
    store = Store()
    stored = externalize({"realtimeInput": {"audio": blob}}, "client", store.place)
    ref = stored["realtimeInput"]["audio"]["data"]
    assert set(ref) == {"sidecar", "offset", "bytes"}
    assert ref["bytes"] == len(base64.b64decode(blob["data"]))


def test_data_that_is_not_base64_stays() -> None:
    message = {"x": {"data": "not base64!", "mimeType": "text/plain"}}
    assert externalize(message, "server", Store().place) == message


def test_sidecar_names() -> None:
    assert sidecar_for("client", "audio/pcm;rate=16000", 0) == Sidecar("input.wav", 16000)
    assert sidecar_for("server", "audio/pcm", 0) == Sidecar("reply.wav", 24000)
    assert sidecar_for("server", "audio/pcm;rate=16000", 0) == Sidecar("reply-16000.wav", 16000)
    assert sidecar_for("client", "image/jpeg", 2) == Sidecar("media/client-00003.jpg", None)


def test_kinds() -> None:
    assert frame_kind({"setupComplete": {}}) == "setupComplete"
    assert frame_kind({"serverContent": {"turnComplete": True}}) == "serverContent.turnComplete"
    assert frame_kind([1]) == "malformed"


def test_the_target_keeps_no_secret() -> None:
    key = "AIzaSECRETSECRETSECRET"
    shown = public_target(
        f"wss://h/ws?key={key}",
        {"x-goog-api-key": key, "Authorization": "Bearer tok"},
        "models/m",
        "gemini",
        [key],
    )
    assert key not in json.dumps(shown)
    assert "tok" not in json.dumps(shown)
    assert shown["headers"] == {"x-goog-api-key": "***", "Authorization": "***"}


def _frames(*messages: dict[str, Any]) -> list[str]:
    return [json.dumps(message) for message in messages]


def _audio(seconds: float) -> dict[str, Any]:
    pcm = bytes(int(seconds * 24000) * 2)
    part = {"inlineData": {"data": base64.b64encode(pcm).decode(), "mimeType": "audio/pcm;rate=24000"}}
    return {"serverContent": {"modelTurn": {"parts": [part]}}}


def test_turns_from_server_frames() -> None:
    turns = summarize_turns(
        _frames(
            {"setupComplete": {}},
            {"serverContent": {"inputTranscription": {"text": "hi"}}},
            _audio(0.5),
            {"serverContent": {"outputTranscription": {"text": "hello"}}},
            {"serverContent": {"turnComplete": True}},
            {"toolCall": {"functionCalls": [{"id": "1", "name": "f", "args": {}}]}},
        )
    )
    assert len(turns) == 2
    assert turns[0].input_transcript == "hi"
    assert turns[0].output_transcript == "hello"
    assert abs(turns[0].reply_s - 0.5) < 1e-9
    assert turns[0].complete
    assert turns[1].tool_calls == ["f"]
    assert not turns[1].complete


def test_compare_folds_case_and_whitespace_and_allows_the_tolerance() -> None:
    old = [TurnSummary(output_transcript="Hello  there", reply_s=2.0)]
    same = [TurnSummary(output_transcript="hello there", reply_s=2.4)]
    assert compare(old, same, tolerance=0.25) == []
    longer = [TurnSummary(output_transcript="hello there", reply_s=2.6)]
    assert [d["what"] for d in compare(old, longer, tolerance=0.25)] == ["reply_s"]


def test_compare_never_tells_apart_durations_closer_than_the_floor() -> None:
    old = [TurnSummary(reply_s=0.0)]
    assert compare(old, [TurnSummary(reply_s=MIN_TOLERANCE_S / 2)], tolerance=0.0) == []


def test_compare_names_a_missing_turn_and_each_field() -> None:
    old = [TurnSummary(text="a"), TurnSummary(text="b")]
    new = [TurnSummary(text="c")]
    found = compare(old, new, tolerance=0.25)
    assert found[0] == {"what": "turns", "recorded": 2, "replayed": 1}
    assert found[1] == {"what": "text", "turn": 1, "recorded": "a", "replayed": "c"}
