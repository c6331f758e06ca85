"""`--tools FILE.json`: function declarations as the API takes them, read and validated before connecting.

The file holds a list of functionDeclarations entries, or a whole `tools` list (`[{"functionDeclarations":
[...]}]`), or one object with either; each declaration is checked against the API's subset (api_schema). The
functions have no handler of their own: their calls go to `--tool-exec`.
"""

from __future__ import annotations

import json
from typing import Any

from livecli.errors import UsageError
from livecli.protocol.wire import camel
from livecli.tools.api_schema import DECLARATION_KEYS, SchemaError, check_declaration

__all__ = ["MAX_FILE_BYTES", "read_declarations"]

# Declarations are small; a bigger file is a mistake (a data file given by accident), refused before it is read.
MAX_FILE_BYTES = 4 << 20


def read_declarations(path: str) -> list[dict[str, Any]]:
    """The function declarations in a JSON file, validated; UsageError (one line) for anything wrong."""
    label = f"--tools {path}"
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"{label}: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise UsageError(f"{label}: larger than {MAX_FILE_BYTES >> 20} MiB; is it a declarations file?")
    try:
        parsed = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise UsageError(f"{label}: not JSON: {exc}") from None
    try:
        found = _declarations_in(parsed)
        if not found:
            raise SchemaError("declares no function")
        return [check_declaration(decl, f"[{n}]") for n, decl in enumerate(found)]
    except SchemaError as exc:
        raise UsageError(f"{label}: {exc}") from None


def _declarations_in(data: Any) -> list[Any]:
    """The declaration entries of the file's accepted shapes."""
    if isinstance(data, dict):
        keys = {camel(str(key)): value for key, value in data.items()}
        if "tools" in keys:
            return _declarations_in(keys["tools"])
        if "functionDeclarations" in keys:
            return _declarations_in([data])
        return [data]  # one declaration
    if not isinstance(data, list):
        raise SchemaError("expected a list of function declarations or a tools list")
    found: list[Any] = []
    for n, item in enumerate(data):
        keys = {camel(str(key)): value for key, value in item.items()} if isinstance(item, dict) else {}
        if "functionDeclarations" in keys:
            if len(keys) > 1:
                others = ", ".join(sorted(set(keys) - {"functionDeclarations"}))
                raise SchemaError(f"[{n}]: a tool holds one kind of tool, not functionDeclarations and {others}")
            entries = keys["functionDeclarations"]
            if not isinstance(entries, list):
                raise SchemaError(f"[{n}].functionDeclarations: must be a list")
            found.extend(entries)
        elif keys and not set(keys) & DECLARATION_KEYS:  # a built-in tool ({"googleSearch": {}})
            kinds = ", ".join(sorted(keys))
            raise SchemaError(
                f"[{n}]: {kinds} is not read from --tools (only function declarations are; built-in tools have "
                "their own options: --google-search, --code-execution, --url-context)"
            )
        else:
            found.append(item)
    return found
