"""`chat`: the use case, from a ChatRequest to the conversation ended, the replies written.

As `send`/`text` (commands/send) do: the preflight and every check before connecting (the setup, the --image
files, the --save-dir directory, an open stdout), then the conversation (commands/chat/session), then whatever
happened the reply so far to the turn in flight is written (--save-dir) and the summary reported. The user
ending the conversation (end of input, /quit, Ctrl-C) is not a failure: `status_of` (the CLI's table) gives it
the status 0, and the run returns; SIGTERM keeps its own status.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from livecli.commands.before_connect import load_request_images, preview_target, reach_for, start_recorder
from livecli.commands.chat.lines import open_lines
from livecli.commands.chat.request import ChatRequest
from livecli.commands.chat.session import COMMANDS, Chat
from livecli.commands.chat.transcript import TranscriptOut
from livecli.commands.input_loop import RunState
from livecli.commands.replies import reply_totals
from livecli.commands.reply_limits import ReplyLimits
from livecli.commands.reply_spill import ReplySpill
from livecli.commands.request import build_setup
from livecli.commands.run_outcome import RunOutcome
from livecli.errors import OutputError, UsageError
from livecli.protocol.models import lookup
from livecli.protocol.report import Reporter
from livecli.render.console import make_renderer

if TYPE_CHECKING:
    from livecli.audio.devices import Speaker
    from livecli.commands.request import RunRequest
    from livecli.env import Env

__all__ = ["run"]


def run(
    chat: ChatRequest, env: Env, status_of: Callable[[BaseException], int], *, speaker: Speaker | None = None
) -> int:
    """Hold the conversation; returns 0 or raises (errors propagate to the CLI boundary). `speaker`: where
    --play plays (None: the real one, opened here; tests pass a virtual one)."""
    req = chat.run
    if env.stdout_closed:
        what = "the --json events" if req.json else "the replies"
        raise OutputError(f"stdout is closed: nowhere to write {what}")
    preview = preview_target(req, env)
    setup = build_setup(req, preview.model)
    images = load_request_images(req)  # a bad --image fails here, before connecting
    _prepare_save_dir(chat.save_dir)
    if req.play and speaker is None:  # (a missing extra or device fails here, before connecting)
        from livecli.commands.talk.playback import open_speaker

        speaker = open_speaker(chat.output_device, chat.buffer_ms, needed_by="chat --play")
    # The transcript on a terminal shares it with the display: a plain display then (no progress bar redrawing
    # the line the transcript is being written on; commands/chat/transcript).
    shared = not req.json and env.stdout_isatty
    display = make_renderer(
        dataclasses.replace(env, stderr_isatty=False) if shared else env, json=req.json, verbosity=req.verbosity
    )
    transcript = None if req.json else TranscriptOut(display, env, text_modality=req.modality.lower() == "text")
    # A flooding server cannot fill the memory (commands/reply_limits).
    shown: Reporter = transcript or display
    if req.play and speaker is not None:
        from livecli.commands.talk.playback import PlaybackTap

        shown = PlaybackTap(shown, speaker)
    renderer: Reporter = ReplyLimits(shown, req.max_reply_s)
    reach = reach_for(req, env, renderer, preview)
    with ReplySpill(chat.save_dir) as spill:  # reply audio on disk as it arrives (commands/reply_spill)
        recorder = start_recorder(
            req, preview, env, command="chat"
        )  # --record DIR: every frame of every connection
        state = RunState(secrets=preview.secrets, new_reply_audio=spill.new_audio, tap=recorder)
        outcome = RunOutcome(renderer, status_of, req, state)
        lines = open_lines(env, commands=COMMANDS)
        talk = Chat(
            chat,
            env,
            renderer,
            state,
            lines,
            images=images,
            system_allowed=_system_refusal(req, preview.model),
            end_line=transcript.end_line if transcript is not None else lambda: None,
            speaker=speaker if req.play else None,
        )
        try:
            asyncio.run(talk.converse(setup, reach))
        except BaseException as exc:
            if not (isinstance(exc, KeyboardInterrupt) and status_of(exc) == 0):  # 0: the user ended it
                outcome.fail(exc)
        finally:
            lines.close()
            if speaker is not None:
                speaker.close()
        try:
            if transcript is not None:
                transcript.end_line()
            talk.save_unanswered()
        except BaseException as exc:
            outcome.fail(exc)
        if recorder is not None:
            recorder.finish(outcome.status, outcome.failure)
        totals = reply_totals(talk.names, state)
        totals = dataclasses.replace(totals, reply_bytes=totals.reply_bytes + talk.released_bytes)
        outcome.finish(totals, len(talk.names))
        if lines.interactive and outcome.failure is None and not talk.quit:
            _new_line(env)  # Ctrl-D and Ctrl-C leave the cursor after the prompt
        if outcome.failure is not None:
            raise outcome.failure
    return 0


def _prepare_save_dir(directory: str | None) -> None:
    """--save-dir: created if need be, and proven writable before connecting (exit 2 otherwise)."""
    if directory is None:
        return
    from livecli.audio.encode import prove_writable

    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--save-dir {directory}: cannot create it: {exc.strerror or exc}") from None
    prove_writable(os.path.join(directory, "turn-1.wav"))


def _system_refusal(req: RunRequest, model: str) -> str | None:
    """Why /system cannot be sent to `model` (the model table: it takes no system instruction), or None."""
    info = lookup(model)
    if info is None or info.system_instruction or not req.session.preflight:
        return None
    return f"{info.id} takes no system instruction: /system is not sent (--no-preflight sends it anyway)"


def _new_line(env: Env) -> None:
    """On a terminal, end the prompt's line (Ctrl-D and Ctrl-C leave the cursor after it)."""
    from livecli.audio.encode import write_to_stdout

    write_to_stdout(env.stdout, b"\n")
