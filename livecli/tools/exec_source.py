"""`--tool-exec CMD`: each call runs a command, the call as JSON on stdin, its stdout JSON the response.

CMD is split like a shell word list (shlex) and run without a shell unless the user writes one (`sh -c '...'`).
Each call is its own process, in its own process group, with `{"id", "name", "args"}` on stdin and
LIVECLI_TOOL_NAME / LIVECLI_TOOL_CALL_ID in its environment. A non-zero exit, a signal, or stdout that is not
JSON is an error response saying why; what it wrote to stderr goes to `on_stderr` (the display escapes it).
Cancellation (toolCallCancellation, --tool-timeout, the session's end) kills the whole process group, so
a command's own children go too. Output is read in bounded pieces: a runaway command cannot fill the memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shlex
import shutil
import signal
from collections.abc import Callable, Mapping
from typing import Any

from livecli.errors import UsageError
from livecli.tools.base import ToolFailed
from livecli.tools.responses import as_response

__all__ = ["MAX_STDERR_BYTES", "MAX_STDOUT_BYTES", "ExecSource", "split_command"]

# The most of a command's stdout read as its answer (a toolResponse frame must stay well under the 16 MiB
# frame limit, docs/wire.md, "Limits"), and of its stderr kept to show.
MAX_STDOUT_BYTES = 4 << 20
MAX_STDERR_BYTES = 64 << 10
_READ_BYTES = 64 << 10

# Called with the function name, the call id and what the command wrote to stderr (not yet escaped).
OnStderr = Callable[[str, str, str], None]


def split_command(command: str, option: str) -> list[str]:
    """The argv of a command option, or UsageError (empty, unbalanced quotes)."""
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise UsageError(f"{option} {command!r}: {exc}") from None
    if not argv:
        raise UsageError(f"{option}: the command is empty")
    return argv


class ExecSource:
    """The functions declared by `--tools FILE.json`, answered by one command (a ToolSource)."""

    def __init__(
        self,
        command: str,
        declarations: list[dict[str, Any]],
        *,
        environ: Mapping[str, str],
        on_stderr: OnStderr | None = None,
    ) -> None:
        self.command = command
        self.argv = split_command(command, "--tool-exec")
        self._declarations = declarations
        self._environ = dict(environ)
        self._on_stderr = on_stderr
        self._running: set[asyncio.subprocess.Process] = set()

    @property
    def label(self) -> str:
        return f"--tool-exec {self.command}"

    async def start(self) -> None:
        """Check the command can be found (a typo is a usage error before connecting, not an error per call)."""
        program = self.argv[0]
        if shutil.which(program, path=self._environ.get("PATH", os.defpath)) is None:
            where = "is not an executable file" if os.sep in program else "is not found on PATH"
            raise UsageError(f"--tool-exec: {program} {where}")

    def declarations(self) -> list[dict[str, Any]]:
        return list(self._declarations)

    async def call(self, name: str, args: dict[str, Any], *, call_id: str) -> dict[str, Any]:
        payload = json.dumps({"id": call_id, "name": name, "args": args}, ensure_ascii=False).encode()
        environ = {**self._environ, "LIVECLI_TOOL_NAME": name, "LIVECLI_TOOL_CALL_ID": call_id}
        try:
            process = await asyncio.create_subprocess_exec(
                *self.argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=environ,
                start_new_session=True,  # its own process group: cancelling kills its children too
            )
        except OSError as exc:
            raise ToolFailed(f"cannot run {self.argv[0]}: {exc.strerror or exc}") from None
        self._running.add(process)
        try:
            out, err = await _communicate(process, payload)
        except BaseException:
            await _kill_group(process)
            raise
        finally:
            self._running.discard(process)
        if err and self._on_stderr is not None:
            self._on_stderr(name, call_id, err.decode("utf-8", "replace"))
        return _answer(name, process.returncode, out, err)

    async def aclose(self) -> None:
        """Kill every command still running (their calls are being cancelled)."""
        for process in list(self._running):
            await _kill_group(process)


async def _communicate(process: asyncio.subprocess.Process, payload: bytes) -> tuple[bytes, bytes]:
    """Write the call, read stdout and stderr (bounded), wait for the exit."""
    assert process.stdin is not None and process.stdout is not None and process.stderr is not None
    _, out, err = await asyncio.gather(
        _feed(process.stdin, payload),
        _read_capped(process.stdout, MAX_STDOUT_BYTES + 1),
        _read_capped(process.stderr, MAX_STDERR_BYTES),
    )
    await process.wait()
    return out, err


async def _feed(stdin: asyncio.StreamWriter, payload: bytes) -> None:
    """The call on stdin, then end of file; a command that does not read its input is not an error."""
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        stdin.write(payload)
        await stdin.drain()
    stdin.close()
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        await stdin.wait_closed()


async def _read_capped(stream: asyncio.StreamReader, limit: int) -> bytes:
    """At most `limit` bytes of `stream`; the rest is read and dropped, so the command never blocks on a pipe."""
    kept = bytearray()
    while piece := await stream.read(_READ_BYTES):
        if len(kept) < limit:
            kept += piece[: limit - len(kept)]
    return bytes(kept)


async def _kill_group(process: asyncio.subprocess.Process) -> None:
    """SIGKILL the command's process group and reap it."""
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    reaped = asyncio.ensure_future(process.wait())
    try:
        await asyncio.shield(reaped)
    except asyncio.CancelledError:  # cancelled again while reaping: SIGKILL was sent, so this is short
        await asyncio.shield(reaped)
        raise


def _answer(name: str, returncode: int | None, out: bytes, err: bytes) -> dict[str, Any]:
    """The function response for a finished command, or ToolFailed saying why there is none."""
    last = _last_line(err)
    said = f" ({last})" if last else ""
    if returncode is not None and returncode < 0:
        try:
            signame = signal.Signals(-returncode).name
        except ValueError:
            signame = f"signal {-returncode}"
        raise ToolFailed(f"the command was killed by {signame}{said}")
    if returncode:
        raise ToolFailed(f"the command exited with status {returncode}{said}")
    if len(out) > MAX_STDOUT_BYTES:
        raise ToolFailed(f"the command wrote more than {MAX_STDOUT_BYTES >> 20} MiB on stdout")
    if not out.strip():
        raise ToolFailed(f"the command wrote nothing on stdout (expected JSON){said}")
    try:
        value = json.loads(out)
    except (ValueError, RecursionError) as exc:
        start = out[:60].decode("utf-8", "replace")
        raise ToolFailed(f"the command's stdout is not JSON ({exc}); it began {start!r}") from None
    return as_response(value, name)


def _last_line(err: bytes, limit: int = 200) -> str:
    """The last non-empty line of stderr, cut to `limit` characters: why a command failed, in its own words."""
    lines = [line.strip() for line in err.decode("utf-8", "replace").splitlines() if line.strip()]
    if not lines:
        return ""
    return lines[-1] if len(lines[-1]) <= limit else lines[-1][: limit - 1] + "…"
