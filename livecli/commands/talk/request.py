"""What `talk` was asked to do: the session options of send/text (a RunRequest), the devices, turn-taking."""

from __future__ import annotations

from dataclasses import dataclass

from livecli.audio.devices import DEFAULT_BUFFER_MS
from livecli.commands.request import RunRequest

__all__ = ["TalkRequest"]


@dataclass
class TalkRequest:
    """`talk`'s options. `run` holds everything a session of send/text takes (connection, model and session
    options, tools, --image, --record, --json, -q/-v, --chunk-ms); its `turn_end` is "vad" (server VAD) or, for
    --push-to-talk, "activity" (activityStart/activityEnd)."""

    run: RunRequest
    push_to_talk: bool = False
    headphones: bool = False  # full duplex: the microphone stays open while the model speaks
    input_device: str | None = None  # index or name substring (None: the default device)
    output_device: str | None = None
    buffer_ms: int = DEFAULT_BUFFER_MS
