"""A small MCP server for the tests, written with the `mcp` SDK (MCPServer): stdio by default, or streamable HTTP.

    python tests/tools/mcp_demo_server.py [--marker-dir DIR] [--http] [--fail-at-start] [--weird-tools]

Tools: `add` (integers, structured result), `convert` (an enum parameter), `fail` (answers isError), `slow`
(sleeps; writes DIR/slow-started and, when the client cancels it, DIR/slow-cancelled), `text.upper` (a name with a
dot), `env_names` (the names of its environment variables), `logo` (an image content). `--weird-tools` adds
`1st-tool!` (a name livecli maps), `exit_now` (the process ends, as in a crash) and `free_form` (a map parameter
the API's subset cannot say).
With `--marker-dir`, the server's process id is written to DIR/pid at start. `--http` serves streamable HTTP on
127.0.0.1, on a port the system picks, and prints `PORT <n>` on stdout once listening. `--fail-at-start` writes a
line to stderr and exits 3 before speaking MCP.
"""

import argparse
import asyncio
import base64
import os
import socket
import sys
from pathlib import Path
from typing import Any, Literal

# The smallest valid PNG (1x1, transparent): what `logo` answers.
_PNG_1X1 = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
    )
).decode("ascii")


def build(marker_dir: Path | None, *, weird_tools: bool = False) -> Any:
    """The server (imported here, so that --fail-at-start fails before the SDK's import time). Annotations are
    evaluated where each tool is defined: the SDK reads them to build the tools' schemas."""
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError
    from mcp.types import ImageContent, TextContent

    server = MCPServer("livecli-demo", log_level="ERROR")

    @server.tool()
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @server.tool()
    def convert(value: float, unit: Literal["celsius", "fahrenheit"] = "celsius") -> str:
        """Convert a temperature to the other unit."""
        if unit == "celsius":
            return f"{value * 9 / 5 + 32:.1f} F"
        return f"{(value - 32) * 5 / 9:.1f} C"

    @server.tool()
    def fail(reason: str) -> str:
        """Always fails, with the reason given."""
        raise ToolError(f"failed on purpose: {reason}")

    @server.tool()
    async def slow(seconds: float) -> str:
        """Sleep for a while, then answer."""
        if marker_dir is not None:
            (marker_dir / "slow-started").write_text("started")
        try:
            await asyncio.sleep(seconds)
        except BaseException:
            if marker_dir is not None:
                (marker_dir / "slow-cancelled").write_text("cancelled")
            raise
        return f"slept {seconds} s"

    @server.tool(name="text.upper")
    def text_upper(text: str) -> str:
        """Upper-case a text."""
        return text.upper()

    @server.tool()
    def env_names() -> list[str]:
        """The names of the environment variables the server was started with (not their values)."""
        return sorted(os.environ)

    @server.tool()
    def logo() -> list[ImageContent | TextContent]:
        """The project's logo, with a caption."""
        return [
            TextContent(type="text", text="the logo"),
            ImageContent(type="image", data=_PNG_1X1, mime_type="image/png"),
        ]

    if weird_tools:

        @server.tool(name="1st-tool!")
        def first_tool() -> str:
            """A name that starts with a digit and has a '!'."""
            return "first"

        @server.tool()
        def exit_now() -> str:
            """Ends the server's process at once, as a crash would."""
            print("demo server: crashing (on purpose)", file=sys.stderr, flush=True)
            os._exit(5)

        @server.tool()
        def free_form(data: dict[str, Any]) -> str:
            """Takes a map, which the API's schema subset cannot say."""
            return str(data)

    return server


def serve_http(server: Any) -> None:
    """Streamable HTTP on a socket bound here, so its port can be printed before uvicorn takes it over."""
    import uvicorn

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)  # before the port is printed: a client connecting at once waits in the backlog
    app = server.streamable_http_app()
    config = uvicorn.Config(app, log_level="error", lifespan="on")
    http_server = uvicorn.Server(config)
    print(f"PORT {listener.getsockname()[1]}", flush=True)
    http_server.run(sockets=[listener])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--marker-dir", type=Path)
    parser.add_argument("--http", action="store_true")
    parser.add_argument("--fail-at-start", action="store_true")
    parser.add_argument("--weird-tools", action="store_true")
    options = parser.parse_args()
    if options.fail_at_start:
        print("demo server: cannot open its database (on purpose)", file=sys.stderr, flush=True)
        raise SystemExit(3)
    if options.marker_dir is not None:
        (options.marker_dir / "pid").write_text(str(os.getpid()))
    server = build(options.marker_dir, weird_tools=options.weird_tools)
    if options.http:
        serve_http(server)
    else:
        server.run("stdio")


if __name__ == "__main__":
    main()
