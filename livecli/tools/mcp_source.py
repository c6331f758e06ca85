"""`--mcp CMD` / `--mcp-url URL`: the tools of a Model Context Protocol server, through the official `mcp` SDK.

See docs/wire.md, "MCP servers as tools". `start` spawns the command (stdio) or reaches the URL (streamable HTTP),
performs the MCP handshake and lists the tools, page by page, within `start_timeout_s`; each tool becomes a
function declaration (its name mapped to one the API takes, its inputSchema converted by json_schema). What the
API's subset cannot say is left out with a warning naming the place (an optional parameter, or else the whole
tool); two tools whose names map to one function name are a usage error. A call is forwarded with `call_tool`,
and its result becomes the response.

The SDK runs on anyio task groups whose cancel scopes must be entered and left by one task: one owner task holds
the client open from `start` to `aclose`; calls from other tasks only send requests through it. A cancelled call
cancels its request (the SDK tells the server with notifications/cancelled).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import os
import re
import shlex
import tempfile
from collections.abc import Callable
from typing import IO, Any
from urllib.parse import urlsplit, urlunsplit

from livecli.errors import ConnectError, UsageError
from livecli.extras import import_extra
from livecli.protocol.redact import printable
from livecli.tools import mcp_log
from livecli.tools.api_schema import MAX_NAME_LENGTH, NAME_PATTERN, SchemaError, check_declaration
from livecli.tools.base import ToolFailed
from livecli.tools.json_schema import SchemaNotConvertible, input_schema_to_api
from livecli.tools.responses import as_response

__all__ = ["START_TIMEOUT_S", "McpSource", "api_function_name", "declare_tools", "result_response"]

# How long a server has to start, answer the handshake and list its tools (npx may download a package first).
START_TIMEOUT_S = 30.0
# A server that pages its tool list without end is cut off here.
MAX_TOOL_PAGES = 100
# An environment assignment in a command (`env GITHUB_TOKEN=abc server`): its value may be a credential.
_ASSIGNMENT = re.compile(r"\A([A-Za-z_][A-Za-z0-9_]*)=.+\Z", re.DOTALL)
# How much of a failed server's stderr a message quotes.
_STDERR_TAIL_BYTES = 800
_STDERR_TAIL_LINES = 3


class McpSource:
    """The tools of one MCP server (a ToolSource), reached over stdio or streamable HTTP."""

    def __init__(
        self,
        *,
        command: str | None = None,
        url: str | None = None,
        start_timeout_s: float = START_TIMEOUT_S,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        if (command is None) == (url is None):
            raise ValueError("give exactly one of command and url")
        self.command = command
        self.url = url
        self.start_timeout_s = start_timeout_s
        self.warnings: list[str] = []
        self._warn = warn or self.warnings.append
        self._option = "--mcp" if command is not None else "--mcp-url"
        self._original_names: dict[str, str] = {}  # API function name → the MCP tool's name
        self._declarations: list[dict[str, Any]] = []
        self._client: Any = None
        self._owner: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._stderr: IO[bytes] | None = None
        self._listening = False

    @property
    def label(self) -> str:
        """The option as given, without what may be a credential (NAME=value words, a URL's user and query)."""
        if self.command is not None:
            return printable(f"--mcp {shlex.quote(_masked_command(self.command))}")
        return printable(f"--mcp-url {_masked_url(self.url or '')}")

    async def start(self) -> None:
        """Start or reach the server, shake hands, list and declare its tools (UsageError/ConnectError if not).

        Whatever fails (or a cancellation) leaves nothing behind: the process is stopped, the connection closed.
        """
        client_module = import_extra("mcp.client.client", needed_by=self._option)
        if not self._listening:
            mcp_log.listen(self._warn)  # the SDK's log lines as warnings, not tracebacks through the display
            self._listening = True
        try:
            await self._start(client_module.Client)
        except BaseException:
            await self.aclose()
            raise

    async def _start(self, client_class: Any) -> None:
        server: Any = self._stdio_transport() if self.command is not None else self._checked_url()
        ready: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self._stop = asyncio.Event()
        owner = asyncio.create_task(self._hold(client_class(server), ready), name=self.label)
        self._owner = owner
        waited: set[asyncio.Future[Any]] = {ready, owner}
        await asyncio.wait(waited, timeout=self.start_timeout_s, return_when="FIRST_COMPLETED")
        if ready.done():
            self._declarations, self._original_names = declare_tools(ready.result(), self.label, self._warn)
            return
        failure = owner.exception() if owner.done() else None
        await self._leave()  # the process has ended: its stderr is all there
        reason = _describe(failure) if failure else f"no answer within {self.start_timeout_s:g} s"
        raise self._start_error(reason)

    def declarations(self) -> list[dict[str, Any]]:
        return list(self._declarations)

    async def call(self, name: str, args: dict[str, Any], *, call_id: str) -> dict[str, Any]:
        """Forward one call; cancelling it cancels the request (the SDK sends notifications/cancelled)."""
        original = self._original_names[name]
        if self._client is None:
            raise ToolFailed(f"{self.label} is closed")
        try:
            result = await self._client.call_tool(original, args)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the server's failure is this call's answer, not the session's end
            raise ToolFailed(self._scrubbed(f"{self.label}: {_describe(exc)}{self._stderr_tail()}")) from None
        return result_response(result, name)

    async def aclose(self) -> None:
        """Leave the client (the SDK closes stdin, then terminates the process group; closes HTTP); safe twice."""
        await self._leave()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        if self._listening:
            mcp_log.unlisten(self._warn)
            self._listening = False

    async def _leave(self) -> None:
        """Stop the owner task, which leaves the client; a start still under way is cancelled."""
        owner, self._owner = self._owner, None
        started, self._client = self._client is not None, None
        if owner is None:
            return
        self._stop.set()
        if not started:
            owner.cancel()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await owner

    async def _hold(self, client: Any, ready: asyncio.Future[list[Any]]) -> None:
        """The owner task: enter the client, list the tools, hand them over, stay open until `aclose`."""
        async with client:
            tools = await _list_tools(client)
            self._client = client
            if not ready.done():
                ready.set_result(tools)
            await self._stop.wait()

    def _stdio_transport(self) -> Any:
        stdio = import_extra("mcp.client.stdio", needed_by=self._option)
        try:
            argv = shlex.split(self.command or "")
        except ValueError as exc:
            raise UsageError(f"{self.label}: cannot split the command: {exc}") from None
        if not argv:
            raise UsageError("--mcp: the command is empty")
        # The server's stderr goes to a file (not the terminal the display draws on): its tail explains a failure.
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed by aclose, it outlives this call)
        # The environment is the SDK's safe default (PATH, HOME, USER, ...): livecli's credentials are not handed
        # to a server; `env NAME=value cmd` passes what a server needs (README, "Tools").
        parameters = stdio.StdioServerParameters(command=argv[0], args=argv[1:])
        return stdio.stdio_client(parameters, errlog=self._stderr)

    def _checked_url(self) -> str:
        url = self.url or ""
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
            raise UsageError(f"{self.label}: not an http:// or https:// URL")
        return url

    def _scrubbed(self, text: str) -> str:
        """`text` (an SDK error, the server's stderr) with what `label` masks shown as `...` wherever it appears
        (values shorter than 4 characters are left: replacing them everywhere would garble the text)."""
        secrets: list[str] = []
        if self.url is not None:
            parts = urlsplit(self.url)
            secrets = [parts.query, parts.password or ""]
        else:
            with contextlib.suppress(ValueError):
                secrets = [
                    word.partition("=")[2] for word in shlex.split(self.command or "") if _ASSIGNMENT.match(word)
                ]
        for secret in sorted((s for s in secrets if len(s) >= 4), key=len, reverse=True):
            text = text.replace(secret, "...")
        return text

    def _start_error(self, reason: str) -> UsageError | ConnectError:
        """A server that does not start is bad input (stdio); one that cannot be reached is a connect error."""
        happened = "did not start" if self.command is not None else "did not answer"
        message = self._scrubbed(f"{self.label}: the MCP server {happened}: {reason}{self._stderr_tail()}")
        return UsageError(message) if self.command is not None else ConnectError(message)

    def _stderr_tail(self) -> str:
        """The last lines the server wrote on stderr, as ` (stderr: ...)`, escaped; empty when there are none."""
        if self._stderr is None:
            return ""
        descriptor = self._stderr.fileno()
        size = os.fstat(descriptor).st_size
        tail = os.pread(descriptor, _STDERR_TAIL_BYTES, max(0, size - _STDERR_TAIL_BYTES))
        lines = [line.strip() for line in tail.decode("utf-8", "replace").splitlines() if line.strip()]
        if not lines:
            return ""
        return f" (stderr: {printable(' | '.join(lines[-_STDERR_TAIL_LINES:]))})"


def declare_tools(
    tools: list[Any], label: str, warn: Callable[[str], None]
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Each MCP tool as a declaration under an API name, and the map API name → MCP name.

    An optional parameter the API's subset cannot say is left out of its tool's declaration, and a tool whose
    required parameters cannot all be said is left out (`warn` says which, and where in its schema); two tools
    whose names map to one function name are a usage error.
    """
    declarations: list[dict[str, Any]] = []
    original_names: dict[str, str] = {}
    for tool in tools:
        api_name = api_function_name(tool.name)
        if api_name in original_names:
            raise UsageError(
                f"{label}: the tools {printable(repr(original_names[api_name]))} and {printable(repr(tool.name))} "
                f"both become the function name {api_name!r}"
            )
        declaration: dict[str, Any] = {"name": api_name}
        description = tool.description or getattr(tool, "title", None)
        if description:
            declaration["description"] = description
        unsaid: list[SchemaNotConvertible] = []
        try:
            parameters = input_schema_to_api(tool.input_schema, left_out=unsaid.append)
            if parameters is not None:
                declaration["parameters"] = parameters
            declaration = check_declaration(declaration)
        except (SchemaNotConvertible, SchemaError) as exc:
            warn(
                f"{label}: tool {printable(repr(tool.name))} left out: its input schema cannot be declared "
                f"({printable(str(exc))})"
            )
            continue
        for refusal in unsaid:
            warn(
                f"{label}: tool {printable(repr(tool.name))}: optional parameter left out, the tool's default "
                f"applies ({printable(str(refusal))})"
            )
        original_names[api_name] = tool.name
        declarations.append(declaration)
    return declarations, original_names


async def _list_tools(client: Any) -> list[Any]:
    """Every tool the server lists, following its pagination cursor (bounded)."""
    tools: list[Any] = []
    cursor: str | None = None
    for _ in range(MAX_TOOL_PAGES):
        page = await client.list_tools(cursor=cursor)
        tools.extend(page.tools)
        cursor = page.next_cursor
        if cursor is None:
            break
    return tools


def api_function_name(name: str) -> str:
    """`name` as a function name the API takes (api_schema.NAME_PATTERN), unchanged when it already is one.

    Other characters become `_`, a leading digit or dash gets a `_` before it, and a name too long keeps its
    start and ends with 8 hex digits of its SHA-256, so two long names stay apart (docs/wire.md, "MCP servers as
    tools").
    """
    if NAME_PATTERN.fullmatch(name):
        return name
    mapped = re.sub(r"[^A-Za-z0-9_.:-]", "_", name)
    if not re.match(r"[A-Za-z_]", mapped):
        mapped = f"_{mapped}"
    if len(mapped) > MAX_NAME_LENGTH:
        digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        mapped = f"{mapped[: MAX_NAME_LENGTH - 9]}_{digest}"
    return mapped


def result_response(result: Any, name: str) -> dict[str, Any]:
    """A CallToolResult as the function response (README, "Tools").

    isError → ToolFailed with the content's text (sent as `{"error": ...}`); structuredContent, when present, is
    the response (a non-object `v` answers `{"result": v}`); otherwise the contents' text joined by newlines
    answers `{"result": text}`, with images, audio and resources summarised in brackets.
    """
    text = "\n".join(_content_text(block) for block in result.content or ())
    if result.is_error:
        raise ToolFailed(text or "the tool reported an error and no message")
    if result.structured_content is not None:
        return as_response(result.structured_content, name)
    return {"result": text}


def _content_text(block: Any) -> str:
    """One content block as text: text as it is, anything else summarised (the API's response is JSON)."""
    kind = getattr(block, "type", "?")
    if kind == "text":
        return str(block.text)
    if kind in ("image", "audio"):
        return f"[{kind} {block.mime_type}, {_decoded_size(block.data)} bytes]"
    if kind == "resource_link":
        return f"[resource {block.uri}]"
    if kind == "resource":
        resource = block.resource
        if isinstance(getattr(resource, "text", None), str):
            return str(resource.text)
        mime = f" {resource.mime_type}" if getattr(resource, "mime_type", None) else ""
        return f"[resource {resource.uri}{mime}, {_decoded_size(getattr(resource, 'blob', ''))} bytes]"
    return f"[{kind} content]"


def _decoded_size(data: str) -> int:
    try:
        return len(base64.b64decode(data, validate=False))
    except (binascii.Error, ValueError):
        return len(data) * 3 // 4


def _describe(exc: BaseException) -> str:
    """One line for a failure the SDK raised (an exception group is described by its first leaf)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if isinstance(exc, FileNotFoundError | PermissionError):
        return f"cannot run {exc.filename or 'the command'}: {exc.strerror}"
    text = printable(str(exc).replace("\n", " ").strip())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _masked_command(command: str) -> str:
    """The command with the value of each `NAME=value` word (`env TOKEN=... server`) shown as `...`."""
    try:
        words = shlex.split(command)
    except ValueError:
        return command
    return shlex.join(_ASSIGNMENT.sub(r"\1=...", word) for word in words)


def _masked_url(url: str) -> str:
    """The URL without its user:password@, and `?...` for its query (a token is often passed there)."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=netloc, query="..." if parts.query else "", fragment=""))
