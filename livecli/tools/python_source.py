"""`--tools FILE.py`: the public functions of a Python module, declared from their annotations and run in-process.

Every function defined in the module (not imported into it) whose name does not start with `_` is declared
(livecli.tools.python_schema) and called with the model's arguments: a coroutine function is awaited, any other
function runs in a daemon thread of its own so the session keeps reading while it works. A cancelled call
cancels the coroutine; a thread cannot be stopped, so its result is dropped when it finishes, and being a daemon
it cannot keep livecli from exiting (the event loop's default executor would be waited for at the end).

What the module prints (on import, or from its functions) never reaches stdout, which carries livecli's data: once
a module is loaded, sys.stdout sends each line to stderr, escaped, secrets masked (`ToolPrints`).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import inspect
import io
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

from livecli.errors import UsageError
from livecli.protocol.redact import printable
from livecli.tools.api_schema import SchemaError, check_declaration
from livecli.tools.base import ToolFailed
from livecli.tools.python_schema import coerce_args, function_declaration
from livecli.tools.responses import as_response

__all__ = ["PythonSource", "ToolPrints"]

# A printed line longer than this is shown in pieces, so a print without a newline cannot grow without end.
MAX_PRINTED_LINE = 8192


class PythonSource:
    """The functions of one Python file (a ToolSource)."""

    def __init__(self, path: str, mask: Callable[[str], str] = str) -> None:
        """`mask` hides the run's secrets in what the module prints."""
        self.path = path
        self._mask = mask
        self._functions: dict[str, Callable[..., Any]] = {}
        self._declarations: list[dict[str, Any]] = []

    @property
    def label(self) -> str:
        return f"--tools {self.path}"

    async def start(self) -> None:
        """Import the module and declare its functions; a module that cannot be used is a UsageError."""
        ToolPrints.install(self._mask)
        module = _import(Path(self.path), self.label)
        for name, value in vars(module).items():
            if name.startswith("_") or not inspect.isfunction(value) or value.__module__ != module.__name__:
                continue
            try:
                self._declarations.append(check_declaration(function_declaration(name, value)))
            except SchemaError as exc:
                raise UsageError(f"{self.label}: {exc}") from None
            self._functions[name] = value
        if not self._functions:
            raise UsageError(f"{self.label}: the module defines no public function (names not starting with _)")

    def declarations(self) -> list[dict[str, Any]]:
        return list(self._declarations)

    async def call(self, name: str, args: dict[str, Any], *, call_id: str) -> dict[str, Any]:
        fn = self._functions[name]
        try:
            kwargs = coerce_args(fn, args)
            inspect.signature(fn).bind(**kwargs)
        except (TypeError, ValueError) as exc:
            raise ToolFailed(f"bad arguments for {name}: {exc}") from None
        try:
            if inspect.iscoroutinefunction(fn):
                result = await fn(**kwargs)
            else:
                result = await _in_thread(name, fn, kwargs)
        except Exception as exc:  # the function's own failure is its answer, not livecli's
            raise ToolFailed(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__) from None
        return as_response(result, name)

    async def aclose(self) -> None:
        self._functions.clear()


async def _in_thread(name: str, fn: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    """`fn(**kwargs)` in a daemon thread; its result or exception, or CancelledError at once when cancelled."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[Any] = loop.create_future()

    def settle(result: Any, error: BaseException | None) -> None:
        if done.done():
            return  # cancelled meanwhile: the result is dropped
        if error is not None:
            done.set_exception(error)
        else:
            done.set_result(result)

    def run() -> None:
        try:
            result, error = fn(**kwargs), None
        except BaseException as exc:  # handed to the loop, raised there as the call's failure
            result, error = None, exc
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits for this any more
            loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(target=run, name=f"livecli tool {name}", daemon=True).start()
    return await done


def _import(path: Path, label: str) -> ModuleType:
    """Run the file as a module of its own name (registered, so dataclasses and annotations resolve)."""
    if not path.is_file():
        raise UsageError(f"{label}: no such file")
    name = f"livecli_tools_{abs(hash(str(path.resolve())))}_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise UsageError(f"{label}: not a Python module (give a .py file)")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        with _importable_siblings(path.parent):
            spec.loader.exec_module(module)
    except SyntaxError as exc:
        sys.modules.pop(name, None)
        raise UsageError(f"{label}: line {exc.lineno}: {exc.msg}") from None
    except (Exception, SystemExit) as exc:
        sys.modules.pop(name, None)
        raise UsageError(f"{label}: importing it failed: {type(exc).__name__}: {exc}") from None
    return module


@contextlib.contextmanager
def _importable_siblings(folder: Path) -> Iterator[None]:
    """While the module runs, modules next to it can be imported (as when it is run as a script)."""
    entry = str(folder.resolve())
    sys.path.insert(0, entry)
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(entry)


class ToolPrints(io.TextIOBase):
    """sys.stdout once a --tools module is loaded: what it prints goes to stderr a line at a time, escaped
    (livecli.protocol.redact.printable) and with the run's secrets masked; a failing stderr drops it.

    Process-wide and kept for the rest of the run: the functions run in threads, and one that outlives its call
    (cancelled, it cannot be stopped) may print while the reply is being written. livecli's own data never goes
    through sys.stdout: it is written to the stream the run captured at its start (livecli.env.Env.stdout).
    """

    def __init__(self, target: TextIO | None, mask: Callable[[str], str], replaced: object = None) -> None:
        super().__init__()
        self.target = target
        # The stdout it stands for, kept alive: a text stream that is garbage collected closes its buffer, which
        # is the data stream livecli writes to (Env.stdout).
        self.replaced = replaced
        self.mask = mask
        self._pending = ""
        self._lock = threading.Lock()

    @classmethod
    def install(cls, mask: Callable[[str], str]) -> None:
        """Make sys.stdout one (once; a later run's `mask` replaces the earlier one's)."""
        if isinstance(sys.stdout, ToolPrints):
            sys.stdout.mask = mask
        else:
            sys.stdout = cls(sys.stderr, mask, replaced=sys.stdout)

    def write(self, text: str) -> int:
        with self._lock:
            self._pending += text
            *lines, self._pending = self._pending.split("\n")
            while len(self._pending) > MAX_PRINTED_LINE:
                lines.append(self._pending[:MAX_PRINTED_LINE])
                self._pending = self._pending[MAX_PRINTED_LINE:]
            for line in lines:
                self._show(line)
        return len(text)

    def flush(self) -> None:
        with self._lock:
            if self._pending:
                self._show(self._pending)
                self._pending = ""

    def writable(self) -> bool:
        return True

    def _show(self, line: str) -> None:
        if self.target is None:
            return
        try:
            self.target.write(printable(self.mask(line)) + "\n")
            self.target.flush()
        except (OSError, ValueError):  # stderr is closed or full: the display is off, not the run
            self.target = None
