"""The server tests' shared setup fragments stay as defined whatever a test does with its copy: a test that edited
the shared NO_VAD made later barge-in tests fail, depending on the order the tests ran in."""

from __future__ import annotations

from session_harness import MODEL, NO_VAD


def test_editing_a_setup_built_from_no_vad_leaves_no_vad_unchanged() -> None:
    setup = {"setup": {"model": MODEL, **NO_VAD}}
    setup["setup"]["realtimeInputConfig"]["activityHandling"] = "NO_INTERRUPTION"
    assert dict(NO_VAD) == {"realtimeInputConfig": {"automaticActivityDetection": {"disabled": True}}}


def test_each_use_of_no_vad_gets_its_own_nested_dicts() -> None:
    assert {**NO_VAD}["realtimeInputConfig"] is not {**NO_VAD}["realtimeInputConfig"]
