"""Re-sending a recording's client side (docs/recording.md, "Replay"): one link per recorded connection, each
client frame sent as recorded, paced, and never before the replies it waited for in the recording.

A client frame recorded after the k-th "sync" message of its connection (setupComplete, a turnComplete, a
toolCall) is sent once the replay's connection has received k of them too, then paced from that point with the
recorded gaps (`speed`: 0 = unpaced). So `--speed 0` does not talk over the server, and a slower server is waited
for (up to the reply timeout) instead of being interrupted. Frames are sent as recorded except what only the
recorded session could know: a resumption handle (the replay's newest one is used) and function call ids (the
replay's calls, matched by order).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from livecli.audio.recording import Recording
from livecli.client.transport import Closed, LinkClosed, open_target_link
from livecli.errors import LivecliError, NoReplyError, ServerClosed
from livecli.protocol.endpoints import Target
from livecli.protocol.recording import CLIENT, SERVER, parse_frame, resumed_handle

__all__ = [
    "CLOSE_MARGIN_S",
    "ConnectionPlan",
    "Replayed",
    "plan_connections",
    "probe_connection",
    "replay_connections",
    "sync_count",
]

# How much longer than the recorded server a replayed one may take to close the connection itself.
CLOSE_MARGIN_S = 1.0


def sync_count(message: Any) -> int:
    """How many of the messages a client waits for this server message is: setupComplete, turnComplete and
    toolCall (0 or 1; camelCase or snake_case)."""
    if not isinstance(message, dict):
        return 0
    content = message.get("serverContent", message.get("server_content"))
    turn_complete = isinstance(content, dict) and bool(content.get("turnComplete", content.get("turn_complete")))
    return int(
        turn_complete
        or "setupComplete" in message
        or "setup_complete" in message
        or "toolCall" in message
        or "tool_call" in message
    )


@dataclass
class Step:
    """One client frame: its line, how many sync messages preceded it on its connection, when it was sent."""

    line: dict[str, Any]
    waits: int
    at: float


@dataclass
class ConnectionPlan:
    """One recorded connection: its client frames, its sync messages' times, how it ended."""

    number: int
    opened_at: float = 0.0
    steps: list[Step] = field(default_factory=list)
    sync_times: list[float] = field(default_factory=list)
    closed_by: str | None = None  # CLIENT or SERVER
    close_code: int = 1000
    close_gap: float = 0.0  # how long after the connection's last frame the server closed it
    last_at: float = 0.0  # when the connection's last frame was recorded


def plan_connections(recording: Recording) -> list[ConnectionPlan]:
    """The recorded connections in order, each with the client frames to send again."""
    plans: dict[int, ConnectionPlan] = {}
    for line in recording.lines:
        plan = plans.setdefault(line["conn"], ConnectionPlan(line["conn"], opened_at=float(line.get("t", 0.0))))
        kind, sender, at = line.get("kind"), line.get("from"), float(line.get("t", 0.0))
        if "message" not in line:
            if kind in ("close", "drop") and plan.closed_by is None:
                plan.closed_by, plan.close_code = sender, int(line.get("code", 1006))
                plan.close_gap = max(0.0, at - plan.last_at)
            continue
        plan.last_at = at
        if sender == CLIENT and line["message"] is not None:
            plan.steps.append(Step(line, len(plan.sync_times), at))
        elif sender == SERVER:
            plan.sync_times += [at] * sync_count(line["message"])
    return [plans[number] for number in sorted(plans)]


@dataclass
class Replayed:
    """What the replay received: every server frame in order, and the error that ended it, if any."""

    frames: list[str | bytes] = field(default_factory=list)
    error: LivecliError | None = None
    handle: str | None = None  # the newest resumable handle
    call_ids: list[str] = field(default_factory=list)  # the function call ids, in order


async def replay_connections(
    recording: Recording,
    target: Target,
    *,
    speed: float,
    timeout: float,
    connect_timeout: float,
    environ: Mapping[str, str],
) -> Replayed:
    """Send every recorded connection's client frames again to `target`, one connection after the other.

    Raises the LivecliError when the first connection cannot be opened (nothing was replayed); a later one that
    cannot is the replay's outcome, compared with the recording's."""
    out = Replayed()
    recorded_ids = [
        call.get("id")
        for line in recording.frames(SERVER)
        if isinstance(line["message"], dict)
        for call in (line["message"].get("toolCall") or {}).get("functionCalls", [])
    ]
    for number, plan in enumerate(plan_connections(recording)):
        try:
            error = await _one_connection(
                recording, plan, target, out, recorded_ids, speed, timeout, connect_timeout, environ
            )
        except _NotOpened as exc:
            if not number:
                raise exc.error from None  # no replay at all: the failure itself (credentials, connection)
            error = exc.error
        out.error = error  # the last connection's decides (an earlier failure was followed by a reconnect)
    return out


async def probe_connection(target: Target, *, connect_timeout: float, environ: Mapping[str, str]) -> Replayed:
    """For a recording of a run that never connected (its upgrade refused): only whether `target` refuses too."""
    out = Replayed()
    try:
        link = await open_target_link(target, timeout=connect_timeout, environ=environ)
    except LivecliError as exc:
        out.error = exc
    else:
        await link.close()
    return out


async def _one_connection(
    recording: Recording,
    plan: ConnectionPlan,
    target: Target,
    out: Replayed,
    recorded_ids: list[Any],
    speed: float,
    timeout: float,
    connect_timeout: float,
    environ: Mapping[str, str],
) -> LivecliError | None:
    try:
        link = await open_target_link(target, timeout=connect_timeout, environ=environ, send_stall_s=timeout)
    except LivecliError as exc:
        raise _NotOpened(exc) from None
    loop = asyncio.get_running_loop()
    syncs: list[float] = []  # when each sync message arrived
    arrived = asyncio.Event()
    ended: list[Closed] = []
    setup_seen = [False]

    async def read() -> None:
        try:
            while True:
                frame = await link.recv()
                out.frames.append(frame)
                message = parse_frame(frame)
                _note(message, out)
                setup_seen[0] = setup_seen[0] or (isinstance(message, dict) and "setupComplete" in message)
                syncs.extend([loop.time()] * sync_count(message))
                arrived.set()
        except LinkClosed as exc:
            ended.append(exc.closed)
            arrived.set()

    async def until(count: int) -> bool:
        """Wait for `count` sync messages (False: the connection ended first); NoReplyError past the timeout."""
        while len(syncs) < count and not ended:
            arrived.clear()
            try:
                async with asyncio.timeout(timeout):
                    await arrived.wait()
            except TimeoutError:
                raise NoReplyError(
                    f"connection {plan.number}: the server sent nothing for {timeout:g} s"
                ) from None
        return len(syncs) >= count

    reader = asyncio.create_task(read())
    error: LivecliError | None = None
    try:
        anchor_now, anchor_t, anchored = loop.time(), plan.opened_at, 0
        for step in plan.steps:
            if step.waits > anchored:  # the first frame after a reply: its gap counts from that reply
                if not await until(step.waits):
                    break
                anchor_now, anchor_t = syncs[step.waits - 1], plan.sync_times[step.waits - 1]
                anchored = step.waits
            if speed > 0:
                await asyncio.sleep(max(0.0, anchor_now + (step.at - anchor_t) / speed - loop.time()))
            frame = _rewritten(recording.frame_text(step.line), out, recorded_ids)
            try:
                await link.send(frame)
            except LinkClosed:
                break
        if not ended:
            await until(len(plan.sync_times))
        if plan.closed_by == SERVER and not ended:
            # The recorded server ended it: give this one as long as that one took (on the server's own clock,
            # whatever --speed), and a second more.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(timeout, plan.close_gap + CLOSE_MARGIN_S)):
                    while not ended:
                        arrived.clear()
                        await arrived.wait()
    except NoReplyError as exc:
        error = exc
    finally:
        await link.close(_sendable(plan.close_code) if plan.closed_by == CLIENT else 1000)
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
    closed = ended[0] if ended else None
    if error is None and closed is not None and not closed.by_us and closed.code != 1000:
        error = (
            closed.refusal()
            if closed.refused
            else ServerClosed(closed.code, closed.reason, after_setup=setup_seen[0])
        )
    return error


def _sendable(code: int) -> int:
    """The recorded close code, when a client may send it (1005, 1006 and 1015 only describe a close: RFC 6455,
    7.4.1); else 1000."""
    return code if (1000 <= code <= 1014 and code not in (1004, 1005, 1006)) or 3000 <= code <= 4999 else 1000


class _NotOpened(Exception):
    """A connection of the replay could not be opened (`error` says why)."""

    def __init__(self, error: LivecliError) -> None:
        super().__init__(str(error))
        self.error = error


def _note(message: Any, out: Replayed) -> None:
    """Keep what later frames must quote: the newest resumable handle and the function call ids."""
    if not isinstance(message, dict):
        return
    update = message.get("sessionResumptionUpdate")
    if isinstance(update, dict) and update.get("resumable") and update.get("newHandle"):
        out.handle = str(update["newHandle"])
    call = message.get("toolCall")
    if isinstance(call, dict):
        out.call_ids += [str(fc.get("id")) for fc in call.get("functionCalls", []) if isinstance(fc, dict)]


def _rewritten(text: str, out: Replayed, recorded_ids: list[Any]) -> str:
    """The frame with the recorded session's handle and call ids replaced by the replay's own."""
    message = json.loads(text)
    changed = False
    if resumed_handle(message) is not None:  # a setup resuming the recorded session: resume the replay's
        resumption = message["setup"].get("sessionResumption", message["setup"].get("session_resumption"))
        if out.handle:
            resumption["handle"] = out.handle
        else:
            del resumption["handle"]
        changed = True
    response = message.get("toolResponse") if isinstance(message, dict) else None
    if isinstance(response, dict):
        for answer in response.get("functionResponses", []):
            if isinstance(answer, dict) and answer.get("id") in recorded_ids:
                position = recorded_ids.index(answer["id"])
                if position < len(out.call_ids):
                    answer["id"] = out.call_ids[position]
                    changed = True
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")) if changed else text
