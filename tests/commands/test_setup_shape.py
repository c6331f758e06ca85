"""A --setup FILE whose fields have the wrong type for a field the schema knows is one line naming the file and
the field, exit 2, before anything reads the setup (it was an internal error, exit 1, from the preflight); fields
the schema does not know still go as written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers import run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from livecli.auth.target import ConnectOptions
from livecli.commands.request import RunRequest, build_setup
from livecli.commands.session_setup import SessionOptions
from livecli.errors import UsageError
from livecli.protocol import close_reasons as cr
from livecli.protocol.models import MODELS
from livecli.server.schema import CLIENT_MESSAGE, Repeated, Spec
from livecli.server.validate import Refusal, parse_client_frame

MODEL = "gemini-3.8-live"

# (the file's content, the field path the line names, what it says)
WRONG_SHAPES = [
    ({"generationConfig": [1]}, "generationConfig", "must be an object, not [1]"),
    ({"tools": [5]}, "tools[0]", "must be an object, not 5"),
    ({"realtimeInputConfig": 3}, "realtimeInputConfig", "must be an object"),
    (
        {"realtimeInputConfig": {"automaticActivityDetection": "x"}},
        "realtimeInputConfig.automaticActivityDetection",
        'must be an object, not "x"',
    ),
    ({"proactivity": 1}, "proactivity", "must be an object"),
    ({"historyConfig": []}, "historyConfig", "must be an object, not []"),
    ({"generationConfig": {"speechConfig": 1}}, "generationConfig.speechConfig", "must be an object"),
    ({"tools": {"x": 1}}, "tools", "must be a list"),
    ({"generationConfig": {"temperature": "hot"}}, "generationConfig.temperature", "must be a number"),
    ({"generationConfig": {"mediaResolution": 3}}, "generationConfig.mediaResolution", "must be one of"),
]


def _request(path: Path, **session: Any) -> RunRequest:
    return RunRequest(
        connect=ConnectOptions(), prompt="hi", session=SessionOptions(setup_file=str(path), **session)
    )


@pytest.mark.parametrize(("fields", "field", "says"), WRONG_SHAPES)
@pytest.mark.parametrize("preflight", [True, False])
def test_a_wrong_shape_is_one_usage_line_naming_file_and_field(
    tmp_path: Path, fields: dict[str, Any], field: str, says: str, preflight: bool
) -> None:
    path = tmp_path / "setup.json"
    path.write_text(json.dumps(fields))
    with pytest.raises(UsageError) as refused:
        build_setup(_request(path, preflight=preflight), MODEL)
    assert str(refused.value).startswith(f"--setup {path}: {field} ")
    assert says in str(refused.value)


def test_the_command_exits_2_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "setup.json"
    path.write_text('{"generationConfig": [1]}')
    result = run_cli("text", "hi", "--local", "--setup", str(path), expect=2)
    assert result.stderr == f"livecli: error: --setup {path}: generationConfig must be an object, not [1]\n"


def test_fields_the_schema_does_not_know_still_go_as_written(tmp_path: Path) -> None:
    path = tmp_path / "setup.json"
    path.write_text('{"futureField": [1], "generationConfig": {"futureKnob": {"a": 1}}}')
    setup = build_setup(_request(path), MODEL)
    assert setup.extra == {"futureField": [1], "generationConfig": {"futureKnob": {"a": 1}}}


def test_the_local_server_refuses_a_media_resolution_number_as_the_service_does() -> None:
    frame = {"setup": {"model": MODEL, "generationConfig": {"mediaResolution": 3}}}
    with pytest.raises(Refusal) as refused:
        parse_client_frame(json.dumps(frame))
    assert refused.value.code == 1007
    assert refused.value.reason.startswith(cr.INVALID_VALUE.needle)
    assert "media_resolution" in refused.value.reason


def test_the_local_server_takes_a_media_resolution_name() -> None:
    frame = {"setup": {"model": MODEL, "generationConfig": {"mediaResolution": "MEDIA_RESOLUTION_HIGH"}}}
    _, body = parse_client_frame(json.dumps(frame))
    assert body["generationConfig"]["mediaResolution"] == "MEDIA_RESOLUTION_HIGH"


def _names(spec: Spec, into: set[str]) -> set[str]:
    """Every field name the setup's schema knows, so random files reach its inner fields."""
    if isinstance(spec, Repeated):
        _names(spec.item, into)
    elif isinstance(spec, dict):
        for name, inner in spec.items():
            into.add(name)
            _names(inner, into)
    return into


KEYS = st.sampled_from(sorted(_names(CLIENT_MESSAGE["setup"], set()) - {"model"})) | st.text(max_size=4)
SCALARS = st.none() | st.booleans() | st.integers(-5, 5) | st.floats(allow_nan=False, allow_infinity=False)
JSON = st.recursive(
    SCALARS | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fields=st.dictionaries(KEYS, JSON, max_size=5), model=st.sampled_from(sorted(MODELS)))
def test_any_json_setup_is_taken_or_refused_in_one_line(
    tmp_path: Path, fields: dict[str, Any], model: str
) -> None:
    """Never an internal error: the file is taken, or refused with a UsageError (exit 2)."""
    path = tmp_path / "setup.json"
    path.write_text(json.dumps(fields))
    try:
        build_setup(_request(path), model)
    except UsageError as refused:
        assert "\n" not in str(refused)
