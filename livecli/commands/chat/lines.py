"""Where `chat`'s lines come from: a terminal (readline: line editing and history) or a pipe, one line at a time.

Reading blocks, and the session must go on meanwhile (keepalive, goAway, tool answers), so each line is read in a
daemon thread of its own and handed to the event loop: a Ctrl-C while a line is being typed ends the conversation
at once, and the thread left waiting in `input()` cannot keep the process from exiting (the default executor's
threads would: asyncio.run waits for them). The terminal's settings are saved first and put back on close, since
readline changes them while it waits for a line.

The history file is `$XDG_STATE_HOME/livecli/chat_history` (default `~/.local/state/livecli/chat_history`, the
XDG base directory for state), at most HISTORY_LINES lines, appended to after every line typed; a history that
cannot be read or written is no history, never a failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, BinaryIO

from livecli.errors import UsageError

if TYPE_CHECKING:
    from livecli.env import Env

__all__ = ["HISTORY_LINES", "MAX_LINE_BYTES", "PROMPT", "LineSource", "history_path", "is_terminal", "open_lines"]

PROMPT = "> "
HISTORY_LINES = 1000
MAX_LINE_BYTES = 1 << 20  # as for a prompt on stdin (livecli.cli.send): far more than a turn's text


def history_path(environ: Mapping[str, str]) -> str | None:
    """Where typed lines are kept between runs (None: no home to keep them in)."""
    state = environ.get("XDG_STATE_HOME") or ""
    if not os.path.isabs(state):  # the XDG spec: a relative path is invalid and ignored
        home = environ.get("HOME") or ""
        if not os.path.isabs(home):
            return None
        state = os.path.join(home, ".local", "state")
    return os.path.join(state, "livecli", "chat_history")


def is_terminal(stream: object) -> bool:
    """Whether `stream` is a terminal (an in-memory or closed stream is not)."""
    try:
        return os.isatty(stream.fileno())  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return False


class LineSource:
    """Lines of a pipe (or of a terminal when stdout is not one too): no prompt, no line editing.

    A stream with a descriptor is read with os.read, not through its buffered reader: a thread still blocked in
    the reader when the run ends would hold the reader's lock, and the interpreter aborts at exit (SIGABRT)
    when it cannot take it. A line is at most MAX_LINE_BYTES (an endless one, `chat < /dev/zero`, is refused).
    """

    def __init__(self, stdin: BinaryIO) -> None:
        self.stdin = stdin
        self.interactive = False
        try:
            self._fd: int | None = stdin.fileno()
        except (OSError, ValueError):  # in memory (tests), or closed
            self._fd = None
        self._pending = bytearray()

    def _read_line(self) -> str | None:
        """One line without its line end; None at end of input (blocking: runs in the reader thread)."""
        if self._fd is None:
            data = b"" if self.stdin.closed else self.stdin.readline(MAX_LINE_BYTES + 1)
        else:
            while b"\n" not in self._pending and len(self._pending) <= MAX_LINE_BYTES:
                chunk = os.read(self._fd, 65536)
                if not chunk:
                    break
                self._pending += chunk
            end = self._pending.find(b"\n")
            data = bytes(self._pending[: end + 1] if end >= 0 else self._pending)
            del self._pending[: len(data)]
        if len(data.rstrip(b"\r\n")) > MAX_LINE_BYTES:
            raise UsageError(
                f"a line of the input is longer than {MAX_LINE_BYTES >> 20} MiB (the most livecli reads)"
            )
        if not data:
            return None
        return data.decode("utf-8", "replace").rstrip("\r\n")

    def next_line(self, on_ready: Callable[[], None] = lambda: None) -> asyncio.Future[str | None]:
        """The next line (None: end of input), read in a daemon thread; `on_ready` runs in the loop right after
        the future is settled (it wakes the session's idle wait, which checks the future before it sleeps)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str | None] = loop.create_future()

        def settle(line: str | None, error: BaseException | None) -> None:
            if not future.done():
                if error is not None:
                    future.set_exception(error)
                else:
                    future.set_result(line)
            on_ready()

        def reader() -> None:
            try:
                line, error = self._read_line(), None
            except Exception as exc:  # handed to the loop, raised where the line is awaited
                line, error = None, exc
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile (the run ended)
                loop.call_soon_threadsafe(settle, line, error)

        threading.Thread(target=reader, name="livecli-chat-input", daemon=True).start()
        return future

    def close(self) -> None:
        """Put back what reading changed."""


class TerminalLines(LineSource):
    """Lines typed on a terminal through readline: a prompt, line editing and a history kept between runs."""

    def __init__(self, stdin: BinaryIO, prompt: str, history: str | None, commands: Sequence[str] = ()) -> None:
        super().__init__(stdin)
        import readline

        self.interactive = True
        self.prompt = prompt
        self.history = history
        self.commands = commands
        self._readline: Any = readline
        readline.set_completer_delims(" \t\n")  # a slash command or a path is one word
        readline.set_completer(self._complete)
        readline.parse_and_bind("tab: complete")
        self._saved_mode: list[Any] | None = None
        with contextlib.suppress(ImportError, OSError, ValueError):
            import termios

            self._saved_mode = termios.tcgetattr(stdin.fileno())
        readline.set_history_length(HISTORY_LINES)
        if history is not None:
            with contextlib.suppress(OSError):
                readline.read_history_file(history)

    def _complete(self, text: str, state: int) -> str | None:
        """Tab: a slash command at the start of the line, else a file name (what /audio, /image, /save take)."""
        if " " not in self._readline.get_line_buffer().lstrip():
            matches = [command + " " for command in self.commands if command.startswith(text)]
        else:
            matches = [
                path + ("/" if os.path.isdir(path) else "")
                for path in sorted(glob.glob(glob.escape(os.path.expanduser(text)) + "*"))
            ]
        return matches[state] if state < len(matches) else None

    def _read_line(self) -> str | None:
        try:
            line = input(self.prompt)
        except EOFError:  # Ctrl-D
            return None
        if line.strip() and self.history is not None:
            self._append_history()
        return line

    def _append_history(self) -> None:
        assert self.history is not None
        with contextlib.suppress(OSError):
            os.makedirs(os.path.dirname(self.history), mode=0o700, exist_ok=True)
            if not os.path.exists(self.history):
                os.close(os.open(self.history, os.O_WRONLY | os.O_CREAT, 0o600))  # typed lines are private
            self._readline.append_history_file(1, self.history)  # (and cuts the file to the history length)

    def close(self) -> None:
        if self._saved_mode is not None:
            with contextlib.suppress(ImportError, OSError, ValueError):
                import termios

                termios.tcsetattr(self.stdin.fileno(), termios.TCSADRAIN, self._saved_mode)


def open_lines(env: Env, *, prompt: str = PROMPT, commands: Sequence[str] = ()) -> LineSource:
    """readline on a terminal (stdin and stdout both terminals, where `input()` edits lines), completing
    `commands` and file names; else plain lines."""
    if is_terminal(env.stdin) and env.stdout_isatty:
        return TerminalLines(env.stdin, prompt, history_path(env.environ), commands)
    return LineSource(env.stdin)
