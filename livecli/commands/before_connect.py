"""What send, text, chat, talk and batch each do before connecting, defined once: the target, the --image frames,
the --record recording and how the server is reached.

Each step fails before any connection is made (a bad --image file, a --record directory that cannot be written,
credentials that cannot be found), so a usage error never costs a session.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from livecli.auth.target import resolve_target
from livecli.commands.input_loop import Reach, reach_target
from livecli.protocol.endpoints import LOCAL_PLACEHOLDER_URL

if TYPE_CHECKING:
    from livecli.client.record import ClientRecorder
    from livecli.commands.request import RunRequest
    from livecli.env import Env
    from livecli.media.images import ImageFrame
    from livecli.protocol.endpoints import Target
    from livecli.protocol.report import Reporter

__all__ = ["load_request_images", "preview_target", "reach_for", "start_recorder"]


def preview_target(req: RunRequest, env: Env, *, fetch_credentials: bool = True) -> Target:
    """The target the request names; for --local a placeholder URL until the in-process server is up (its port is
    known only then: `reach_for`)."""
    local_url = LOCAL_PLACEHOLDER_URL if req.connect.local else None
    return resolve_target(req.connect, env.environ, local_url=local_url, fetch_credentials=fetch_credentials)


def load_request_images(req: RunRequest) -> list[ImageFrame]:
    """The --image frames, read and (where needed) transcoded now: Pillow is imported only when asked for."""
    if not req.images:
        return []
    from livecli.media.images import load_images

    return load_images(req.images, req.media_resolution)


def start_recorder(
    req: RunRequest, target: Target, env: Env, *, command: str | None = None, case: str | None = None
) -> ClientRecorder | None:
    """--record DIR (docs/recording.md): every frame of every connection, created now, so a bad DIR fails here.
    `command`: the command recorded (default send or text, by the request); `case`: the batch case it is."""
    if req.record is None:
        return None
    from livecli.client.record import ClientRecorder

    command = command or ("send" if req.prompt is None else "text")
    return ClientRecorder.start(req.record, target=target, command=command, case=case, clock=env.clock)


def reach_for(req: RunRequest, env: Env, renderer: Reporter, target: Target) -> Reach:
    """How the loop reaches the server: for --local, the in-process server it starts; else `target` as is."""
    if req.connect.local:
        from livecli.commands.local_server import reach_local_server

        return reach_local_server(req, env, renderer)
    return reach_target(target)
