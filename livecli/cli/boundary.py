"""The one error boundary: every command runs inside `guarded`, which turns what happened into one line on
stderr and the exit status of livecli.cli.exit_status; SIGTERM takes the Ctrl-C path.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from typing import NoReturn, TextIO

import typer

from livecli.cli.exit_status import ExitStatus, exit_status_for
from livecli.errors import LivecliError

__all__ = ["exit_status", "guarded", "one_line", "terminate_like_ctrl_c"]


def guarded(action: Callable[[], int | None], *, traceback: bool = False) -> NoReturn:
    """Run one command's function inside the one error boundary and exit with its status.

    Every LivecliError becomes one line on stderr and its exit status; Ctrl-C exits 130; anything else is an
    internal error (1) with one line. `traceback` adds the full trace (plain, without local variables, which
    may hold credentials) above that line; the exit status stays the same.
    """
    try:
        status = action()
    except BrokenPipeError:
        # The reader of stdout went away: say so once, and keep Python's exit-time flush from failing again.
        _silence(sys.stdout)
        _say("livecli: stdout was closed by its reader (broken pipe)")
        _exit(ExitStatus.BROKEN_PIPE)
    except KeyboardInterrupt as exc:
        interrupted = exit_status(exc)
        _say(f"livecli: {'terminated' if interrupted == ExitStatus.TERMINATED else 'interrupted'}")
        _exit(interrupted)
    except (typer.Exit, typer.Abort, SystemExit):
        raise
    except Exception as exc:
        if traceback and sys.stderr is not None:
            import traceback as tb

            with contextlib.suppress(OSError, ValueError):
                tb.print_exc(file=sys.stderr)
        if isinstance(exc, LivecliError):
            _say(f"livecli: error: {one_line(str(exc))}")
        else:
            _say(f"livecli: internal error: {type(exc).__name__}: {one_line(str(exc))}")
        _exit(exit_status(exc))
    _exit(status or 0)


def _exit(status: int) -> NoReturn:
    """Exit with `status`, after making sure the interpreter's own exit-time flush cannot change it.

    Python flushes sys.stdout and sys.stderr at exit and turns a failure there (a full device, a closed pipe)
    into a different exit status; a stream that cannot be flushed now is pointed at /dev/null instead.
    """
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            try:
                stream.flush()
            except (OSError, ValueError):
                _silence(stream)
    raise typer.Exit(int(status)) from None


def _say(line: str) -> None:
    """One line on stderr, if there is a stderr: closed (`2>&-`) or failing (`2>/dev/full`), it is silence."""
    if sys.stderr is None:
        return
    try:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        _silence(sys.stderr)


def exit_status(exc: BaseException) -> ExitStatus:
    """The exit status for `exc` (the table's), where a KeyboardInterrupt that SIGTERM caused is 143, not 130.

    Commands pass it to their use case, so a `--json` summary carries the status the process exits with.
    """
    if _terminated and isinstance(exc, KeyboardInterrupt):
        return ExitStatus.TERMINATED
    return exit_status_for(exc)


def _silence(stream: TextIO) -> None:
    """Point a standard stream's descriptor at /dev/null, so what it still holds is flushed there."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def one_line(text: str) -> str:
    """Errors print on one line, with control characters escaped (text may come from a server)."""
    from livecli.protocol.redact import printable

    return printable(text.replace("\n", " "))


_terminated = False


def terminate_like_ctrl_c() -> None:
    """SIGTERM (what CI runners and `timeout` send) takes the Ctrl-C path: the socket is closed and the reply so
    far written, then exit 143.

    SIGINT's own handler does the work when there is one (asyncio.run's cancels the running command, Python's
    raises KeyboardInterrupt). A process may have inherited SIGINT as ignored (`nohup`, a background job of a
    non-interactive shell, some CI runners); SIGTERM must still stop it, and SIGINT stays ignored.
    """
    import signal

    def on_term(signum: int, frame: object) -> None:
        global _terminated
        _terminated = True
        interrupt = signal.getsignal(signal.SIGINT)
        if callable(interrupt):
            interrupt(signal.SIGINT, frame)  # type: ignore[arg-type]
        else:
            _interrupt_main()

    with contextlib.suppress(ValueError, OSError):  # not the main thread, or no signals here
        signal.signal(signal.SIGTERM, on_term)


def _interrupt_main() -> None:
    """KeyboardInterrupt in the main thread where it is safe: between the event loop's callbacks when one is
    running (asyncio.run then cancels the command's tasks, so the socket is closed), else right here."""

    def interrupt() -> None:
        raise KeyboardInterrupt

    asyncio = sys.modules.get("asyncio")  # not imported yet: no loop can be running (and no import in a handler)
    try:
        loop = asyncio.get_running_loop() if asyncio is not None else None
    except RuntimeError:
        loop = None
    if loop is None:
        interrupt()
    else:
        loop.call_soon_threadsafe(interrupt)
