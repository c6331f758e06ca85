"""JSON Schema (an MCP tool's inputSchema) → the API's schema subset: each construct, and what cannot be said."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from livecli.tools.api_schema import check_schema
from livecli.tools.json_schema import SchemaNotConvertible, input_schema_to_api


def _params(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties}


def _converted_property(schema: dict[str, Any], **document: Any) -> dict[str, Any]:
    """What property `p` (whose schema is `schema`) becomes."""
    converted = input_schema_to_api({**_params(p=schema), **document})
    assert converted is not None
    result: dict[str, Any] = converted["properties"]["p"]
    return result


def _refusal(schema: dict[str, Any]) -> SchemaNotConvertible:
    with pytest.raises(SchemaNotConvertible) as caught:
        input_schema_to_api(schema)
    return caught.value


@pytest.mark.parametrize(
    ("json_type", "api_type"),
    [("string", "STRING"), ("integer", "INTEGER"), ("number", "NUMBER"), ("boolean", "BOOLEAN")],
)
def test_scalar_types_become_uppercase(json_type: str, api_type: str) -> None:
    assert _converted_property({"type": json_type}) == {"type": api_type}


def test_an_object_keeps_properties_and_the_required_ones_it_has() -> None:
    converted = input_schema_to_api(
        {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a", "ghost"]}
    )
    assert converted == {"type": "OBJECT", "properties": {"a": {"type": "INTEGER"}}, "required": ["a"]}


def test_a_tool_without_parameters_declares_none() -> None:
    assert input_schema_to_api({"type": "object", "properties": {}}) is None
    assert input_schema_to_api({"type": "object"}) is None


def test_annotations_are_dropped_descriptions_and_bounds_kept() -> None:
    schema = {
        "type": "integer",
        "title": "N",
        "default": 3,
        "description": "how many",
        "minimum": 1,
        "format": "x",
    }
    assert _converted_property(schema) == {"type": "INTEGER", "description": "how many", "minimum": 1}


def test_array_items_are_converted() -> None:
    converted = _converted_property({"type": "array", "items": {"type": "string"}, "maxItems": 4})
    assert converted == {"type": "ARRAY", "items": {"type": "STRING"}, "maxItems": 4}


def test_string_enum_stays_an_enum_and_a_type_is_inferred() -> None:
    assert _converted_property({"enum": ["c", "f"]}) == {"type": "STRING", "enum": ["c", "f"]}
    assert _converted_property({"const": "only"}) == {"type": "STRING", "enum": ["only"]}


def test_a_number_enum_is_named_in_the_description() -> None:
    converted = _converted_property({"type": "integer", "enum": [1, 2], "description": "level"})
    assert converted == {"type": "INTEGER", "description": "level One of: 1, 2."}


@pytest.mark.parametrize(
    "schema",
    [
        {"anyOf": [{"type": "string"}, {"type": "null"}]},
        {"oneOf": [{"type": "null"}, {"type": "string"}]},
        {"type": ["string", "null"]},
        {"type": "string", "enum": ["a", None]},
    ],
)
def test_null_as_an_alternative_becomes_nullable(schema: dict[str, Any]) -> None:
    converted = _converted_property(schema)
    assert converted["type"] == "STRING"
    assert converted["nullable"] is True


def test_several_anyof_branches_stay_anyof() -> None:
    converted = _converted_property({"anyOf": [{"type": "string"}, {"type": "integer"}]})
    assert converted == {"anyOf": [{"type": "STRING"}, {"type": "INTEGER"}]}


def test_a_one_branch_allof_is_that_branch() -> None:
    assert _converted_property({"allOf": [{"type": "boolean"}], "description": "d"}) == {
        "type": "BOOLEAN",
        "description": "d",
    }


def test_local_refs_are_inlined_and_the_referring_description_wins() -> None:
    defs = {"$defs": {"Point": {"type": "object", "properties": {"x": {"type": "number"}}, "description": "P"}}}
    converted = _converted_property({"$ref": "#/$defs/Point", "description": "where"}, **defs)
    assert converted == {"type": "OBJECT", "properties": {"x": {"type": "NUMBER"}}, "description": "where"}


def test_a_ref_used_twice_is_not_taken_for_recursion() -> None:
    document = {
        **_params(a={"$ref": "#/definitions/N"}, b={"$ref": "#/definitions/N"}),
        "definitions": {"N": {"type": "integer"}},
    }
    converted = input_schema_to_api(document)
    assert converted is not None
    assert converted["properties"]["b"] == {"type": "INTEGER"}


@pytest.mark.parametrize(
    ("schema", "pointer", "words"),
    [
        (
            _params(
                p={"oneOf": [{"type": "object", "properties": {"a": {"type": "string"}}}, {"type": "integer"}]}
            ),
            "/properties/p/oneOf",
            "oneOf",
        ),
        (
            _params(p={"type": "object", "patternProperties": {"^x": {"type": "string"}}}),
            "/properties/p/patternProperties",
            "patternProperties",
        ),
        (_params(p={"type": "object", "additionalProperties": {"type": "string"}}), "/properties/p", "map"),
        (_params(p={"type": "array"}), "/properties/p", "items"),
        (_params(p={"type": "array", "prefixItems": [{"type": "string"}]}), "/properties/p/prefixItems", "prefix"),
        (_params(p={}), "/properties/p", "any type"),
        (_params(p={"type": ["string", "integer"]}), "/properties/p/type", "union"),
        (_params(p={"type": "null"}), "/properties/p/type", "null"),
        (_params(p={"$ref": "https://example.com/s.json"}), "/properties/p/$ref", "local"),
        (_params(p={"$ref": "#/$defs/Missing"}), "/properties/p/$ref", "nowhere"),
        (_params(**{"user-id": {"type": "string"}}), "/properties/user-id", "property name"),
        (_params(**{"a/b": {"type": "string"}}), "/properties/a~1b", "property name"),
        ({"type": "string"}, "", "object"),
    ],
)
def test_what_cannot_be_said_is_refused_with_its_pointer(schema: dict[str, Any], pointer: str, words: str) -> None:
    refusal = _refusal(schema)
    assert refusal.pointer == pointer
    assert words in refusal.reason
    assert str(refusal).endswith(f"at {pointer or '/'}")


def test_a_recursive_ref_is_refused_where_it_recurs() -> None:
    node = {"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}}}
    refusal = _refusal({**_params(root={"$ref": "#/$defs/Node"}), "$defs": {"Node": node}})
    assert refusal.pointer == "/$defs/Node/properties/children/items/$ref"
    assert "recursive" in refusal.reason


_MAP = {"type": "object", "additionalProperties": {"type": "string"}}


def test_an_optional_property_that_cannot_be_said_can_be_left_out() -> None:
    refusals: list[SchemaNotConvertible] = []
    schema = {**_params(q={"type": "string"}, filters=_MAP), "required": ["q"]}
    converted = input_schema_to_api(schema, left_out=refusals.append)
    assert converted == {"type": "OBJECT", "properties": {"q": {"type": "STRING"}}, "required": ["q"]}
    assert [refusal.pointer for refusal in refusals] == ["/properties/filters"]


def test_a_required_property_that_cannot_be_said_still_refuses_the_schema() -> None:
    with pytest.raises(SchemaNotConvertible) as caught:
        input_schema_to_api({**_params(filters=_MAP), "required": ["filters"]}, left_out=print)
    assert caught.value.pointer == "/properties/filters"


def test_a_nested_object_left_with_no_property_is_itself_left_out() -> None:
    refusals: list[SchemaNotConvertible] = []
    converted = input_schema_to_api(_params(q={"type": "string"}, o=_params(m=_MAP)), left_out=refusals.append)
    assert converted == {"type": "OBJECT", "properties": {"q": {"type": "STRING"}}}
    assert [refusal.pointer for refusal in refusals] == ["/properties/o/properties/m", "/properties/o"]


def test_without_left_out_every_property_must_convert() -> None:
    assert _refusal(_params(q={"type": "string"}, filters=_MAP)).pointer == "/properties/filters"


def test_a_schema_nested_too_deep_is_refused() -> None:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(40):
        schema = {"type": "array", "items": schema}
    assert "deeper" in _refusal(_params(p=schema)).reason


# An API schema tree (what the converter should produce), drawn at random, then written as JSON Schema.
_scalars = st.sampled_from(["STRING", "INTEGER", "NUMBER", "BOOLEAN"]).map(lambda t: {"type": t})
_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}", fullmatch=True)


def _extend(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    arrays = children.map(lambda item: {"type": "ARRAY", "items": item})
    objects = st.dictionaries(_names, children, min_size=1, max_size=4).flatmap(
        lambda props: st.lists(st.sampled_from(sorted(props)), unique=True).map(
            lambda required: {
                "type": "OBJECT",
                "properties": props,
                **({"required": required} if required else {}),
            }
        )
    )
    return arrays | objects


_api_trees = st.recursive(
    _scalars | st.lists(_names, min_size=1, max_size=3, unique=True).map(lambda e: {"type": "STRING", "enum": e}),
    _extend,
    max_leaves=12,
)


def _as_json_schema(tree: dict[str, Any], nullable_style: int) -> dict[str, Any]:
    out: dict[str, Any] = {"type": tree["type"].lower()}
    if "enum" in tree:
        out["enum"] = tree["enum"]
    if "items" in tree:
        out["items"] = _as_json_schema(tree["items"], nullable_style)
    if "properties" in tree:
        out["properties"] = {k: _as_json_schema(v, nullable_style) for k, v in tree["properties"].items()}
    if "required" in tree:
        out["required"] = tree["required"]
    if tree.get("nullable"):
        out = {"anyOf": [out, {"type": "null"}]} if nullable_style else {**out, "type": [out["type"], "null"]}
    return out


@given(st.dictionaries(_names, _api_trees, min_size=1, max_size=4), st.integers(0, 1))
def test_json_schema_written_from_an_api_schema_converts_back_to_it(
    properties: dict[str, Any], nullable_style: int
) -> None:
    tree = {"type": "OBJECT", "properties": properties}
    assert input_schema_to_api(_as_json_schema(tree, nullable_style)) == tree


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
_keywords = st.sampled_from(
    ["type", "properties", "items", "anyOf", "oneOf", "allOf", "enum", "const", "$ref", "required", "nullable"]
)
_schema_like = st.recursive(
    st.fixed_dictionaries({"type": st.sampled_from(["string", "integer", "object", "array", "null", "bogus"])}),
    lambda children: st.dictionaries(_keywords, children | _json | st.lists(children, max_size=3), max_size=4),
    max_leaves=15,
)


@given(_schema_like | st.dictionaries(st.text(max_size=8), _json, max_size=5))
def test_any_input_is_converted_to_what_the_api_takes_or_refused_cleanly(schema: dict[str, Any]) -> None:
    for left_out in (None, [].append):  # strict, and leaving out optional properties
        try:
            converted = input_schema_to_api(schema, left_out=left_out)
        except SchemaNotConvertible as refusal:
            assert refusal.reason
            continue
        if converted is not None:
            assert check_schema(converted) == converted
