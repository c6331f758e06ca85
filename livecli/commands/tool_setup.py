"""The tool options of `send` and `text` → the tool sources, their registry, and the setup's declarations.

`--tools FILE.py` is a PythonSource; the declarations of every `--tools FILE.json` go to one ExecSource that runs
`--tool-exec CMD` (README, "Tools"). The sources start inside the event loop that runs the session (an MCP
session is bound to its loop), before connecting: a bad module or a missing command is a usage error that no
connection is made for. The registry's declarations join the setup's `tools`; it is handed to the Conversation
as its tool runner, and closed when the session is over.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from livecli.commands.request import RunRequest
from livecli.errors import UsageError
from livecli.protocol.client_messages import SetupConfig
from livecli.protocol.redact import redact
from livecli.protocol.report import Reporter
from livecli.tools.base import ToolSource
from livecli.tools.declarations import read_declarations
from livecli.tools.exec_source import ExecSource
from livecli.tools.mcp_source import McpSource
from livecli.tools.python_source import PythonSource
from livecli.tools.registry import ToolRegistry

__all__ = ["declared_setup", "open_tools", "tool_sources", "with_tools"]

# How much of a command's stderr one display line shows (the whole of it is kept to MAX_STDERR_BYTES).
STDERR_SHOWN = 2000


def tool_sources(
    req: RunRequest,
    environ: Mapping[str, str],
    on_stderr: Callable[[str, str, str], None] | None = None,
    warn: Callable[[str], None] | None = None,
    mask: Callable[[str], str] = str,
) -> list[ToolSource]:
    """The sources the options ask for (none: no tool option), JSON files read and checked here. `mask` hides
    the run's secrets in what a Python module prints.

    Raises UsageError for a file that is neither .py nor
    .json, a function declared twice across JSON files, JSON declarations without --tool-exec, or --tool-exec
    with nothing declared for it.
    """
    sources: list[ToolSource] = []
    declared: list[dict[str, Any]] = []
    where: dict[str, str] = {}
    for path in req.tools or []:
        suffix = Path(path).suffix.lower()
        if suffix == ".py":
            sources.append(PythonSource(path, mask))
        elif suffix == ".json":
            for decl in read_declarations(path):
                name = decl["name"]
                if name in where:
                    raise UsageError(
                        f"the function {name} is declared by --tools {where[name]} and by --tools {path}"
                    )
                where[name] = path
                declared.append(decl)
        else:
            raise UsageError(f"--tools {path}: give a Python module (.py) or function declarations (.json)")
    if declared and req.tool_exec is None:
        raise UsageError("--tools FILE.json declares functions with no handler: add --tool-exec CMD to run them")
    if req.tool_exec is not None:
        if not declared:
            raise UsageError(
                "--tool-exec runs the functions of --tools FILE.json: give the file that declares them"
            )
        sources.append(ExecSource(req.tool_exec, declared, environ=environ, on_stderr=on_stderr))
    # MCP servers (tools/mcp_source): a tool they cannot declare is left out with a warning.
    sources.extend(McpSource(command=command, warn=warn) for command in req.mcp or [])
    sources.extend(McpSource(url=url, warn=warn) for url in req.mcp_url or [])
    return sources


def _stderr_shower(renderer: Reporter, secrets: Callable[[], Sequence[str]]) -> Callable[[str, str, str], None]:
    """Shows what a tool command wrote to stderr: one warning per call, secrets masked (the display escapes)."""

    def show(name: str, call_id: str, text: str) -> None:
        text = text.strip()
        if len(text) > STDERR_SHOWN:
            text = "…" + text[-STDERR_SHOWN:]
        renderer.warning(f"--tool-exec {name} (id {call_id}) wrote on stderr: {redact(text, secrets())}")

    return show


@asynccontextmanager
async def open_tools(
    req: RunRequest, environ: Mapping[str, str], renderer: Reporter, secrets: Callable[[], Sequence[str]] = tuple
) -> AsyncIterator[ToolRegistry | None]:
    """The started registry (None without tool options), closed on leaving; a source that fails to close is a
    warning, not the run's failure."""

    def mask(text: str) -> str:
        return redact(text, secrets())

    sources = tool_sources(req, environ, _stderr_shower(renderer, secrets), renderer.warning, mask)
    if not sources:
        yield None
        return
    registry = ToolRegistry(sources, timeout_s=req.tool_timeout)
    await registry.start()
    try:
        yield registry
    finally:
        for failure in await registry.aclose():
            renderer.warning(failure)


def with_tools(setup: SetupConfig, registry: ToolRegistry | None) -> SetupConfig:
    """The setup with the registry's function declarations added to its `tools`."""
    if registry is None:
        return setup
    return dataclasses.replace(setup, tools=[*(setup.tools or []), *registry.setup_tools()])


async def declared_setup(req: RunRequest, setup: SetupConfig, environ: Mapping[str, str]) -> SetupConfig:
    """The setup with the declarations, sources started and closed again (for --dry-run)."""
    async with open_tools(req, environ, Reporter()) as registry:
        return with_tools(setup, registry)
