"""The local server's tool model: which declared functions a turn names, and arguments that fit their schema."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livecli.server.tool_model import (
    builtin_results,
    declarations,
    generate_args,
    is_non_blocking,
    named_functions,
)

NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
SCALARS = st.sampled_from(["STRING", "INTEGER", "NUMBER", "BOOLEAN"])


@st.composite
def scalar_schema(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(SCALARS)
    schema: dict[str, Any] = {"type": draw(st.sampled_from([kind, kind.lower()]))}
    if kind == "STRING" and draw(st.booleans()):
        schema["enum"] = draw(st.lists(st.text(min_size=1, max_size=5), min_size=1, max_size=4, unique=True))
    if kind in ("INTEGER", "NUMBER") and draw(st.booleans()):
        low = draw(st.integers(-50, 50))
        schema["minimum"] = low
        schema["maximum"] = low + draw(st.integers(0, 20))
    if kind == "STRING" and draw(st.booleans()):
        schema["format"] = draw(st.sampled_from(["date-time", "date", "email"]))
    return schema


def schemas() -> st.SearchStrategy[dict[str, Any]]:
    def extend(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
        objects = st.dictionaries(NAMES, children, max_size=4).flatmap(
            lambda props: st.builds(
                lambda required: {"type": "OBJECT", "properties": props, "required": required},
                st.lists(st.sampled_from(sorted(props)), unique=True) if props else st.just([]),
            )
        )
        arrays = st.builds(
            lambda items, low: {"type": "ARRAY", "items": items, "minItems": low}, children, st.integers(0, 3)
        )
        return objects | arrays

    return st.recursive(scalar_schema(), extend, max_leaves=12)


def conforms(value: Any, schema: dict[str, Any]) -> bool:
    """Whether `value` fits `schema` (the OpenAPI subset the declarations use)."""
    kind = str(schema.get("type", "STRING")).upper()
    if "enum" in schema and value not in schema["enum"]:
        return False
    if kind == "OBJECT":
        props = schema.get("properties", {})
        return (
            isinstance(value, dict)
            and all(name in value for name in schema.get("required", []))
            and all(name in props and conforms(item, props[name]) for name, item in value.items())
        )
    if kind == "ARRAY":
        return (
            isinstance(value, list)
            and len(value) >= min(schema.get("minItems", 0), 3)
            and all(conforms(item, schema["items"]) for item in value)
        )
    if kind == "BOOLEAN":
        return isinstance(value, bool)
    if kind in ("INTEGER", "NUMBER"):
        number_types: tuple[type, ...] = (int,) if kind == "INTEGER" else (float,)
        low, high = schema.get("minimum", float("-inf")), schema.get("maximum", float("inf"))
        return isinstance(value, number_types) and not isinstance(value, bool) and low <= value <= high
    return isinstance(value, str)


@settings(max_examples=60)
@given(st.dictionaries(NAMES, schemas(), min_size=1, max_size=5), st.data(), st.text(max_size=30))
def test_generated_arguments_fit_any_declared_schema(
    properties: dict[str, Any], data: st.DataObject, text: str
) -> None:
    required = data.draw(st.lists(st.sampled_from(sorted(properties)), unique=True))
    parameters = {"type": "OBJECT", "properties": properties, "required": required}
    args = generate_args({"name": "f", "parameters": parameters}, text)
    assert conforms(args, parameters)
    assert set(required) <= set(args)


def test_every_required_field_of_nested_objects_and_arrays_is_filled() -> None:
    parameters = {
        "type": "OBJECT",
        "properties": {
            "city": {"type": "STRING"},
            "unit": {"type": "STRING", "enum": ["celsius", "fahrenheit"]},
            "days": {"type": "INTEGER", "minimum": 3},
            "where": {
                "type": "OBJECT",
                "properties": {
                    "lat": {"type": "NUMBER"},
                    "exact": {"type": "BOOLEAN"},
                    "note": {"type": "STRING"},
                },
                "required": ["lat", "exact"],
            },
            "tags": {"type": "ARRAY", "items": {"type": "STRING", "enum": ["a", "b"]}, "minItems": 2},
            "optional": {"type": "STRING"},
        },
        "required": ["city", "unit", "days", "where", "tags"],
    }
    args = generate_args({"name": "get_weather", "parameters": parameters}, "weather in Paris")
    assert args == {
        "city": "weather in Paris",
        "unit": "celsius",
        "days": 3,
        "where": {"lat": 1.5, "exact": True},
        "tags": ["a", "a"],
    }


def test_key_value_pairs_in_the_text_set_top_level_arguments_of_their_type() -> None:
    parameters = {
        "type": "OBJECT",
        "properties": {
            "city": {"type": "STRING"},
            "days": {"type": "INTEGER"},
            "unit": {"type": "STRING", "enum": ["C", "F"]},
            "exact": {"type": "BOOLEAN"},
        },
        "required": ["city", "days", "unit"],
    }
    text = 'call get_weather city="New York" days=5 unit=K exact=false other=1'
    args = generate_args({"name": "get_weather", "parameters": parameters}, text)
    assert args == {"city": "New York", "days": 5, "unit": "C", "exact": False}


def test_json_schema_declarations_and_none_at_all() -> None:
    json_schema = {
        "type": "object",
        "properties": {"n": {"type": ["integer", "null"]}, "xs": {"type": "array", "items": {"type": "number"}}},
        "required": ["n", "xs"],
    }
    assert generate_args({"name": "f", "parametersJsonSchema": json_schema}, "") == {"n": 1, "xs": [1.5]}
    assert generate_args({"name": "f"}, "anything") == {}


def test_a_self_similar_schema_stops_at_the_depth_limit() -> None:
    node: dict[str, Any] = {"type": "OBJECT", "properties": {}, "required": ["child"]}
    schema = node
    for _ in range(20):
        child: dict[str, Any] = {"type": "OBJECT", "properties": {}, "required": ["child"]}
        node["properties"]["child"] = child
        node = child
    args = generate_args({"name": "f", "parameters": schema}, "")
    depth = 0
    while args:
        args = args["child"]
        depth += 1
    assert depth == 8


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("please call get_weather for Paris", ["get_weather"]),
        ("get_weather_now is another function", []),
        ("my_get_weather is not it either", []),
        ("Get_Weather in another case", []),
        ("first lookup, then get_weather", ["lookup", "get_weather"]),
        ("get_weather(city) and lookup.", ["get_weather", "lookup"]),
    ],
)
def test_a_function_is_named_by_its_exact_name_as_a_whole_word(text: str, found: list[str]) -> None:
    assert named_functions([text], ["get_weather", "lookup"]) == found


def test_names_in_several_texts_and_none() -> None:
    assert named_functions([None, "", "run lookup"], ["lookup"]) == ["lookup"]
    assert named_functions(["nothing here"], []) == []


def test_declarations_by_name_and_their_behavior() -> None:
    tools = [
        {"googleSearch": {}},
        {"functionDeclarations": [{"name": "a", "behavior": "NON_BLOCKING"}, {"name": "b"}]},
        {"functionDeclarations": [{"name": "a", "description": "a second a"}]},
    ]
    found = declarations(tools)
    assert list(found) == ["a", "b"]
    assert is_non_blocking(found["a"])
    assert not is_non_blocking(found["b"])
    assert not is_non_blocking(None)


def test_builtin_tools_answer_with_canned_parts_and_metadata() -> None:
    tools = [{"codeExecution": {}}, {"googleSearch": {}}, {"urlContext": {}}]
    parts, metadata = builtin_results(tools, "read https://example.org/a and https://example.org/a twice")
    assert [next(iter(part)) for part in parts] == ["executableCode", "codeExecutionResult"]
    assert parts[0]["executableCode"]["language"] == "PYTHON"
    assert parts[1]["codeExecutionResult"]["outcome"] == "OUTCOME_OK"
    assert [next(iter(fields)) for fields in metadata] == ["groundingMetadata", "urlContextMetadata"]
    urls = metadata[1]["urlContextMetadata"]["urlMetadata"]
    assert urls == [
        {"retrievedUrl": "https://example.org/a", "urlRetrievalStatus": "URL_RETRIEVAL_STATUS_SUCCESS"}
    ]


def test_no_builtin_tools_no_canned_results() -> None:
    assert builtin_results([{"functionDeclarations": []}], "https://example.org") == ([], [])
    assert builtin_results([{"urlContext": {}}], "no address here") == ([], [])
