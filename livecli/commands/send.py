"""`send` and `text`: the use case, from a RunRequest to the replies written.

Preflight (commands/request), the per-input loop (commands/input_loop), `--local` start-up
(commands/local_server) and writing the replies (commands/replies) each have their own module; this one runs
them in order. No option parsing and no exit codes here: the CLI builds the RunRequest and maps errors.
Whatever happens (an error, a close, Ctrl-C) the reply audio received so far is written and reported.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from livecli.auth.target import resolve_target
from livecli.client.hints import with_hint
from livecli.commands.checks import check_replies, compile_expectation
from livecli.commands.input_loop import RunState, converse, reach_target, send_plan
from livecli.commands.output import plan_output
from livecli.commands.replies import write_replies
from livecli.commands.request import RunRequest, build_setup
from livecli.errors import LivecliError, ServerClosed
from livecli.protocol.client_messages import setup_message
from livecli.protocol.endpoints import LOCAL_PLACEHOLDER_URL
from livecli.protocol.redact import redact
from livecli.render.console import make_renderer

if TYPE_CHECKING:
    from livecli.audio.decode import InputAudio
    from livecli.env import Env

__all__ = ["run"]


def run(req: RunRequest, env: Env, status_of: Callable[[BaseException], int]) -> int:
    """Run `send` or `text`; returns 0 or raises (errors propagate to the CLI boundary).

    `status_of` is the CLI's exit-status table: the `--json` error and summary lines carry the status the
    process will exit with, and only the CLI knows it.
    """
    names = list(req.inputs) if req.prompt is None else ["text"]
    plan = plan_output(req.output, list(req.inputs) if req.prompt is None else ["reply"], json=req.json)
    expectation = compile_expectation(req.expect_transcript)
    local_url = LOCAL_PLACEHOLDER_URL if req.connect.local else None
    preview = resolve_target(req.connect, env.environ, local_url=local_url, fetch_credentials=not req.dry_run)
    setup = build_setup(req, preview.model)
    with contextlib.ExitStack() as stack:
        audio = [stack.enter_context(_open(name, env)) for name in req.inputs]
        if req.dry_run:
            from livecli.commands.dry_run import dry_run

            plans = {a.name: send_plan(a, req) for a in audio}
            return dry_run(preview, setup_message(setup), plans, env, req.json)
        renderer = make_renderer(env, json=req.json, verbosity=req.verbosity)
        if req.connect.local:
            from livecli.commands.local_server import reach_local_server

            reach = reach_local_server(req, env, renderer)
        else:
            reach = reach_target(preview)
        state = RunState(secrets=preview.secrets)
        status = 0
        try:
            asyncio.run(converse(req, env, setup, audio, renderer, state, reach))
            replies = [(name, state.reply_turns(number)) for number, name in enumerate(names, 1)]
            check_replies(replies, expectation, req.min_reply_s)
        except BaseException as exc:
            status = status_of(exc)
            if isinstance(exc, LivecliError):
                with_hint(exc, client_content=req.client_content)
                _redact_error(exc, state.secrets)
                renderer.error(exc, status)
            raise
        finally:
            write_replies(env, plan, names, state, renderer, failed=status != 0, status=status)
    return 0


def _open(name: str, env: Env) -> InputAudio:
    from livecli.audio.decode import open_input

    return open_input(name, stdin=env.stdin)


def _redact_error(exc: LivecliError, secrets: Sequence[str]) -> None:
    """Mask secrets a server may have echoed back, in the message and in a close reason."""
    text = str(exc)
    cleaned = redact(text, secrets)
    if cleaned != text:
        exc.args = (cleaned,)
    if isinstance(exc, ServerClosed):
        exc.reason = redact(exc.reason, secrets)
