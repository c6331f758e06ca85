"""`--play` (send, text, chat), declared once as an Annotated alias: the reply through the speaker as it arrives,
by the playback path of `talk` (the talk extra). Imports only typer: `livecli --help` stays fast."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["Play"]

Play = Annotated[
    bool,
    typer.Option(
        "--play",
        help="Play the reply through the speaker as it arrives (the default output device; livecli[talk]).",
    ),
]
