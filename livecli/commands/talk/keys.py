"""Keys from the terminal for `talk`: space and Enter, read without waiting for a line (terminals send no key
release, so push-to-talk toggles on space).

The terminal is put in cbreak mode (no echo, no line buffering; Ctrl-C still interrupts) and restored on close;
stdin is read by the event loop (`add_reader`), so a key wakes the driving task like a frame would. Standard
library only: `termios`/`tty` where they exist; without a terminal there are no keys.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from typing import Protocol

__all__ = ["KeySource", "NoKeys", "TerminalKeys"]

SPACE = " "
ENTER = "\n"


class KeySource(Protocol):
    """Calls `deliver(key)` on the event loop's thread for each key pressed (" " or "\\n")."""

    def start(self, deliver: Callable[[str], None]) -> None: ...

    def close(self) -> None: ...


class NoKeys:
    """No terminal: no keys."""

    def start(self, deliver: Callable[[str], None]) -> None:
        pass

    def close(self) -> None:
        pass


class TerminalKeys:
    """Space and Enter from the terminal on file descriptor `fd` (stdin)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._saved: list[object] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self, deliver: Callable[[str], None]) -> None:
        import termios
        import tty

        self._saved = termios.tcgetattr(self.fd)
        tty.setcbreak(self.fd)
        self._loop = asyncio.get_running_loop()

        def readable() -> None:
            try:
                data = os.read(self.fd, 64)
            except OSError:
                data = b""
            if not data:  # end of input: no more keys
                self._stop_reading()
                return
            for key in data.decode("utf-8", "replace").replace("\r", "\n"):
                if key in (SPACE, ENTER):
                    deliver(key)

        self._loop.add_reader(self.fd, readable)

    def _stop_reading(self) -> None:
        if self._loop is not None:
            with contextlib.suppress(Exception):
                self._loop.remove_reader(self.fd)
            self._loop = None

    def close(self) -> None:
        self._stop_reading()
        if self._saved is not None:
            import termios

            with contextlib.suppress(OSError):
                termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)  # type: ignore[arg-type]
            self._saved = None
