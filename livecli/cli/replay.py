"""`livecli replay DIR`: options only; the work is in livecli.commands.replay. Imports only typer, the standard
library and livecli.cli at module level (`livecli --help` stays fast)."""

from typing import Annotated, Any

import typer

from livecli.cli import option_groups as g
from livecli.cli import options as o
from livecli.cli.boundary import exit_status, guarded
from livecli.cli.option_groups import Param

__all__ = ["register"]

_HELP = (
    "Send a recording's client side again (made by --record or serve --record; docs/recording.md) and compare "
    "the replies with the recorded ones: the number of turns, transcripts, text, tool calls, reply duration "
    "within --tolerance, and the exit status the session's end means. Exit 5 on a difference. It connects as "
    "send does: the service by default, --local for the in-process server, --endpoint URL for any other."
)

Directory = Annotated[str, typer.Argument(metavar="DIR", help="The recording directory.")]
Tolerance = Annotated[
    float,
    typer.Option(
        "--tolerance",
        metavar="FRACTION",
        min=0.0,
        help="How much longer or shorter a reply may be than the recorded one (0.25 = 25 %; never under 0.1 s).",
    ),
]
JsonReport = Annotated[
    bool, typer.Option("--json", help="Print the comparison (turns both ways, differences) as one JSON object.")
]


def register(app: typer.Typer) -> None:
    """Add the `replay` command to the app."""
    app.command("replay", help=_HELP, short_help="Replay a recording and compare the replies.")(replay)


# A recording names its own model: replay connects with the rest of the connect options.
@g.declare(
    Param("directory", Directory),
    keyword=(
        *g.without(g.CONNECT, "model"),
        *g.only(g.PACING, "speed"),
        *g.only(g.LIMITS, "timeout", "connect_timeout"),
        Param("tolerance", Tolerance, 0.25),
        Param("json", JsonReport, False),
        *g.only(g.DISPLAY, "traceback"),
    ),
    context=False,
)
def replay(**params: Any) -> None:
    """Replay a recording and compare the replies with the recorded ones."""

    def action() -> int:
        from livecli.commands.replay import ReplayRequest, run
        from livecli.env import Env

        connect, _ = o.connect_options({**params, "model": None})
        request = ReplayRequest(
            params["directory"],
            connect,
            params["speed"],
            params["timeout"],
            params["connect_timeout"],
            tolerance=params["tolerance"],
            json=params["json"],
        )
        return run(request, Env.from_process(), exit_status)

    guarded(action, traceback=params["traceback"])
