"""`livecli chat`'s own options, and the shared ones it words for turns rather than files (as `text` does in
livecli.cli.options). Imports only typer and livecli.cli: `livecli --help` must stay fast."""

from __future__ import annotations

from typing import Annotated

import typer

from livecli.cli import media_options as m
from livecli.cli import options as o
from livecli.cli import send as s

__all__ = ["ChatImages", "ChatJson", "ChatTurnEnd", "SaveDir"]

SaveDir = Annotated[
    str | None,
    typer.Option("--save-dir", metavar="DIR", help="Write each turn's reply audio to DIR/turn-N.wav."),
]
ChatTurnEnd = o.reworded_option(
    s.TurnEnd,
    "How an /audio turn ends. silence (default): server VAD + trailing silence; vad: server VAD + "
    "audioStreamEnd; activity: activityStart/End brackets (VAD off).",
)
ChatJson = o.reworded_option(o.JsonEvents, "One JSON object per event on stdout (instead of the transcript).")
ChatImages = o.reworded_option(m.Images, "An image sent with the first turn (repeatable); /image FILE sends more.")
