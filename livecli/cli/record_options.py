"""`--record DIR` (send, text and batch), declared once as an Annotated alias (docs/recording.md).

As in livecli.cli.options, the parameter is named after the RunRequest field it fills and its `=` default is
that field's. Imports only typer and the standard library: `livecli --help` stays fast.
"""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["Record"]

Record = Annotated[
    str | None,
    typer.Option(
        "--record",
        metavar="DIR",
        help="Record the session into DIR: every frame both ways (frames.jsonl), the audio sent and received "
        "(input.wav, reply.wav), the setup and target without secrets, the outcome. Replay it with "
        "`livecli replay DIR` or `livecli serve --replay DIR`.",
    ),
]
