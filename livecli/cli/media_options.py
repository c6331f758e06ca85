"""The media options of `send` and `text` (images and video, issue 11), each declared once as an Annotated alias.

As in livecli.cli.options, each parameter is named after the RunRequest field it fills, and its `=` default is
that field's default. Imports only typer and the standard library: `livecli --help` must not import Pillow.
"""

from __future__ import annotations

from typing import Annotated

import typer

from livecli.cli.options import complete_from

PANEL = "Images and video"  # their section in `--help`

__all__ = ["Fps", "Images", "MediaResolution", "Video", "VideoPrompt", "complete_media_resolution"]


# --media-resolution's values: the table behind them is livecli.media.images'.
complete_media_resolution = complete_from("livecli.media.images", "MEDIA_RESOLUTIONS")


Images = Annotated[
    list[str] | None,
    typer.Option(
        "--image",
        rich_help_panel=PANEL,
        metavar="FILE",
        help="An image to send with the first turn (repeatable): JPEG/PNG as they are when they fit, "
        "WebP, AVIF, GIF, BMP, TIFF… as JPEG. Needs livecli[media].",
    ),
]
MediaResolution = Annotated[
    str | None,
    typer.Option(
        "--media-resolution",
        rich_help_panel=PANEL,
        metavar="low|medium|high",
        autocompletion=complete_media_resolution,
        help="generationConfig.mediaResolution; images are scaled to a long side of 512/768/1536 px "
        "(default 1024).",
    ),
]
Video = Annotated[
    str | None,
    typer.Option(
        "--video",
        rich_help_panel=PANEL,
        metavar="FILE",
        help="A video (MP4, MOV, WebM, MKV…) as the input: frames at --fps and its audio track, interleaved in "
        "time and paced together; no FILE... needed. Needs livecli[media].",
    ),
]
Fps = Annotated[
    float,
    typer.Option(
        "--fps", metavar="N", rich_help_panel=PANEL, help="Video frames sent per second (above 0, at most 5)."
    ),
]
VideoPrompt = Annotated[
    str | None,
    typer.Option(
        "--prompt",
        rich_help_panel=PANEL,
        metavar="TEXT",
        help="Text sent in the video's turn after its frames and audio (a video without audio needs it under "
        "--turn-end vad|silence).",
    ),
]
