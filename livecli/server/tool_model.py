"""The local server's model of tool use, sans I/O: which declared functions a turn calls, with what arguments,
and the canned results of the built-in tools (docs/wire.md, "Tool calls on the local server").

- A turn calls every declared function its text names exactly, as a whole word (`call get_weather`); the
  arguments hold every required field of the declaration's schema (`parameters`, the OpenAPI subset with
  upper-case types, or `parametersJsonSchema`), nested objects and arrays included, each a value of the declared
  type: the first enum value, else the minimum for numbers, `true`, one array item, and for strings the turn's
  text. `key=value` (or `key="two words"`) in the text sets a top-level argument, converted to its type.
- Built-in tools answer with canned content in the reply: `codeExecution` an `executableCode` and a
  `codeExecutionResult` part, `googleSearch` a `groundingMetadata`, `urlContext` a `urlContextMetadata` for the
  URLs in the turn's text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from typing import Any

from livecli.protocol.models import BUILTIN_TOOLS

__all__ = [
    "builtin_results",
    "declarations",
    "generate_args",
    "is_non_blocking",
    "named_functions",
]

MAX_DEPTH = 8  # nested schemas deeper than this get no further fields (a self-similar schema cannot recurse)
MAX_ITEMS = 3  # array arguments hold minItems items, at least one and at most this many
MAX_STRING = 80  # a string argument is the turn's text cut to this many characters
_WORD = r"[A-Za-z0-9_]"
_ASSIGNMENT = re.compile(r'(?<![A-Za-z0-9_.])([A-Za-z_][A-Za-z0-9_]*)=(?:"([^"]*)"|(\S+))')
_URL = re.compile(r"https?://[^\s\"'<>]+")
_STRING_FORMATS = {"date-time": "2026-01-01T00:00:00Z", "date": "2026-01-01", "time": "00:00:00"}


def declarations(tools: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every function declaration of a `tools` list, by name (the first one wins on a repeated name)."""
    found: dict[str, dict[str, Any]] = {}
    for tool in tools:
        for declaration in tool.get("functionDeclarations") or []:
            name = declaration.get("name")
            if name and name not in found:
                found[str(name)] = dict(declaration)
    return found


def is_non_blocking(declaration: Mapping[str, Any] | None) -> bool:
    """Whether the declaration lets the reply go on while its call runs (`behavior: NON_BLOCKING`).

    Without `behavior` a call is BLOCKING on every model, 3.8's NON_BLOCKING default aside (docs/wire.md, "Tool
    calls on the local server").
    """
    return declaration is not None and declaration.get("behavior") == "NON_BLOCKING"


def named_functions(texts: Iterable[str | None], names: Iterable[str]) -> list[str]:
    """The names that appear in the texts as whole words (case-sensitive), in the order of their first mention."""
    joined = "\n".join(text for text in texts if text)
    found: list[tuple[int, str]] = []
    for name in names:
        match = re.search(rf"(?<!{_WORD}){re.escape(name)}(?!{_WORD})", joined)
        if match is not None:
            found.append((match.start(), name))
    return [name for _, name in sorted(found)]


def generate_args(declaration: Mapping[str, Any], text: str) -> dict[str, Any]:
    """Arguments for a call: every required field of the declaration's schema, `key=value`s from `text` applied."""
    schema = declaration.get("parameters") or declaration.get("parametersJsonSchema")
    if not isinstance(schema, Mapping):
        return {}
    args = _value(schema, text, 0)
    if not isinstance(args, dict):
        return {}
    properties = schema.get("properties") or {}
    for match in _ASSIGNMENT.finditer(text):  # found one at a time: a huge text is never split whole
        key, quoted, bare = match.groups()
        if key in properties and isinstance(properties[key], Mapping):
            converted = _convert(quoted or bare, properties[key])
            if converted is not None:
                args[key] = converted
    return args


def _type(schema: Mapping[str, Any]) -> str:
    """The schema's type, upper case (JSON Schema's lower-case names and type lists too)."""
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if str(k).lower() != "null"), None)
    if kind:
        return str(kind).upper()
    if "properties" in schema:
        return "OBJECT"
    if "items" in schema:
        return "ARRAY"
    return "STRING"


def _value(schema: Mapping[str, Any], text: str, depth: int) -> Any:
    """One value of the schema's type (for an object: its required fields)."""
    options = schema.get("anyOf") or schema.get("oneOf")
    if isinstance(options, list) and options and isinstance(options[0], Mapping):
        return _value(options[0], text, depth)
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return enum[0]
    kind = _type(schema)
    if kind == "OBJECT":
        properties = schema.get("properties") or {}
        required = [name for name in schema.get("required") or [] if isinstance(properties.get(name), Mapping)]
        if depth >= MAX_DEPTH:
            return {}
        return {name: _value(properties[name], text, depth + 1) for name in required}
    if kind == "ARRAY":
        items = schema.get("items")
        if not isinstance(items, Mapping) or depth >= MAX_DEPTH:
            return []
        count = min(MAX_ITEMS, max(1, int(schema.get("minItems") or 1)))
        return [_value(items, text, depth + 1) for _ in range(count)]
    if kind in ("INTEGER", "NUMBER"):
        return _number(schema, kind)
    if kind == "BOOLEAN":
        return True
    if kind == "NULL":
        return None
    return _STRING_FORMATS.get(str(schema.get("format")), text[:MAX_STRING] or "text")


def _number(schema: Mapping[str, Any], kind: str) -> int | float:
    """The minimum when there is one, else 1 (1.5 for a NUMBER), kept under the maximum."""
    value: float = 1 if kind == "INTEGER" else 1.5
    low, high = schema.get("minimum"), schema.get("maximum")
    if isinstance(low, int | float) and not isinstance(low, bool):
        value = low
    elif isinstance(high, int | float) and not isinstance(high, bool) and value > high:
        value = high
    return int(value) if kind == "INTEGER" else float(value)


def _convert(raw: str, schema: Mapping[str, Any]) -> Any:
    """A `key=value` from the text as the property's type, or None when it is not one."""
    kind = _type(schema)
    try:
        if kind == "INTEGER":
            value: Any = int(raw)
        elif kind == "NUMBER":
            value = float(raw)
        elif kind == "BOOLEAN":
            value = {"true": True, "false": False}[raw.lower()]
        elif kind == "STRING":
            value = raw
        else:
            return None
    except (ValueError, KeyError):
        return None
    enum = schema.get("enum")
    return value if not isinstance(enum, list) or value in enum else None


def builtin_results(
    tools: Iterable[Mapping[str, Any]], text: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The canned content of the built-in tools a setup declares: (modelTurn parts, serverContent metadata)."""
    declared = {name for tool in tools for name in BUILTIN_TOOLS if name in tool}
    parts: list[dict[str, Any]] = []
    metadata: list[dict[str, Any]] = []
    query = text[:MAX_STRING] or "the user's audio"
    if "codeExecution" in declared:
        code = f"print(len({query!r}.split()))"
        parts.append({"executableCode": {"language": "PYTHON", "code": code}})
        output = f"{len(query.split())}\n"
        parts.append({"codeExecutionResult": {"outcome": "OUTCOME_OK", "output": output}})
    if "googleSearch" in declared:
        metadata.append({"groundingMetadata": _grounding(query)})
    urls: list[str] = []
    for found in _URL.finditer(text):  # the first MAX_ITEMS distinct ones, without listing every URL of the text
        if found.group() not in urls:
            urls.append(found.group())
        if len(urls) == MAX_ITEMS:
            break
    if "urlContext" in declared and urls:
        statuses = [{"retrievedUrl": url, "urlRetrievalStatus": "URL_RETRIEVAL_STATUS_SUCCESS"} for url in urls]
        metadata.append({"urlContextMetadata": {"urlMetadata": statuses}})
    return parts, metadata


def _grounding(query: str) -> dict[str, Any]:
    """One search, one source: the shape the service's groundingMetadata has, with livecli's example URL."""
    uri = "https://example.com/livecli-serve-search"
    return {
        "webSearchQueries": [query],
        "groundingChunks": [{"web": {"uri": uri, "title": "livecli serve: canned search result"}}],
        "searchEntryPoint": {"renderedContent": f'<a href="{uri}">{html.escape(query)}</a>'},
    }
