"""`livecli replay DIR`: send a recording's client side again and compare the replies with the recorded ones
(docs/recording.md, "Replay").

Where it connects is decided as for `send` (the same connect options: the service by default, `--local` for the
in-process server, `--endpoint URL` for any other); the recorded setup is sent as it was. What must match: the
number of turns, each turn's transcripts, text and tool calls, its reply duration within a tolerance, and the
exit status the session's end means (a close's class). A difference is a NoReplyError (exit 5) after the report.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from livecli.audio.recording import Recording, read_recording
from livecli.auth.target import ConnectOptions, resolve_target
from livecli.commands.input_loop import reach_target
from livecli.commands.replay_session import probe_connection, replay_connections
from livecli.env import write_all
from livecli.errors import NoReplyError, ServerClosed, UsageError
from livecli.protocol.recording import CLIENT, SERVER, parse_frame
from livecli.protocol.redact import printable, redact_url
from livecli.protocol.replay_diff import TurnSummary, compare, summarize_turns
from livecli.protocol.report import Reporter
from livecli.render.json_lines import terminal_safe_json

if TYPE_CHECKING:
    from livecli.commands.input_loop import Reach
    from livecli.env import Env

__all__ = ["DEFAULT_TOLERANCE", "ReplayRequest", "run"]

DEFAULT_TOLERANCE = 0.25  # a reply may be this fraction longer or shorter than the recorded one


@dataclass
class ReplayRequest:
    """What `livecli replay` was asked to do."""

    directory: str
    connect: ConnectOptions
    speed: float = 1.0
    timeout: float = 30.0
    connect_timeout: float = 10.0
    tolerance: float = DEFAULT_TOLERANCE
    json: bool = False


def run(req: ReplayRequest, env: Env, status_of: Callable[[BaseException], int]) -> int:
    """Replay, report, and raise NoReplyError when the replay differs from the recording."""
    recording = read_recording(req.directory)
    # A run whose upgrade was refused sent nothing: its recorded exit status is all there is to compare.
    never_connected = not recording.frames(CLIENT)
    recorded_status = _recorded_status(recording, status_of)
    if never_connected:
        recorded_status = int((recording.meta.get("outcome") or {}).get("exit_status") or 0)
        if not recorded_status:
            raise UsageError(f"recording {req.directory}: it holds no client frame to send")
    recorded = summarize_turns(recording.frame_text(line) for line in recording.frames(SERVER))
    reach = _reach(req, env)
    shown: list[str] = []

    async def replay() -> Any:
        async with reach() as target:
            shown.append(redact_url(target.url, target.secrets))
            if never_connected:
                return await probe_connection(target, connect_timeout=req.connect_timeout, environ=env.environ)
            return await replay_connections(
                recording,
                target,
                speed=req.speed,
                timeout=req.timeout,
                connect_timeout=req.connect_timeout,
                environ=env.environ,
            )

    replayed = asyncio.run(replay())
    if replayed.error is not None and _set_up(recording.frames(SERVER)) and not _set_up(replayed.frames):
        raise replayed.error  # the endpoint refused what the recorded one took: no replay to compare
    turns = summarize_turns(replayed.frames)
    status = int(status_of(replayed.error)) if replayed.error is not None else 0
    differences = compare(recorded, turns, tolerance=req.tolerance)
    if status != recorded_status:
        differences.append(
            {
                "what": "exit_status",
                "recorded": recorded_status,
                "replayed": status,
                "error": str(replayed.error) if replayed.error else None,
            }
        )
    report = {
        "type": "replay",
        "recording": req.directory,
        "endpoint": shown[0] if shown else None,
        "matches": not differences,
        "differences": differences,
        "recorded": {"turns": [t.as_json() for t in recorded], "exit_status": recorded_status},
        "replayed": {"turns": [t.as_json() for t in turns], "exit_status": status},
    }
    text = terminal_safe_json(report) + "\n" if req.json else _human(report, recorded, turns)
    write_all(env.stdout, text.encode("utf-8", "replace"))
    if differences:
        first = differences[0]
        where = f"turn {first['turn']} " if "turn" in first else ""
        raise NoReplyError(
            f"the replay differs from the recording in {len(differences)} place(s); first: {where}{first['what']}"
        )
    return 0


def _reach(req: ReplayRequest, env: Env) -> Reach:
    if req.connect.local:
        from livecli.commands.local_server import reach_local_server
        from livecli.commands.request import RunRequest

        return reach_local_server(RunRequest(connect=req.connect, speed=req.speed), env, Reporter())
    return reach_target(resolve_target(req.connect, env.environ))


def _set_up(frames: Iterable[dict[str, Any] | str | bytes]) -> bool:
    """Whether a setupComplete is among these frames (recorded lines or frames received)."""
    for frame in frames:
        message = frame["message"] if isinstance(frame, dict) else parse_frame(frame)
        if isinstance(message, dict) and "setupComplete" in message:
            return True
    return False


def _recorded_status(recording: Recording, status_of: Callable[[BaseException], int]) -> int:
    """The exit status the recorded session's end means: the class of the last connection's close when the
    server closed it with an error (or dropped it), else 0 (what a replay can reproduce; a failed --expect-*
    check is not on the wire)."""
    last = max((line["conn"] for line in recording.lines), default=0)
    ends = [line for line in recording.lines if line["conn"] == last and line.get("kind") in ("close", "drop")]
    if not ends or ends[0].get("from") != SERVER or ends[0].get("code") == 1000:
        return 0
    after_setup = any(
        isinstance(line.get("message"), dict) and "setupComplete" in line["message"]
        for line in recording.lines
        if line["conn"] == last
    )
    end = ends[0]
    return int(
        status_of(ServerClosed(int(end.get("code", 1006)), str(end.get("reason", "")), after_setup=after_setup))
    )


def _human(report: dict[str, Any], recorded: list[TurnSummary], turns: list[TurnSummary]) -> str:
    """The report for a person: what was replayed where, then one line per difference (server text escaped)."""
    lines = [
        f"replayed {printable(report['recording'])} against {report['endpoint']}: "
        f"{len(recorded)} turn(s) recorded, {len(turns)} replayed"
    ]
    for diff in report["differences"]:
        where = f"turn {diff['turn']}: " if "turn" in diff else ""
        lines.append(
            f"  {where}{diff['what']} differs: recorded {printable(repr(diff['recorded']))}, "
            f"replayed {printable(repr(diff['replayed']))}"
        )
    if report["matches"]:
        lines.append("the replay matches the recording")
    return "\n".join(lines) + "\n"
