"""The one interface every tool source implements (Python module, command, MCP server).

A source declares functions (`functionDeclarations` entries as the API spells them: name, description,
parameters in the API's OpenAPI subset with UPPERCASE types, optional behavior) and runs calls to them. The
registry (livecli.tools.registry) gives each function name exactly one owner; the client's dispatcher calls
`call` once per call id, concurrently, and cancels the task on toolCallCancellation or at the session's end.
"""

from __future__ import annotations

from typing import Any, Protocol

from livecli.errors import LivecliError

__all__ = ["ToolFailed", "ToolSource"]


class ToolFailed(LivecliError):
    """A handler could not answer: its message becomes the `{"error": ...}` function response (the run goes on)."""


class ToolSource(Protocol):
    """Functions from one place (a Python file, a command, an MCP server) and how to call them."""

    @property
    def label(self) -> str:
        """Where the functions come from, for messages: "--tools tools.py", "--mcp 'my-server'"."""
        ...

    async def start(self) -> None:
        """Load or connect (import the module, start the MCP server); raises UsageError for bad input."""
        ...

    def declarations(self) -> list[dict[str, Any]]:
        """The functionDeclarations this source answers (valid after `start`)."""
        ...

    async def call(self, name: str, args: dict[str, Any], *, call_id: str) -> dict[str, Any]:
        """Run one call; returns the function response object (e.g. `{"result": ...}`, may carry `scheduling`).

        Raises ToolFailed for an answer that is an error; cancellation (toolCallCancellation, session end)
        arrives as asyncio.CancelledError and must stop the work (kill the process group, cancel the coroutine).
        """
        ...

    async def aclose(self) -> None:
        """Release what `start` acquired (processes, MCP sessions); safe to call twice."""
        ...
