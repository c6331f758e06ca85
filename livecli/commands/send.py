"""`send` and `text`: the use case, from a RunRequest to the replies written.

Preflight (commands/request), the per-input loop (commands/input_loop), `--local` start-up
(commands/local_server) and writing the replies (commands/replies) each have their own module; this one runs
them in order. No option parsing and no exit codes here: the CLI builds the RunRequest and maps errors.
Whatever happens (an error, a close, Ctrl-C) the reply audio received so far is written and reported.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from livecli.commands.before_connect import load_request_images, preview_target, reach_for, start_recorder
from livecli.commands.checks import check_inputs_audible, check_replies, compile_expectation
from livecli.commands.input_loop import RunState, converse, send_plan, with_transparent_resumption
from livecli.commands.output import check_destinations, plan_output
from livecli.commands.replies import reply_totals, write_replies
from livecli.commands.reply_limits import ReplyLimits
from livecli.commands.reply_spill import ReplySpill, spill_directory
from livecli.commands.request import RunRequest, build_setup
from livecli.commands.run_outcome import RunOutcome
from livecli.commands.stream_out import StdoutAudio
from livecli.commands.talk.playback import PlaybackTap, finish_playback
from livecli.commands.video_input import open_video_input, warn_video_length
from livecli.protocol.client_messages import setup_message
from livecli.protocol.report import Reporter
from livecli.render.console import make_renderer

if TYPE_CHECKING:
    from livecli.audio.decode import InputAudio
    from livecli.audio.devices import Speaker
    from livecli.env import Env

__all__ = ["run"]


def run(req: RunRequest, env: Env, status_of: Callable[[BaseException], int]) -> int:
    """Run `send` or `text`; returns 0 or raises (errors propagate to the CLI boundary).

    `status_of` is the CLI's exit-status table: the `--json` error and summary lines carry the status the
    process will exit with, and only the CLI knows it.
    """
    names = list(req.inputs) if req.prompt is None else ["text"]
    sources = list(req.inputs) if req.prompt is None else []
    if req.video is not None:  # --video FILE is the one input
        names, sources = [req.video], [req.video]
    plan = plan_output(req.output, sources or ["reply"], json=req.json, kind=req.output_format)
    check_destinations(plan, sources, env, json=req.json)
    expectation = compile_expectation(req.expect_transcript)
    preview = preview_target(req, env, fetch_credentials=not req.dry_run)
    setup = build_setup(req, preview.model)
    images = load_request_images(req)  # a bad image fails here, before connecting
    video = open_video_input(req)  # so does a bad video (probed, nothing decoded yet)
    with contextlib.ExitStack() as stack:
        audio = [stack.enter_context(_open(name, env)) for name in req.inputs]
        if req.dry_run:
            from livecli.commands.dry_run import dry_run, prompt_frame

            plans = {a.name: send_plan(a, req) for a in audio}
            if video is not None:  # its audio track's messages (the frames are counted as they are sampled)
                from livecli.audio.chunks import chunk_plan

                plans[video.name] = chunk_plan(video.audio_bytes, req.chunk_ms)
            prompt = prompt_frame(req.prompt, req.client_content)
            from livecli.commands.tool_setup import declared_setup

            setup = asyncio.run(declared_setup(req, setup, env.environ))  # the tools' declarations too
            setup = with_transparent_resumption(setup, preview)  # as converse sends it (Vertex)
            return dry_run(preview, setup_message(setup), plans, env, req.json, prompt, images)
        display = make_renderer(env, json=req.json, verbosity=req.verbosity)
        renderer: Reporter = ReplyLimits(display, req.max_reply_s)  # a flooding server cannot fill the memory
        if plan.to_stdout_audio or plan.stream_path is not None:  # -o -, a FIFO or device: as the reply arrives
            renderer = StdoutAudio(renderer, env, plan.stream_kind, path=plan.stream_path)
        # playback: --play, the reply through the speaker as it arrives (commands/talk/playback, as talk plays it)
        speaker = _speaker(req)  # a missing talk extra, PortAudio or device fails here, before connecting
        if speaker is not None:
            renderer = PlaybackTap(renderer, speaker)
        reach = reach_for(req, env, renderer, preview)
        spill = stack.enter_context(ReplySpill(spill_directory(plan.destinations)))  # reply audio on disk (L5)
        recorder = start_recorder(req, preview, env)  # --record DIR: every frame of every connection
        state = RunState(secrets=preview.secrets, new_reply_audio=spill.new_audio, tap=recorder)
        outcome = RunOutcome(renderer, status_of, req, state)
        try:
            check_inputs_audible(audio, req.fail_on_silence, renderer.warning)
            if video is not None:
                warn_video_length(video, setup, renderer.warning)
            asyncio.run(converse(req, env, setup, audio, renderer, state, reach, images, video))
            replies = [(name, state.reply_turns(number)) for number, name in enumerate(names, 1)]
            passed = check_replies(replies, expectation, req.min_reply_s, req.fail_on_silence)
            if passed:
                renderer.checks_passed(passed)
        except BaseException as exc:
            outcome.fail(exc)
        try:
            write_replies(env, plan, names, state, renderer, failed=outcome.failure is not None)
        except BaseException as exc:
            outcome.fail(exc)
        if speaker is not None:  # --play: what is queued plays out, unless the run failed or was interrupted
            try:
                finish_playback(speaker, stop_now=outcome.failure is not None)
            except BaseException as exc:
                outcome.fail(exc)
        if recorder is not None:
            recorder.finish(outcome.status, outcome.failure)
            if recorder.failure is not None:
                renderer.warning(f"--record {req.record}: {recorder.failure}; the recording stops there")
        outcome.finish(reply_totals(names, state), len(names))
        if outcome.failure is not None:
            raise outcome.failure
    return 0


def _speaker(req: RunRequest) -> Speaker | None:
    """--play's speaker (the default output device), opened now: sounddevice is imported only when asked for."""
    if not req.play:
        return None
    from livecli.audio.devices import DEFAULT_BUFFER_MS
    from livecli.commands.talk.playback import open_speaker

    return open_speaker(None, DEFAULT_BUFFER_MS, needed_by="--play")


def _open(name: str, env: Env) -> InputAudio:
    from livecli.audio.decode import open_input

    return open_input(name, stdin=env.stdin)
