"""The tool options of `send` and `text` (issue 11), each declared once as an Annotated alias.

As in livecli.cli.options, each parameter is named after the RunRequest field it fills, and its `=` default is
that field's default. Imports only typer and the standard library: `livecli --help` must not import a tool
source (nor the mcp extra).
"""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["Mcp", "McpUrl", "ToolExec", "ToolTimeout", "Tools"]

PANEL = "Function tools"

Tools = Annotated[
    list[str] | None,
    typer.Option(
        "--tools",
        metavar="FILE",
        rich_help_panel=PANEL,
        help="Functions the model may call (repeatable): FILE.py declares its public functions from their "
        "annotations and runs them in-process; FILE.json holds functionDeclarations (or a tools list) "
        "answered by --tool-exec.",
    ),
]
ToolExec = Annotated[
    str | None,
    typer.Option(
        "--tool-exec",
        metavar="CMD",
        rich_help_panel=PANEL,
        help="Run CMD for each call to a --tools FILE.json function (no shell unless CMD is one): the call "
        'as JSON on stdin ({"id", "name", "args"}), LIVECLI_TOOL_NAME set; its stdout JSON is the response.',
    ),
]
ToolTimeout = Annotated[
    float,
    typer.Option(
        "--tool-timeout",
        metavar="S",
        min=0,
        rich_help_panel=PANEL,
        help="A call still running after S seconds is stopped and answered with an error (0: no limit).",
    ),
]
Mcp = Annotated[
    list[str] | None,
    typer.Option(
        "--mcp",
        metavar="CMD",
        rich_help_panel=PANEL,
        help="Start a Model Context Protocol server (repeatable): CMD is split like a shell line (no shell) and "
        "spoken to over stdio; its tools are declared and their calls forwarded (needs livecli[mcp]).",
    ),
]
McpUrl = Annotated[
    list[str] | None,
    typer.Option(
        "--mcp-url",
        metavar="URL",
        rich_help_panel=PANEL,
        help="Use the tools of a Model Context Protocol server over streamable HTTP at URL (repeatable).",
    ),
]
