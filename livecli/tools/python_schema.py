"""Python type annotations → the API's schema subset (livecli.tools.api_schema), and the model's JSON arguments
back into the annotated types (dataclasses, enums) when a function is called.

str/int/float/bool → STRING/INTEGER/NUMBER/BOOLEAN; `Literal["a", "b"]` and a str Enum → STRING with enum;
`list[X]` → ARRAY of X; a TypedDict or a dataclass → OBJECT with its fields (those with defaults, or not
required in the TypedDict, are optional); `X | None` → X with nullable; `X | Y` → anyOf; `Annotated[X, "text"]`
gives the description. Anything else is refused with the parameter's name: a declaration the model would
misread is worse than none.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import types
import typing
from typing import Any

from livecli.tools.api_schema import MAX_DEPTH, SchemaError

__all__ = ["coerce_args", "function_declaration", "schema_of"]

_SCALARS: dict[type, str] = {bool: "BOOLEAN", int: "INTEGER", float: "NUMBER", str: "STRING"}


def function_declaration(name: str, fn: Any) -> dict[str, Any]:
    """The functionDeclarations entry for a Python function: name, first docstring paragraph, parameters."""
    decl: dict[str, Any] = {"name": name}
    doc = inspect.getdoc(fn)
    if doc:
        decl["description"] = " ".join(doc.strip().split("\n\n", 1)[0].split())
    signature = inspect.signature(fn)
    hints = _hints(fn, name)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for param in signature.parameters.values():
        where = f"{name}({param.name})"
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise SchemaError(f"{where}: *args and **kwargs cannot be declared; name each parameter")
        if param.name not in hints:
            raise SchemaError(f"{where}: needs a type annotation (str, int, float, bool, Literal, list[...], ...)")
        properties[param.name] = schema_of(hints[param.name], where)
        if param.default is param.empty:
            required.append(param.name)
    if properties:
        decl["parameters"] = {"type": "OBJECT", "properties": properties}
        if required:
            decl["parameters"]["required"] = required
    return decl


def _hints(target: Any, where: str) -> dict[str, Any]:
    try:
        return typing.get_type_hints(target, include_extras=True)
    except Exception as exc:  # a forward reference that does not resolve, a bad annotation
        raise SchemaError(f"{where}: its annotations cannot be read: {type(exc).__name__}: {exc}") from None


def schema_of(annotation: Any, where: str, depth: int = 0) -> dict[str, Any]:
    """The schema of one annotation; SchemaError names `where` for one that has no schema."""
    if depth > MAX_DEPTH:
        raise SchemaError(f"{where}: nested more than {MAX_DEPTH} levels deep (a recursive type?)")
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        schema = schema_of(args[0], where, depth)
        texts = [item for item in args[1:] if isinstance(item, str)]
        if texts:
            schema["description"] = texts[0]
        return schema
    if annotation in _SCALARS:
        return {"type": _SCALARS[annotation]}
    if origin is typing.Literal:
        if not all(isinstance(value, str) for value in args):
            raise SchemaError(f"{where}: Literal values must be strings (the API's enums are strings)")
        return {"type": "STRING", "enum": list(args)}
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        values = [member.value for member in annotation]
        if not all(isinstance(value, str) for value in values):
            raise SchemaError(f"{where}: {annotation.__name__}'s values must be strings (the API's enums are)")
        return {"type": "STRING", "enum": values}
    if origin is typing.Union or origin is types.UnionType:
        return _union(args, where, depth)
    if origin is list:
        if not args:
            raise SchemaError(f"{where}: say what the list holds, e.g. list[str]")
        return {"type": "ARRAY", "items": schema_of(args[0], f"{where}[]", depth + 1)}
    if annotation is list:
        raise SchemaError(f"{where}: say what the list holds, e.g. list[str]")
    if typing.is_typeddict(annotation):
        required = annotation.__required_keys__
        fields = _hints(annotation, where)
        return _object(fields, [name for name in fields if name in required], where, depth)
    if dataclasses.is_dataclass(annotation) and isinstance(annotation, type):
        fields = _hints(annotation, where)
        listed = [f for f in dataclasses.fields(annotation) if f.init]
        required = [
            f.name for f in listed if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        ]
        return _object({f.name: fields[f.name] for f in listed}, required, where, depth)
    shown = getattr(annotation, "__name__", None) or repr(annotation)
    raise SchemaError(
        f"{where}: {shown} has no schema in the API (use str, int, float, bool, Literal, list[...], a TypedDict "
        "or a dataclass)"
    )


def _union(args: tuple[Any, ...], where: str, depth: int) -> dict[str, Any]:
    """`X | None` → X, nullable; `X | Y` → anyOf."""
    present = [arg for arg in args if arg is not type(None)]
    if len(present) == 1:
        schema = schema_of(present[0], where, depth)
    else:
        schema = {"anyOf": [schema_of(arg, where, depth + 1) for arg in present]}
    if len(present) < len(args):
        schema["nullable"] = True
    return schema


def _object(fields: dict[str, Any], required: list[str], where: str, depth: int) -> dict[str, Any]:
    if not fields:
        raise SchemaError(f"{where}: an OBJECT needs at least one field")
    properties = {name: schema_of(hint, f"{where}.{name}", depth + 1) for name, hint in fields.items()}
    schema: dict[str, Any] = {"type": "OBJECT", "properties": properties}
    if required:
        schema["required"] = required
    return schema


def coerce_args(fn: Any, args: dict[str, Any]) -> dict[str, Any]:
    """The model's arguments as the function's annotations ask (dataclasses built, enums looked up); an
    argument that does not fit raises TypeError or ValueError, which the caller answers as an error."""
    hints = typing.get_type_hints(fn, include_extras=True)
    return {name: _coerce(value, hints[name]) if name in hints else value for name, value in args.items()}


def _coerce(value: Any, annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _coerce(value, args[0])
    if value is None:
        return None
    if origin is typing.Union or origin is types.UnionType:
        present = [arg for arg in args if arg is not type(None)]
        return _coerce(value, present[0]) if len(present) == 1 else value
    if origin is list and args and isinstance(value, list):
        return [_coerce(item, args[0]) for item in value]
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return annotation(value)
    if annotation is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if dataclasses.is_dataclass(annotation) and isinstance(annotation, type) and isinstance(value, dict):
        hints = typing.get_type_hints(annotation, include_extras=True)
        return annotation(**{key: _coerce(item, hints.get(key, Any)) for key, item in value.items()})
    return value
