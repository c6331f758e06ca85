"""The faults a scenario injects on purpose (livecli.server.scenarios), as entries of a session's action queue.

Sans I/O like the session: each function queues what the fault sends (a close, a drop, a malformed frame, a
goAway) at the time it is given; `stall` stops the queue altogether.
"""

from __future__ import annotations

from livecli.protocol import close_reasons as cr
from livecli.protocol import server_messages as sm
from livecli.server.resumption import ScenarioProgress
from livecli.server.scenarios import Scenario, TimedAction
from livecli.server.session_queue import ActionQueue, Close, Drop

__all__ = ["misbehave", "schedule_timed_actions", "timed_action"]


def misbehave(queue: ActionQueue, now: float, action: str, code: int = 1011, reason: str = "") -> None:
    """Close / drop / stall / malformed frame / quota close, now."""
    if action == "close":
        queue.close_now(now, code, reason)
    elif action == "quota":
        queue.close_with(now, cr.QUOTA)
    elif action == "drop":
        queue.clear()
        queue.at(now, Drop())
    elif action == "stall":
        queue.stall()
    elif action == "malformed":
        queue.send(now, b'{"serverContent":{"modelTurn":{"parts":[{"inlineData":', "malformed")


def timed_action(queue: ActionQueue, timed: TimedAction, now: float) -> None:
    """One `[[at]]` entry falling due: a goAway (then the 1008 close), or a fault."""
    if timed.action == "goaway":
        queue.send(now, sm.go_away(timed.time_left_s), "goAway")
        queue.at(now + timed.time_left_s, Close(cr.LIFETIME_EXCEEDED.code, cr.LIFETIME_EXCEEDED.text))
    else:
        misbehave(queue, now, timed.action, timed.code, timed.reason)


def schedule_timed_actions(queue: ActionQueue, scenario: Scenario, progress: ScenarioProgress, now: float) -> None:
    """`[[at]]` times count from the session's first setupComplete: a resumed connection plays only the actions
    still ahead (one whose time passed between two connections is skipped, not replayed)."""
    if progress.started_at is None:
        progress.started_at = now
    for timed in scenario.at:
        when = progress.started_at + timed.t
        if when >= now:
            queue.at(when, lambda t, a=timed: timed_action(queue, a, t))  # type: ignore[misc]
