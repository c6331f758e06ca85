"""--tools FILE.json: the accepted shapes, normalisation, and one clear line for what the API would refuse."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from livecli.errors import UsageError
from livecli.tools.api_schema import SchemaError, check_declaration, check_schema
from livecli.tools.declarations import read_declarations

WEATHER = {
    "name": "get_weather",
    "description": "Weather for a city",
    "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}, "required": ["city"]},
}


def written(tmp_path: Path, data: Any) -> str:
    path = tmp_path / "decls.json"
    path.write_text(json.dumps(data))
    return str(path)


@pytest.mark.parametrize(
    "shape",
    [
        [WEATHER],
        [{"functionDeclarations": [WEATHER]}],
        {"tools": [{"function_declarations": [WEATHER]}]},
        {"functionDeclarations": [WEATHER]},
        WEATHER,
    ],
)
def test_declarations_or_a_whole_tools_list(tmp_path: Path, shape: Any) -> None:
    assert read_declarations(written(tmp_path, shape)) == [WEATHER]


def test_snake_case_keys_lowercase_types_and_behavior_are_normalised(tmp_path: Path) -> None:
    decl = {
        "name": "lookup",
        "behavior": "non_blocking",
        "parameters": {
            "type": "object",
            "properties": {"tags": {"type": "array", "items": {"type": "string"}, "max_items": "3"}},
        },
    }
    [read] = read_declarations(written(tmp_path, [decl]))
    assert read["behavior"] == "NON_BLOCKING"
    assert read["parameters"] == {
        "type": "OBJECT",
        "properties": {"tags": {"type": "ARRAY", "items": {"type": "STRING"}, "maxItems": 3}},
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([{"description": "x"}], "[0]: a function declaration needs a name"),
        ([{"name": "has space"}], "[0].name: 'has space' is not a function name"),
        ([{"name": "f", "parameters": {"type": "MAP"}}], "[0].parameters.type: must be one of STRING"),
        (
            [{"name": "f", "parameters": {"type": "OBJECT"}}],
            "[0].parameters: an OBJECT needs at least one property",
        ),
        ([{"name": "f", "parameters": {"type": "ARRAY"}}], "[0].parameters: an ARRAY needs items"),
        (
            [
                {
                    "name": "f",
                    "parameters": {"type": "OBJECT", "properties": {"a": {"type": "STRING"}}, "required": ["b"]},
                }
            ],
            "[0].parameters.required: 'b' is not one of its properties",
        ),
        (
            [
                {
                    "name": "f",
                    "parameters": {"type": "OBJECT", "properties": {"a": {"type": "STRING", "$ref": "#"}}},
                }
            ],
            "[0].parameters.properties.a.$ref: not a field of the API's schema",
        ),
        ([{"name": "f", "parameters": {"type": "INTEGER", "enum": ["1"]}}], "enum values on STRING only"),
        ([{"name": "f", "behavior": "SOMETIMES"}], "[0].behavior: must be one of BLOCKING, NON_BLOCKING"),
        ([{"name": "f", "strict": True}], "[0].strict: not a field of a function declaration"),
        ([{"googleSearch": {}}], "built-in tools have their own options: --google-search"),
        ([], "declares no function"),
        ("just text", "expected a list of function declarations"),
    ],
)
def test_what_the_api_would_refuse_is_one_line_naming_the_field(tmp_path: Path, data: Any, message: str) -> None:
    path = written(tmp_path, data)
    with pytest.raises(UsageError, match=re.escape(message)) as caught:
        read_declarations(path)
    assert str(caught.value).startswith(f"--tools {path}: ")
    assert "\n" not in str(caught.value)


def test_a_missing_or_broken_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="No such file"):
        read_declarations(str(tmp_path / "absent.json"))
    broken = tmp_path / "broken.json"
    broken.write_text("[{")
    with pytest.raises(UsageError, match="not JSON"):
        read_declarations(str(broken))


def test_a_schema_nested_past_the_limit_is_refused_not_walked() -> None:
    schema: dict[str, Any] = {"type": "STRING"}
    for _ in range(200):
        schema = {"type": "ARRAY", "items": schema}
    with pytest.raises(SchemaError, match="nested more than"):
        check_schema(schema)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)


@given(JSON)
def test_any_json_is_accepted_normalised_or_refused_with_a_schema_error(data: Any) -> None:
    """The validator never fails with anything but SchemaError, and what it accepts it accepts again as is."""
    try:
        checked = check_declaration(data)
    except SchemaError:
        return
    assert check_declaration(checked) == checked
