"""What `chat` was asked to do: the session's options as `send`/`text` take them, plus chat's own."""

from __future__ import annotations

from dataclasses import dataclass

from livecli.audio.devices import DEFAULT_BUFFER_MS
from livecli.commands.request import RunRequest

__all__ = ["ChatRequest"]


@dataclass
class ChatRequest:
    """`run` holds the session options, tools, timeouts and display flags (no inputs: the lines are the turns;
    `turn_end` says how an /audio turn ends; `play`: each reply through the speaker); `save_dir`: each turn's
    reply as DIR/turn-N.wav; `output_device`, `buffer_ms`: the speaker of --play, as talk's
    (commands/talk/playback)."""

    run: RunRequest
    save_dir: str | None = None
    output_device: str | None = None
    buffer_ms: int = DEFAULT_BUFFER_MS
