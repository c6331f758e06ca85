"""JSON Schema (an MCP tool's `inputSchema`) → the API's schema subset (UPPERCASE types), or why it cannot be.

See docs/wire.md, "MCP servers as tools". What the model must write is kept: the type, properties and which are
required, array items, string enums, null (`anyOf` with `{"type": "null"}`, `"type": [..., "null"]`) as
`nullable`, descriptions; local `$ref`s (`#/$defs/...`) are inlined. Keywords that only annotate or constrain a
value (title, default, format, pattern, examples, ...) are dropped: the tool still checks its own input. A schema
whose *shape* the subset cannot say (a union of different types, a map without named properties, a recursive
`$ref`, tuple items, a property name the API refuses) raises `SchemaNotConvertible` with the JSON pointer of the
place; an optional property can instead be left out of the declaration (`left_out`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from livecli.tools.api_schema import MAX_DEPTH, SCHEMA_KEYS, SCHEMA_TYPES

__all__ = ["PARAMETER_NAME", "SchemaNotConvertible", "input_schema_to_api"]

# JSON Schema type → the API's type (the subset is defined once, in api_schema).
_API_TYPES = {kind.lower(): kind for kind in SCHEMA_TYPES if kind != "NULL"}
# Bounds the API's schema takes as they are: hints for the model, checked again by the tool.
_KEPT_BOUNDS = tuple(
    key for key in ("minimum", "maximum", "minItems", "maxItems", "minLength", "maxLength") if key in SCHEMA_KEYS
)
# Keywords that change what shape a valid value has, which the subset cannot say (when not handled below).
_SHAPE_KEYWORDS = (
    "oneOf",
    "allOf",
    "not",
    "if",
    "then",
    "else",
    "patternProperties",
    "prefixItems",
    "contains",
    "dependentSchemas",
    "dependencies",
    "propertyNames",
    "unevaluatedItems",
    "$dynamicRef",
    "$recursiveRef",
)
# A parameter (property) name the API accepts (docs/wire.md, "MCP servers as tools").
PARAMETER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


class SchemaNotConvertible(ValueError):
    """The schema at `pointer` (a JSON pointer into the tool's inputSchema) has no equivalent in the subset."""

    def __init__(self, pointer: str, reason: str) -> None:
        super().__init__(f"{reason} at {pointer or '/'}")
        self.pointer = pointer
        self.reason = reason


def input_schema_to_api(
    schema: Mapping[str, Any], *, left_out: Callable[[SchemaNotConvertible], None] | None = None
) -> dict[str, Any] | None:
    """The `parameters` of a declaration for a tool's JSON Schema input, or None when the tool takes none.

    The root must describe an object (MCP requires `"type": "object"`); an object with no properties is a tool
    without parameters, which the API declares by leaving `parameters` out. With `left_out`, an optional property
    the subset cannot say is left out of the declaration (the model cannot send it, the tool's default applies)
    and `left_out` is told why; a required one still raises. Without it, every property must convert.
    """
    converter = _Converter(schema, left_out)
    converted = converter.convert(schema, "", depth=0, root=True)
    if converted.get("type") != "OBJECT":
        raise SchemaNotConvertible("", "the input schema must describe an object")
    return converted if converted.get("properties") else None


def _describe(converted: dict[str, Any], schema: Mapping[str, Any]) -> None:
    """Give the converted schema the description of `schema` (the referring site's words win over its target's)."""
    description = schema.get("description")
    if isinstance(description, str) and description:
        converted["description"] = description


def _is_bound(keyword: str, value: Any) -> bool:
    """Whether `value` is a bound the API takes for `keyword`: a count >= 0, or a finite number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if keyword in ("minimum", "maximum"):
        return math.isfinite(value)
    return isinstance(value, int) and value >= 0


def _all_strings(values: Any) -> bool:
    return isinstance(values, list) and bool(values) and all(isinstance(v, str) for v in values)


def _pointer_escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _pointer_unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


class _Converter:
    """One walk over one document: resolves its local `$ref`s and notices a cycle."""

    def __init__(
        self, document: Mapping[str, Any], left_out: Callable[[SchemaNotConvertible], None] | None
    ) -> None:
        self._document = document
        self._left_out = left_out
        self._expanding: list[str] = []

    def convert(self, schema: Any, pointer: str, *, depth: int, root: bool = False) -> dict[str, Any]:
        if depth > MAX_DEPTH:
            raise SchemaNotConvertible(pointer, f"nested deeper than {MAX_DEPTH} levels")
        if schema is True or schema == {}:
            raise SchemaNotConvertible(pointer, "a value of any type has no API type")
        if not isinstance(schema, Mapping):
            raise SchemaNotConvertible(pointer, "a schema must be an object")
        if "$ref" in schema:
            return self._follow(schema, pointer, depth=depth)
        union = self._union(schema, pointer, depth=depth)
        if union is not None:
            return union
        schema, nullable = self._without_null(schema)
        for keyword in _SHAPE_KEYWORDS:
            if keyword in schema:
                raise SchemaNotConvertible(
                    f"{pointer}/{keyword}", f"{keyword} has no equivalent in the API's schema"
                )
        api_type = self._type_of(schema, pointer)
        converted: dict[str, Any] = {"type": api_type}
        _describe(converted, schema)
        if nullable:
            converted["nullable"] = True
        self._enum(schema, pointer, converted)
        for bound in _KEPT_BOUNDS:
            if _is_bound(bound, schema.get(bound)):
                converted[bound] = schema[bound]
        if api_type == "ARRAY":
            if "items" not in schema or isinstance(schema["items"], list):
                raise SchemaNotConvertible(pointer, "an array needs one items schema")
            converted["items"] = self.convert(schema["items"], f"{pointer}/items", depth=depth + 1)
        elif api_type == "OBJECT":
            self._object(schema, pointer, converted, depth=depth, root=root)
        return converted

    def _follow(self, schema: Mapping[str, Any], pointer: str, *, depth: int) -> dict[str, Any]:
        reference = schema["$ref"]
        if not isinstance(reference, str) or not reference.startswith("#"):
            raise SchemaNotConvertible(f"{pointer}/$ref", f"only local $refs can be resolved, not {reference!r}")
        if reference in self._expanding:
            raise SchemaNotConvertible(f"{pointer}/$ref", f"recursive $ref {reference!r}")
        target: Any = self._document
        for token in reference[1:].split("/")[1:]:
            key = _pointer_unescape(token)
            if isinstance(target, Mapping) and key in target:
                target = target[key]
            elif isinstance(target, list) and key.isdigit() and int(key) < len(target):
                target = target[int(key)]
            else:
                raise SchemaNotConvertible(f"{pointer}/$ref", f"$ref {reference!r} points nowhere")
        self._expanding.append(reference)
        try:
            converted = self.convert(target, reference[1:], depth=depth + 1)
        finally:
            self._expanding.pop()
        _describe(converted, schema)
        return converted

    def _union(self, schema: Mapping[str, Any], pointer: str, *, depth: int) -> dict[str, Any] | None:
        """A union the subset can say, converted; None when the schema is no union.

        `{"type": "null"}` among the branches makes the result `nullable` (pydantic writes `X | None` so). One
        other branch (`anyOf`, `oneOf` or `allOf`) is that branch; several `anyOf` branches stay an `anyOf`.
        Several `oneOf` branches (exactly one must hold) or `allOf` branches (all must) are refused by `convert`.
        The referring schema's description wins.
        """
        for keyword in ("anyOf", "oneOf", "allOf"):
            branches = schema.get(keyword)
            if not isinstance(branches, list) or not branches:
                continue
            rest = [n for n, b in enumerate(branches) if not (isinstance(b, Mapping) and b.get("type") == "null")]
            if len(rest) > 1 and keyword != "anyOf":
                return None
            if not rest:
                raise SchemaNotConvertible(f"{pointer}/{keyword}", "a value that can only be null has no API type")
            converted_branches = [
                self.convert(branches[n], f"{pointer}/{keyword}/{n}", depth=depth + 1) for n in rest
            ]
            converted: dict[str, Any] = converted_branches[0] if len(rest) == 1 else {"anyOf": converted_branches}
            _describe(converted, schema)
            if len(rest) < len(branches):
                converted["nullable"] = True
            return converted
        return None

    @staticmethod
    def _without_null(schema: Mapping[str, Any]) -> tuple[Mapping[str, Any], bool]:
        """The schema with "null" taken out of its type list and its enum, and whether it was there."""
        nullable = False
        kinds = schema.get("type")
        if isinstance(kinds, list) and "null" in kinds:
            nullable = True
            kinds = [k for k in kinds if k != "null"]
            schema = {**schema, "type": kinds[0] if len(kinds) == 1 else kinds}
        enum = schema.get("enum")
        if isinstance(enum, list) and None in enum:
            nullable = True
            schema = {**schema, "enum": [value for value in enum if value is not None]}
        return schema, nullable

    def _type_of(self, schema: Mapping[str, Any], pointer: str) -> str:
        kind = schema.get("type")
        if kind is None:
            if "properties" in schema:
                kind = "object"
            elif "items" in schema:
                kind = "array"
            elif _all_strings(schema.get("enum")) or isinstance(schema.get("const"), str):
                kind = "string"
            else:
                raise SchemaNotConvertible(pointer, "a schema without a type has no API type")
        if isinstance(kind, list):
            raise SchemaNotConvertible(f"{pointer}/type", f"a union of types {kind} has no API type")
        if not isinstance(kind, str) or kind not in _API_TYPES:
            raise SchemaNotConvertible(f"{pointer}/type", f"type {kind!r} has no API type")
        return _API_TYPES[kind]

    @staticmethod
    def _enum(schema: Mapping[str, Any], pointer: str, converted: dict[str, Any]) -> None:
        """String enums stay enums; other values (the API's enum holds strings) are named in the description."""
        values = schema.get("enum")
        if "const" in schema:
            values = [schema["const"]]
        if values is None:
            return
        if not isinstance(values, list) or not values:
            raise SchemaNotConvertible(f"{pointer}/enum", "an enum must be a non-empty list")
        if converted["type"] == "STRING" and _all_strings(values):
            converted["enum"] = list(values)
            return
        if converted["type"] in ("STRING", "OBJECT", "ARRAY"):
            raise SchemaNotConvertible(f"{pointer}/enum", "an enum of non-string values has no API equivalent")
        listed = ", ".join(str(v).lower() if isinstance(v, bool) else repr(v) for v in values)
        hint = f"One of: {listed}."
        converted["description"] = f"{converted['description']} {hint}" if "description" in converted else hint

    def _object(
        self, schema: Mapping[str, Any], pointer: str, converted: dict[str, Any], *, depth: int, root: bool
    ) -> None:
        properties = schema.get("properties") or {}
        if not isinstance(properties, Mapping):
            raise SchemaNotConvertible(f"{pointer}/properties", "properties must be an object")
        if not properties:
            extra = schema.get("additionalProperties")
            if extra not in (None, False) and not root:
                raise SchemaNotConvertible(
                    pointer, "a map (additionalProperties without properties) has no API type"
                )
            if not root:
                raise SchemaNotConvertible(pointer, "an object without properties has no API type")
            return
        required = schema.get("required")
        required_names = [name for name in required if isinstance(name, str)] if isinstance(required, list) else []
        converted_properties: dict[str, Any] = {}
        for name, subschema in properties.items():
            where = f"{pointer}/properties/{_pointer_escape(str(name))}"
            try:
                if not PARAMETER_NAME.fullmatch(str(name)):
                    raise SchemaNotConvertible(where, f"property name {name!r} is not one the API accepts")
                converted_properties[name] = self.convert(subschema, where, depth=depth + 1)
            except SchemaNotConvertible as refusal:
                if self._left_out is None or name in required_names:
                    raise
                self._left_out(refusal)
        if not converted_properties and not root:
            raise SchemaNotConvertible(pointer, "none of its properties can be declared")
        if converted_properties:
            converted["properties"] = converted_properties
        kept = [name for name in required_names if name in converted_properties]
        if kept:
            converted["required"] = kept
