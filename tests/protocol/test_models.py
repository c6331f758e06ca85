"""The model table shared by client and server."""

from __future__ import annotations

from livecli.protocol.models import DEFAULT_MODEL, MODELS, VOICES, Thinking, bare_model_id, lookup


def test_default_model_is_audio_only_without_thinking() -> None:
    """gemini-3.8-live answers in AUDIO only and refuses thinkingConfig (docs/wire.md, "Models")."""
    info = MODELS[DEFAULT_MODEL]
    assert info.modalities == {"AUDIO"}
    assert info.thinking is Thinking.NONE


def test_lookup_accepts_every_wire_form() -> None:
    """models/x, publishers/google/models/x and full Vertex names find the same entry."""
    for name in (
        "gemini-3.8-live",
        "models/gemini-3.8-live",
        "publishers/google/models/gemini-3.8-live",
        "projects/p/locations/us-central1/publishers/google/models/gemini-3.8-live",
    ):
        assert lookup(name) is MODELS["gemini-3.8-live"]
    assert lookup("models/unknown-model") is None
    assert bare_model_id("models/x") == "x"


def test_thirty_prebuilt_voices() -> None:
    """docs/wire.md, "Models", lists 30 voices."""
    assert len(VOICES) == 30
    assert "Kore" in VOICES
