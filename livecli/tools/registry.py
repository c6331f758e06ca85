"""The registry: every tool source joined, each function name owned by exactly one of them.

It is what the client's tool-call dispatcher runs calls through (`handles`, `call`, `timeout_s`: the client
side declares that shape itself and never imports this package) and what the setup's `tools` entry is built
from. The same name from two sources is a usage error before connecting: a call must have one handler.
"""

from __future__ import annotations

from typing import Any

from livecli.errors import UsageError
from livecli.tools.base import ToolSource

__all__ = ["DEFAULT_TOOL_TIMEOUT_S", "ToolRegistry"]

# --tool-timeout's default: a call still running after this long is answered with an error.
DEFAULT_TOOL_TIMEOUT_S = 30.0


class ToolRegistry:
    """Sources started together, their declarations, and calls routed to the owner of the name."""

    def __init__(self, sources: list[ToolSource], *, timeout_s: float = DEFAULT_TOOL_TIMEOUT_S) -> None:
        self.sources = sources
        self.timeout_s = timeout_s
        self._owners: dict[str, ToolSource] = {}
        self._started: list[ToolSource] = []

    async def start(self) -> None:
        """Start every source in order and give each name its owner; on any failure, close what started."""
        try:
            for source in self.sources:
                await source.start()
                self._started.append(source)
                for decl in source.declarations():
                    name = decl["name"]
                    owner = self._owners.setdefault(name, source)
                    if owner is not source:
                        raise UsageError(f"the function {name} is declared by {owner.label} and by {source.label}")
        except BaseException:
            await self.aclose()
            raise

    def declarations(self) -> list[dict[str, Any]]:
        """Every function declaration, in the order of the sources."""
        return [decl for source in self._started for decl in source.declarations()]

    def setup_tools(self) -> list[dict[str, Any]]:
        """The setup's `tools` entries for the declared functions (NON_BLOCKING `behavior` kept as declared)."""
        declarations = self.declarations()
        return [{"functionDeclarations": declarations}] if declarations else []

    def handles(self, name: str) -> bool:
        """Whether a source declared this function."""
        return name in self._owners

    async def call(self, name: str, args: dict[str, Any], *, call_id: str) -> dict[str, Any]:
        """Run one call by the source that owns `name` (the caller checked `handles`)."""
        return await self._owners[name].call(name, args, call_id=call_id)

    async def aclose(self) -> list[str]:
        """Close every started source, latest first; returns what failed to close (one line each), so one
        source that fails to shut down keeps neither the others open nor the run from ending."""
        started, self._started = self._started, []
        self._owners.clear()
        failures: list[str] = []
        for source in reversed(started):
            try:
                await source.aclose()
            except Exception as exc:
                failures.append(f"{source.label}: closing it failed: {type(exc).__name__}: {exc}")
        return failures
