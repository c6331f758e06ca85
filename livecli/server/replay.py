"""`serve --replay DIR`: answer any client with a recording's server side (docs/recording.md, "Serving a
recording"), so a session recorded against the service becomes an offline regression test for any client.

Each server action (frame, close, drop) of the recording is tagged with where the recorded client stood when the
server sent it: how many setups, how many turn ends (activityEnd, audioStreamEnd, a text turn, a clientContent
turn, a toolResponse) and how much audio since the last one. A connection's client is tracked the same way, and
an action goes out once that client has come as far, the recorded gap after it kept (`--reply-speed`; 0 =
unpaced). Turns are matched by order, not by content: what the client says is not checked. A connection without a
resumption handle starts the recording's next session (the k-th fresh client gets the k-th recorded session, round
and round); one resuming a handle the replay issued goes on where that session stood. The setup is not validated,
and the recorded handles, ids and transcripts go out as recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from livecli.audio.recording import Recording
from livecli.protocol.recording import CLIENT, SERVER, parse_frame, resumed_handle
from livecli.server.record import GuardedRecorder

__all__ = ["Progress", "ReplayServer", "client_progress", "recorded_actions"]

# realtimeInput members that end a user turn (docs/wire.md, "Client messages"): the brackets' end, the end of the
# audio stream under server VAD, and a text turn.
_TURN_ENDS = ("activityEnd", "activity_end", "audioStreamEnd", "audio_stream_end", "text")


@dataclass
class Progress:
    """How far a client has come: setups sent, turn ends sent, audio bytes since the last turn end."""

    setups: int = 0
    ends: int = 0
    audio: int = 0

    def reached(self, tag: Progress) -> bool:
        """Whether this client has come as far as the recorded one had when an action was sent."""
        if self.setups != tag.setups:
            return self.setups > tag.setups
        if self.ends != tag.ends:
            return self.ends > tag.ends
        return self.audio >= tag.audio


def client_progress(progress: Progress, message: Any) -> None:
    """Advance `progress` by one client message (live, or a recorded one)."""
    if not isinstance(message, dict):
        return
    if "setup" in message:
        progress.setups += 1
        progress.ends, progress.audio = 0, 0
        return
    realtime = message.get("realtimeInput", message.get("realtime_input"))
    ended = False
    if isinstance(realtime, dict):
        progress.audio += _audio_bytes(realtime)
        ended = any(key in realtime for key in _TURN_ENDS)
    content = message.get("clientContent", message.get("client_content"))
    if isinstance(content, dict) and content.get("turnComplete", content.get("turn_complete", False)):
        ended = True
    if "toolResponse" in message or "tool_response" in message:
        ended = True
    if ended:
        progress.ends += 1
        progress.audio = 0


def _audio_bytes(realtime: dict[str, Any]) -> int:
    """PCM bytes in a realtimeInput's audio: live (base64, measured without decoding) or recorded (the
    sidecar reference says how many)."""
    chunks = realtime.get("mediaChunks", realtime.get("media_chunks")) or []
    total = 0
    for blob in [realtime.get("audio"), *chunks]:
        if not isinstance(blob, dict) or not str(blob.get("mimeType", blob.get("mime_type", ""))).startswith(
            "audio"
        ):
            continue
        data = blob.get("data")
        if isinstance(data, str):
            total += len(data) * 3 // 4 - data[-2:].count("=")
        elif isinstance(data, dict):
            total += int(data.get("bytes", 0))
    return total


@dataclass
class Action:
    """One recorded server action: a frame (`frame`), or a close (`code`, `reason`), or a drop."""

    tag: Progress
    at: float  # when it was sent in the recording
    since: float  # when the recorded client reached `tag` (the gap before it counts from there)
    frame: str | None = None
    binary: bool = True  # sent as the recorded server sent it (the service: binary JSON)
    close: tuple[int, str] | None = None
    drop: bool = False


def recorded_actions(recording: Recording) -> tuple[list[Action], list[int]]:
    """The recording's server actions in order, each tagged with the recorded client's progress; and where each
    recorded session starts among them (a setup with no resumption handle starts one: a server's recording may
    hold many clients)."""
    progress, reached_at = Progress(), 0.0
    actions: list[Action] = []
    starts: list[int] = []
    for line in recording.lines:
        sender, at = line.get("from"), float(line.get("t", 0.0))
        if sender == CLIENT and "message" in line:
            message = line["message"]
            fresh = isinstance(message, dict) and "setup" in message and resumed_handle(message) is None
            if fresh and (not starts or starts[-1] != len(actions)):
                starts.append(len(actions))
            client_progress(progress, line["message"])
            reached_at = at
        elif sender == SERVER:
            tag = Progress(progress.setups, progress.ends, progress.audio)
            if "message" in line:
                frame = recording.frame_text(line) if line["message"] is not None else None
                if frame is not None:
                    actions.append(Action(tag, at, reached_at, frame=frame, binary=bool(line.get("binary", True))))
            elif line.get("kind") == "close":
                actions.append(
                    Action(tag, at, reached_at, close=(int(line.get("code", 1000)), str(line.get("reason", ""))))
                )
            elif line.get("kind") == "drop":
                actions.append(Action(tag, at, reached_at, drop=True))
    return actions, starts or [0]


@dataclass
class _Session:
    """Where one replayed session stands in the recording (shared by the connections that resume it)."""

    position: int  # the next action
    end: int  # where the recorded session's actions end
    handles: set[str] = field(default_factory=set)


class ReplayServer:
    """The connection handler of `serve --replay`: `handler` replaces the simulated server's."""

    def __init__(
        self,
        recording: Recording,
        *,
        reply_speed: float,
        logger: logging.Logger,
        recorder: GuardedRecorder | None = None,
    ) -> None:
        self.actions, self.starts = recorded_actions(recording)
        self.directory = recording.directory
        self.reply_speed = reply_speed
        self.log = logger
        self.recorder = recorder if recorder is not None else GuardedRecorder(None, self.log)
        self._sessions: list[_Session] = []
        self._ids = itertools.count(1)

    async def handler(self, connection: ServerConnection) -> None:
        """Serve one connection: read the client, send each recorded action once the client has come as far."""
        conn = next(self._ids)
        self.log.info("connection %d opened (replaying %s)", conn, self.directory)
        path = connection.request.path.split("?")[0] if connection.request else ""
        self.recorder.write("event", conn, "conn", "open", path=path)
        progress = Progress()
        session: list[_Session] = []
        moved = asyncio.Event()
        sender = asyncio.create_task(self._send(connection, conn, progress, session, moved))
        try:
            async for message in connection:
                self.recorder.write("frame", conn, "in", message)
                parsed = parse_frame(message)
                if isinstance(parsed, dict) and "setup" in parsed and not session:
                    session.append(self._session_for(parsed))
                    progress.setups = self._setups_before(session[0])
                client_progress(progress, parsed)
                moved.set()
        except ConnectionClosed:
            pass
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                await sender
            self.log.info("connection %d closed: %s", conn, connection.close_code)
            self.recorder.write("event", conn, "conn", "closed", code=connection.close_code)

    def _session_for(self, message: dict[str, Any]) -> _Session:
        """The session a setup resumes (by a handle the replay sent), or a new one: the k-th fresh session is
        the recording's k-th session, round and round (one `serve --replay` serves any number of test runs)."""
        handle = resumed_handle(message)
        for session in self._sessions:
            if handle and handle in session.handles:
                return session
        index = len(self._sessions) % len(self.starts)
        bounds = [*self.starts, len(self.actions)]
        session = _Session(bounds[index], bounds[index + 1])
        self._sessions.append(session)
        return session

    def _setups_before(self, session: _Session) -> int:
        """How many setups the recorded client had sent before the session's next action (a resumed connection
        is the recording's next connection)."""
        if session.position >= session.end:
            return 0
        return self.actions[session.position].tag.setups - 1

    async def _send(
        self, ws: ServerConnection, conn: int, progress: Progress, holder: list[_Session], moved: asyncio.Event
    ) -> None:
        loop = asyncio.get_running_loop()
        reached_at: float | None = None
        last: Progress | None = None
        while True:
            if not holder or holder[0].position >= holder[0].end:
                moved.clear()
                await moved.wait()
                continue
            session = holder[0]
            action = self.actions[session.position]
            if not progress.reached(action.tag):
                moved.clear()
                await moved.wait()
                continue
            if last != action.tag:  # this action's trigger was reached now: its recorded gap counts from here
                reached_at, last = loop.time(), action.tag
            assert reached_at is not None
            if self.reply_speed > 0:
                await asyncio.sleep(
                    max(0.0, reached_at + (action.at - action.since) / self.reply_speed - loop.time())
                )
            session.position += 1
            await self._act(ws, conn, action, session)
            if action.close is not None or action.drop:
                return

    async def _act(self, ws: ServerConnection, conn: int, action: Action, session: _Session) -> None:
        if action.frame is not None:
            _note_handle(action.frame, session)
            self.recorder.write("frame", conn, "out", action.frame)
            await ws.send(action.frame.encode() if action.binary else action.frame)
        elif action.close is not None:
            self.recorder.write("event", conn, "out", "close", code=action.close[0], reason=action.close[1])
            await ws.close(*action.close)
        elif action.drop:
            self.recorder.write("event", conn, "out", "drop")
            ws.transport.abort()


def _note_handle(frame: str, session: _Session) -> None:
    """A handle the replay issues belongs to this session (a client resuming with it continues it)."""
    if "newHandle" not in frame:
        return
    message = parse_frame(frame)
    update = message.get("sessionResumptionUpdate") if isinstance(message, dict) else None
    if isinstance(update, dict) and update.get("newHandle"):
        session.handles.add(str(update["newHandle"]))


def replay_handler(directory: str, reply_speed: float, logger: logging.Logger, recorder: GuardedRecorder) -> Any:
    """The connection handler serving the recording in `directory` (read now: a bad one is a UsageError before
    the server listens)."""
    from livecli.audio.recording import read_recording

    server = ReplayServer(read_recording(directory), reply_speed=reply_speed, logger=logger, recorder=recorder)
    logger.info("replaying %s: %d recorded server actions", directory, len(server.actions))
    return server.handler
