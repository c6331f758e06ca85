"""The command line: the Typer app and `main()`.

Commands are declared in small modules (send, serve, auth; the options they share are the aliases of
livecli.cli.options) that hold options only and call one function each through the one error boundary,
livecli.cli.boundary.guarded. Only typer is imported at
start-up: numpy, soundfile, websockets and google-auth are imported where they are used, so `--help` and
`--version` stay fast.
"""

from __future__ import annotations

import contextlib
import copy
import sys
from collections.abc import Iterator
from typing import Any

import typer
from typer import _click as click  # Typer's own copy of click, whose classes its commands are built from
from typer.core import TyperCommand, TyperGroup

from livecli import __version__
from livecli.cli import auth, batch, chat, devices, models, replay, report, send, serve, talk
from livecli.cli.boundary import terminate_like_ctrl_c
from livecli.cli.exit_status import EXIT_STATUS_HELP, ExitStatus

__all__ = ["app", "main"]


class RootGroup(TyperGroup):
    """The root command: after the command list, the exit-status table and the environment variables, laid
    out by click's help formatter (so they wrap to the terminal) and built only when help is shown."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from livecli.auth.target import ENVIRONMENT_VARIABLES  # here, not at start-up: only help needs it

        sections = (
            ("Exit status", [(str(int(status)), text) for status, text in EXIT_STATUS_HELP.items()]),
            ("Environment variables (a flag wins over its variable)", list(ENVIRONMENT_VARIABLES.items())),
        )
        for title, rows in sections:
            with formatter.section(title):
                formatter.write_dl(rows)
        super().format_epilog(ctx, formatter)

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        with _usage_errors_in_one_line():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        with _usage_errors_in_one_line():  # a command's own parsing happens inside the root's invoke
            return super().invoke(ctx)


@contextlib.contextmanager
def _usage_errors_in_one_line() -> Iterator[None]:
    """Bad input gets one clear line on stderr: click's usage errors (bad value, missing argument, unknown
    option or command) print as `livecli: error: <what> (see 'livecli text --help')` and exit 2, instead of
    click's Usage/Try/Error block. `livecli` alone still shows the help (click raises that as a usage error
    too)."""
    try:
        yield
    except click.exceptions.NoArgsIsHelpError:
        raise
    except click.exceptions.UsageError as error:
        from livecli.cli.boundary import one_line

        command = error.ctx.command_path if error.ctx is not None else "livecli"
        what = one_line(error.format_message()).rstrip(".")
        click.echo(f"livecli: error: {what} (see '{command} --help')", err=True)
        raise typer.Exit(ExitStatus.USAGE) from None


class PlainHelpCommand(TyperCommand):
    """A command whose help names its arguments as click does (`FILE...`), without Typer's `{FILE...}...` in
    the usage line and `<list[str]>` type labels in the Arguments section."""

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        return pieces + [_argument_usage(p) for p in self.get_params(ctx) if p.param_type_name == "argument"]

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        params = self.get_params(ctx)
        arguments = [
            (_argument_name(p), getattr(p, "help", None) or "")
            for p in params
            if p.param_type_name == "argument" and not getattr(p, "hidden", False)
        ]
        # Options given a `rich_help_panel` get a section of that title after the others, in order of appearance.
        sections: dict[str, list[tuple[str, str]]] = {"Arguments": arguments, "Options": []}
        for p in params:
            if p.param_type_name == "option" and (record := p.get_help_record(ctx)):
                sections.setdefault(getattr(p, "rich_help_panel", None) or "Options", []).append(record)
        for title, rows in sections.items():
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


def _argument_name(param: click.Parameter) -> str:
    name = param.metavar or (param.name or "").upper()
    return name if param.nargs == 1 or name.endswith("...") else name + "..."


def _argument_usage(param: click.Parameter) -> str:
    return _argument_name(param) if param.required else f"[{_argument_name(param)}]"


app = typer.Typer(
    name="livecli",
    help="Command-line client for the Gemini Live API, with a local Live-compatible server.",
    cls=RootGroup,
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


# Each command module only declares options; heavy imports happen inside the commands.
for _commands in (send, chat, talk, devices, serve, auth, models, batch, replay, report):
    _commands.register(app)
for _command in app.registered_commands:
    _command.cls = PlainHelpCommand


# livecli's matrix products are small (a resampler's filter bank, 40 ms blocks): a BLAS thread pool only adds
# worker threads that spin between calls, which cost `livecli serve` 4x the CPU per stream in bench_server_scale.
_BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def main() -> None:
    """Console-script entry point."""
    import os

    for name in _BLAS_THREAD_VARIABLES:  # before numpy is imported; a user's own setting wins
        os.environ.setdefault(name, "1")
    terminate_like_ctrl_c()
    invoked_app(sys.argv[1:])()


def invoked_app(args: list[str]) -> typer.Typer:
    """The app with only the commands `args` need turned into Click commands.

    Typer converts every registered command's options on each run (~1 ms per 10 options; send and text have
    about 80 each), so `livecli send …` builds only `send`, root options alone (`--version`) build none, and the
    root's help builds each command as its summary only (the listing shows nothing else). No arguments (shell
    completion runs that way) or an unknown command name keep every command whole, so completions and "No such
    command" stay right.
    """
    commands = app.registered_commands
    first = next((arg for arg in args if not arg.startswith("-")), None)
    if first is None and {"-h", "--help"} & set(args):
        wanted = [_summary_only(c) for c in commands]
    elif first is None and args:
        wanted = []
    elif first is not None and any(c.name == first for c in commands):
        wanted = [c for c in commands if c.name == first]
    else:
        return app
    pruned = copy.copy(app)
    pruned.registered_commands = wanted
    return pruned


def _summary_only(command: typer.models.CommandInfo) -> typer.models.CommandInfo:
    """`command` without its options: the same name, help and summary, for the root's command listing."""

    def summary() -> None:  # never runs: only listed
        raise AssertionError("a summary-only command was invoked")

    summary.__doc__ = getattr(command.callback, "__doc__", None)
    listed = copy.copy(command)
    listed.callback = summary
    return listed
