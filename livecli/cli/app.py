"""The command line: the Typer app, the one error boundary, and `main()`.

Commands are declared in small modules (send, serve, auth; the options they share are the aliases of
options) that hold options only and call one function each through `guarded()`. Only typer is imported at
start-up: numpy, soundfile, websockets and google-auth are imported where they are used, so `--help` and
`--version` stay fast.
"""

from __future__ import annotations

import contextlib
import copy
import sys
from collections.abc import Callable
from typing import NoReturn

import typer

from livecli import __version__
from livecli.cli.exit_status import EXIT_STATUS_HELP, ExitStatus, exit_status_for
from livecli.errors import LivecliError

__all__ = ["app", "exit_status", "guarded", "main"]

EXIT_TABLE = "\n".join(f"  {int(s):>3}  {text}" for s, text in EXIT_STATUS_HELP.items())

app = typer.Typer(
    name="livecli",
    help=(
        "Command-line client for the Gemini Live API, with a local Live-compatible server.\n\n"
        f"Exit status:\n\n\b\n{EXIT_TABLE}"
    ),
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_show_locals=False,  # locals may hold credentials
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        print(f"livecli {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Command-line client for the Gemini Live API."""


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
        _silence_stdout()
        sys.stderr.write("livecli: stdout was closed by its reader (broken pipe)\n")
        raise typer.Exit(int(ExitStatus.BROKEN_PIPE)) from None
    except KeyboardInterrupt as exc:
        interrupted = exit_status(exc)
        sys.stderr.write(f"livecli: {'terminated' if interrupted == ExitStatus.TERMINATED else 'interrupted'}\n")
        raise typer.Exit(int(interrupted)) from None
    except (typer.Exit, typer.Abort, SystemExit):
        raise
    except Exception as exc:
        if traceback:
            import traceback as tb

            tb.print_exc(file=sys.stderr)
        if isinstance(exc, LivecliError):
            sys.stderr.write(f"livecli: error: {_one_line(str(exc))}\n")
        else:
            sys.stderr.write(f"livecli: internal error: {type(exc).__name__}: {_one_line(str(exc))}\n")
        raise typer.Exit(int(exit_status(exc))) from None
    raise typer.Exit(int(status or 0))


def exit_status(exc: BaseException) -> ExitStatus:
    """The exit status for `exc` (the table's), where a KeyboardInterrupt that SIGTERM caused is 143, not 130.

    Commands pass it to their use case, so a `--json` summary carries the status the process exits with.
    """
    if _terminated and isinstance(exc, KeyboardInterrupt):
        return ExitStatus.TERMINATED
    return exit_status_for(exc)


def _silence_stdout() -> None:
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _one_line(text: str) -> str:
    """Errors print on one line, with control characters escaped (text may come from a server)."""
    from livecli.protocol.redact import printable

    return printable(text.replace("\n", " "))


def _register() -> None:
    # Each module only declares options; heavy imports happen inside the commands.
    import importlib

    for name in ("livecli.cli.send", "livecli.cli.serve", "livecli.cli.auth"):
        importlib.import_module(name).register(app)


_register()


# livecli's matrix products are small (a resampler's filter bank, 40 ms blocks): a BLAS thread pool only adds
# worker threads that spin between calls, which cost `livecli serve` 4x the CPU per stream in bench_server_scale.
_BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def main() -> None:
    """Console-script entry point."""
    import os

    for name in _BLAS_THREAD_VARIABLES:  # before numpy is imported; a user's own setting wins
        os.environ.setdefault(name, "1")
    _terminate_like_ctrl_c()
    invoked_app(sys.argv[1:])()


_terminated = False


def _terminate_like_ctrl_c() -> None:
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


def invoked_app(args: list[str]) -> typer.Typer:
    """The app with only the commands `args` need turned into Click commands.

    Typer converts every registered command's options on each run (~2 ms per command with 30 options), so
    `livecli send …` builds only `send`, and root options alone (`--version`) build none. Help, no
    arguments or an unknown command name keep every command, so listings and "No such command" stay right.
    """
    commands = app.registered_commands
    first = next((arg for arg in args if not arg.startswith("-")), None)
    if first is None and args and not {"-h", "--help"} & set(args):
        wanted: list[typer.models.CommandInfo] = []
    elif first is not None and any(c.name == first for c in commands):
        wanted = [c for c in commands if c.name == first]
    else:
        return app
    pruned = copy.copy(app)
    pruned.registered_commands = wanted
    return pruned
