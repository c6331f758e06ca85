"""The API's schema subset for function declarations, as one definition every tool source checks against.

A `functionDeclarations` entry is `{name, description, parameters, behavior}`; `parameters` is a Schema in the
API's OpenAPI subset with UPPERCASE types (docs/wire.md, "Tool calls"). `--tools FILE.json` declarations are
validated here, the Python converter (python_schema) builds only what passes here, and the MCP source converts
JSON Schema into the same subset and checks its result here. Standard library only.

`check_schema` and `check_declaration` return a normalised copy (camelCase keys, UPPERCASE types) or raise
SchemaError naming the path of what is wrong (`parameters.properties.city.type: ...`).
"""

from __future__ import annotations

import math
import re
from typing import Any

from livecli.errors import UsageError
from livecli.protocol.wire import camel

__all__ = [
    "BEHAVIORS",
    "DECLARATION_KEYS",
    "MAX_NAME_LENGTH",
    "NAME_PATTERN",
    "SCHEMA_KEYS",
    "SCHEMA_TYPES",
    "SchemaError",
    "check_declaration",
    "check_name",
    "check_schema",
]

# The Schema's `type` values (the API's Type enum, without TYPE_UNSPECIFIED).
SCHEMA_TYPES = ("STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT", "NULL")

# Every field a Schema takes (camelCase; the service's JSON parser also takes snake_case, normalised here).
SCHEMA_KEYS = frozenset(
    {
        "type",
        "format",
        "title",
        "description",
        "nullable",
        "enum",
        "items",
        "minItems",
        "maxItems",
        "properties",
        "required",
        "minProperties",
        "maxProperties",
        "propertyOrdering",
        "minLength",
        "maxLength",
        "pattern",
        "minimum",
        "maximum",
        "anyOf",
        "example",
        "default",
    }
)
_COUNTS = frozenset({"minItems", "maxItems", "minProperties", "maxProperties", "minLength", "maxLength"})
_TEXTS = frozenset({"format", "title", "description", "pattern"})

# A FunctionDeclaration's fields; `parametersJsonSchema`/`responseJsonSchema` are plain JSON Schema, passed as is.
DECLARATION_KEYS = frozenset(
    {"name", "description", "parameters", "behavior", "response", "parametersJsonSchema", "responseJsonSchema"}
)
BEHAVIORS = ("BLOCKING", "NON_BLOCKING")

# Function names: letters, digits, underscores, dots, colons and dashes, not starting with a digit, at most 64
# characters (livecli's choice where the reference is silent: docs/wire.md, "Tool calls").
MAX_NAME_LENGTH = 64
NAME_PATTERN = re.compile(rf"[A-Za-z_][A-Za-z0-9_.:-]{{0,{MAX_NAME_LENGTH - 1}}}")

# Deeper schemas are refused rather than walked: a recursive type or a hostile file must not exhaust the stack.
MAX_DEPTH = 32


class SchemaError(UsageError):
    """A declaration or schema the API would refuse; the message starts with the path of the faulty field."""


def check_name(name: object, where: str = "name") -> str:
    """A valid function name, or SchemaError."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise SchemaError(
            f"{where}: {name!r} is not a function name the API takes (letters, digits, _ . : -, not starting "
            f"with a digit, at most {MAX_NAME_LENGTH} characters)"
        )
    return name


def check_declaration(decl: object, where: str = "") -> dict[str, Any]:
    """One functionDeclarations entry, checked and normalised (camelCase keys, UPPERCASE types and behavior)."""
    prefix = f"{where}." if where else ""
    if not isinstance(decl, dict):
        raise SchemaError(f"{where or 'declaration'}: a function declaration is an object, not {_kind(decl)}")
    out: dict[str, Any] = {}
    for key, value in decl.items():
        name = camel(str(key))
        if name not in DECLARATION_KEYS:
            raise SchemaError(
                f"{prefix}{key}: not a field of a function declaration ({_listed(DECLARATION_KEYS)})"
            )
        out[name] = value
    if "name" not in out:
        raise SchemaError(f"{where or 'declaration'}: a function declaration needs a name")
    check_name(out["name"], f"{prefix}name")
    if "description" in out and not isinstance(out["description"], str):
        raise SchemaError(f"{prefix}description: must be a string, not {_kind(out['description'])}")
    if "behavior" in out:
        behavior = out["behavior"]
        if not isinstance(behavior, str) or behavior.upper() not in BEHAVIORS:
            raise SchemaError(f"{prefix}behavior: must be one of {', '.join(BEHAVIORS)}, not {behavior!r}")
        out["behavior"] = behavior.upper()
    for key in ("parameters", "response"):
        if key in out:
            out[key] = check_schema(out[key], f"{prefix}{key}")
    for key in ("parametersJsonSchema", "responseJsonSchema"):
        if key in out and not isinstance(out[key], dict):
            raise SchemaError(f"{prefix}{key}: must be an object, not {_kind(out[key])}")
    return out


def check_schema(schema: object, where: str = "parameters", depth: int = 0) -> dict[str, Any]:
    """One Schema in the API's subset, checked and normalised; SchemaError names the path of what is wrong."""
    if depth > MAX_DEPTH:
        raise SchemaError(f"{where}: nested more than {MAX_DEPTH} levels deep")
    if not isinstance(schema, dict):
        raise SchemaError(f"{where}: a schema is an object, not {_kind(schema)}")
    out: dict[str, Any] = {}
    for key, value in schema.items():
        name = camel(str(key))
        if name not in SCHEMA_KEYS:
            raise SchemaError(f"{where}.{key}: not a field of the API's schema ({_listed(SCHEMA_KEYS)})")
        out[name] = _check_field(name, value, f"{where}.{key}", depth)
    kind = out.get("type")
    if kind is None and "anyOf" not in out:
        raise SchemaError(f"{where}: needs a type ({', '.join(SCHEMA_TYPES)}) or anyOf")
    if kind == "OBJECT" and not out.get("properties"):
        # The service refuses an OBJECT without properties (docs/wire.md, "Tool calls").
        raise SchemaError(f"{where}: an OBJECT needs at least one property")
    if kind == "ARRAY" and "items" not in out:
        raise SchemaError(f"{where}: an ARRAY needs items (the schema of its elements)")
    if "enum" in out and kind not in ("STRING", None):
        raise SchemaError(f"{where}.enum: the API takes enum values on STRING only, not on {kind}")
    for required in out.get("required", []):
        if required not in out.get("properties", {}):
            raise SchemaError(f"{where}.required: {required!r} is not one of its properties")
    return out


def _check_field(name: str, value: Any, where: str, depth: int) -> Any:
    """One field of a Schema, checked and normalised."""
    if name == "type":
        if not isinstance(value, str) or value.upper() not in SCHEMA_TYPES:
            raise SchemaError(f"{where}: must be one of {', '.join(SCHEMA_TYPES)}, not {value!r}")
        return value.upper()
    if name == "properties":
        if not isinstance(value, dict):
            raise SchemaError(f"{where}: must be an object of name → schema, not {_kind(value)}")
        return {str(key): check_schema(item, f"{where}.{key}", depth + 1) for key, item in value.items()}
    if name == "items":
        return check_schema(value, where, depth + 1)
    if name == "anyOf":
        if not isinstance(value, list) or not value:
            raise SchemaError(f"{where}: must be a non-empty list of schemas")
        return [check_schema(item, f"{where}[{n}]", depth + 1) for n, item in enumerate(value)]
    if name in ("enum", "required", "propertyOrdering"):
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise SchemaError(f"{where}: must be a list of strings")
        return list(value)
    if name in _COUNTS:
        count = int(value) if isinstance(value, str) and value.isdigit() else value  # int64: number or string
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise SchemaError(f"{where}: must be a whole number >= 0, not {value!r}")
        return count
    if name in ("minimum", "maximum"):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise SchemaError(f"{where}: must be a number, not {value!r}")
        return value
    if name == "nullable":
        if not isinstance(value, bool):
            raise SchemaError(f"{where}: must be true or false, not {value!r}")
        return value
    if name in _TEXTS and not isinstance(value, str):
        raise SchemaError(f"{where}: must be a string, not {_kind(value)}")
    return value  # example, default: any JSON value


def _kind(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number" if isinstance(value, int | float) else type(value).__name__)


def _listed(keys: frozenset[str]) -> str:
    return "it takes " + ", ".join(sorted(keys))
