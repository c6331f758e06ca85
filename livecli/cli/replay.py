"""`livecli replay DIR`: options only; the work is in livecli.commands.replay. Imports only typer, the standard
library and livecli.cli at module level (`livecli --help` stays fast)."""

from typing import Annotated

import typer

from livecli.cli import options as o
from livecli.cli.boundary import exit_status, guarded

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


def replay(
    directory: Directory,
    *,
    api_key: o.ApiKey = None,
    token: o.Token = None,
    vertex: o.Vertex = None,
    project: o.Project = None,
    location: o.Location = None,
    api_version: o.ApiVersion = None,
    endpoint: o.Endpoint = None,
    local: o.Local = False,
    key_in_query: o.KeyInQuery = False,
    token_in_header: o.TokenInHeader = False,
    speed: o.Speed = 1.0,
    timeout: o.ReplyTimeout = 30.0,
    connect_timeout: o.ConnectTimeout = 10.0,
    tolerance: Tolerance = 0.25,
    json: JsonReport = False,
    traceback: o.Traceback = False,
) -> None:
    """Replay a recording and compare the replies with the recorded ones."""

    def action() -> int:
        from livecli.auth.target import ConnectOptions
        from livecli.commands.replay import ReplayRequest, run
        from livecli.env import Env

        connect = ConnectOptions(
            api_key=api_key,
            token=token,
            vertex=vertex,
            project=project,
            location=location,
            api_version=api_version,
            endpoint=endpoint,
            local=local,
            key_in_query=key_in_query,
            token_in_header=token_in_header,
        )
        request = ReplayRequest(
            directory, connect, speed, timeout, connect_timeout, tolerance=tolerance, json=json
        )
        return run(request, Env.from_process(), exit_status)

    guarded(action, traceback=traceback)
