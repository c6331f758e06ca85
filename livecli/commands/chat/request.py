"""What `chat` was asked to do: the session's options as `send`/`text` take them, plus chat's own."""

from __future__ import annotations

from dataclasses import dataclass

from livecli.audio.devices import DEFAULT_BUFFER_MS
from livecli.commands.request import RunRequest

__all__ = ["ChatRequest"]


@dataclass
class ChatRequest:
    """`run` holds the session options, tools, timeouts and display flags (no inputs: the lines are the turns;
    `turn_end` says how an /audio turn ends); `save_dir`: each turn's reply as DIR/turn-N.wav; `play`: each
    reply through the speaker (`output_device`, `buffer_ms`: talk's playback path, commands/talk/playback)."""

    run: RunRequest
    save_dir: str | None = None
    play: bool = False
    output_device: str | None = None
    buffer_ms: int = DEFAULT_BUFFER_MS
