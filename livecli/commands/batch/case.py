"""One case of a suite: its RunRequest driven through `send`/`text`'s own steps, on the suite's event loop.

The steps are those of commands/send.py `run()` (preflight, the reach, images and `--record` helpers it shares,
the input loop `converse`, the reply spill and writer), awaited here instead of under `asyncio.run`, with a
recording Reporter in place of the display: many cases share one loop, and none owns stdout. The outcome is what
happened (replies, measurements, the failure and its exit class from the CLI's `status_of`), never an exception:
a case's failure never stops the others. Cancelled (Ctrl-C, SIGTERM), a case writes the reply received so far
and says it was interrupted.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from livecli.client.hints import with_hint
from livecli.client.record import ClientRecorder
from livecli.commands.batch.expectations import Expectations, Failure, check_case
from livecli.commands.before_connect import load_request_images, preview_target, reach_for, start_recorder
from livecli.commands.checks import check_inputs_audible
from livecli.commands.input_loop import RunState, converse
from livecli.commands.output import OutputPlan, plan_output
from livecli.commands.replies import write_replies
from livecli.commands.reply_limits import ReplyLimits
from livecli.commands.reply_spill import ReplySpill, spill_directory
from livecli.commands.request import RunRequest, build_setup
from livecli.commands.video_input import open_video_input
from livecli.errors import LivecliError, NoReplyError, QuotaError, ServerClosed
from livecli.protocol.redact import redact
from livecli.protocol.report import InputInfo, Reporter, TurnReport

if TYPE_CHECKING:
    from livecli.env import Env

__all__ = ["Case", "CaseRecorder", "CaseRun", "case_inputs", "preflight_case", "run_case"]

StatusOf = Callable[[BaseException], int]


@dataclass(frozen=True)
class Case:
    """A validated case: the request `send`/`text` would run, and what its outcome must show."""

    id: str
    position: int
    where: str
    request: RunRequest
    expect: Expectations = field(default_factory=Expectations)


def case_inputs(req: RunRequest) -> list[tuple[str, str]]:
    """Each input of the case as (kind, source): audio files, the prompt, or the video."""
    if req.prompt is not None:
        return [("text", req.prompt)]
    if req.video is not None:
        return [("video", req.video)]
    return [("audio", name) for name in req.inputs]


def preflight_case(case: Case, env: Env) -> None:
    """What `send` checks before connecting, for one case: the target can be resolved (credentials not fetched)
    and the model table takes its setup. Raises UsageError (or CredentialsError)."""
    req = case.request
    preview = preview_target(req, env, fetch_credentials=False)
    build_setup(req, preview.model)
    # --format: the reply files' format, checked as `send -o DIR/` checks it (an existing directory: no effect)
    plan_output(tempfile.gettempdir() + os.sep, ["reply"], json=True, kind=req.output_format)


class CaseRecorder(Reporter):
    """The case's display: it shows nothing and keeps what results.jsonl reports.

    Send lateness: how long after its real-time deadline each audio message left (the deadline of message i
    being the first one's send time + i × chunk / speed), measured where the input loop reports progress.
    """

    def __init__(self, clock: Callable[[], float], req: RunRequest) -> None:
        self.clock = clock
        self.step_s = req.chunk_ms / 1000 / req.speed if req.speed > 0 else 0.0
        self.reports: list[TurnReport] = []
        self.lateness_s: list[float] = []
        self.written: set[str] = set()  # reply files written
        self.input_seconds: dict[int, float] = {}  # each input's duration (1-based), as it started
        self.warnings: list[str] = []
        self._start: tuple[float, int] | None = None

    def input_started(self, info: InputInfo) -> None:
        self._start = None
        self.input_seconds[info.index] = info.duration_s

    def input_progress(self, info: InputInfo, chunks: int, sent_bytes: int) -> None:
        if not self.step_s:
            return
        now = self.clock()
        if self._start is None:
            self._start = (now, chunks)
            return
        first_at, first_chunks = self._start
        self.lateness_s.append(max(0.0, now - (first_at + (chunks - first_chunks) * self.step_s)))

    def turn_complete(self, report: TurnReport) -> None:
        self.reports.append(report)

    def reply_written(self, dest: str, nbytes: int, rate: int, partial: bool) -> None:
        self.written.add(dest)

    def warning(self, text: str) -> None:
        self.warnings.append(text)


@dataclass
class CaseRun:
    """What one attempt at a case came to."""

    case: Case
    attempt: int
    started_s: float  # on the suite's clock, from the suite's start
    duration_s: float = 0.0
    status: str = "pass"  # pass | fail | error
    exit_class: int = 0
    error: str | None = None
    failures: list[Failure] = field(default_factory=list)
    quota: bool = False  # failed on a quota or rate limit: worth another attempt after a backoff
    interrupted: bool = False
    state: RunState = field(default_factory=RunState)
    recorder: CaseRecorder | None = None
    reply_paths: list[str | None] = field(default_factory=list)


async def run_case(
    case: Case, env: Env, status_of: StatusOf, out_dir: str, *, attempt: int, suite_start: float
) -> CaseRun:
    """Run one attempt at `case`, write its replies under `out_dir`, and judge it."""
    req = case.request
    run = CaseRun(case, attempt, env.clock() - suite_start)
    recorder = run.recorder = CaseRecorder(env.clock, req)
    renderer = ReplyLimits(recorder, req.max_reply_s)  # a flooding server cannot fill the memory
    inputs = case_inputs(req)
    failure: BaseException | None = None
    with contextlib.ExitStack() as stack:
        plan: OutputPlan | None = None
        try:
            plan = _reply_plan(out_dir, case.id, len(inputs), req.output_format)
            spill = stack.enter_context(ReplySpill(spill_directory(plan.destinations)))  # reply audio on disk
            run.state.new_reply_audio = spill.new_audio
            await _converse(req, env, renderer, run.state, case.id)
        except asyncio.CancelledError:
            run.interrupted, failure = True, KeyboardInterrupt()
        except Exception as exc:  # the case failed; the suite goes on
            failure = exc
        if not run.interrupted and (failure is None or status_of(failure) == case.expect.expect_exit):
            replies = [(source, run.state.reply_turns(n)) for n, (_, source) in enumerate(inputs, 1)]
            run.failures = check_case(case.expect, replies, recorder.reports)
        if plan is not None:
            with contextlib.suppress(Exception):  # a reply that cannot be written is reported missing, not fatal
                names = [source for _, source in inputs]
                write_replies(env, plan, names, run.state, renderer, failed=failure is not None)
    if plan is not None:  # an input without reply audio has no file
        run.reply_paths = [d if d in recorder.written else None for d in plan.destinations]
    _judge(run, failure, status_of)
    if isinstance(run.state.tap, ClientRecorder):  # --record: the session's own outcome
        run.state.tap.finish(status_of(failure) if failure is not None else 0, failure)
    run.duration_s = env.clock() - suite_start - run.started_s
    return run


def _reply_plan(out_dir: str, case_id: str, count: int, kind: str | None) -> OutputPlan:
    """`<out_dir>/cases/<id>/turn-<n>.wav` (or --format's suffix): a reply file per input."""
    directory = os.path.join(out_dir, "cases", case_id) + os.sep
    return plan_output(directory, [f"turn-{n}" for n in range(1, count + 1)], json=True, kind=kind)


async def _converse(req: RunRequest, env: Env, renderer: Reporter, state: RunState, case_id: str) -> None:
    """send/text's steps for one request (commands/send.py `run()`), on the running loop. A `--record`
    recording is left in `state.tap` (its outcome is written once the case is judged)."""
    from livecli.audio.decode import open_input

    target = preview_target(req, env, fetch_credentials=False)
    if target.backend.removeprefix("local ").startswith("vertex"):
        # ADC's token refresh may go to the network: in a thread, so the other cases keep their pace. (Only
        # then: a thread's turn at the GIL can hold up the loop by the switch interval, 5 ms.)
        target = await asyncio.to_thread(preview_target, req, env)
    else:
        target = preview_target(req, env)
    state.secrets = target.secrets
    setup = build_setup(req, target.model)
    images = load_request_images(req)
    video = open_video_input(req)
    with contextlib.ExitStack() as stack:
        audio = [stack.enter_context(open_input(name, stdin=env.stdin)) for name in req.inputs]
        check_inputs_audible(audio, req.fail_on_silence, renderer.warning)
        state.tap = start_recorder(req, target, env, case=case_id)
        await converse(
            req, env, setup, audio, renderer, state, reach_for(req, env, renderer, target), images, video
        )


def _judge(run: CaseRun, failure: BaseException | None, status_of: StatusOf) -> None:
    """The case's status and exit class: an unexpected failure is an error with the failure's class; a session
    that ended as expected passes unless an expectation failed (a fail, with the class of a failed check)."""
    expected = run.case.expect.expect_exit
    got = status_of(failure) if failure is not None else 0
    if failure is not None:
        if isinstance(failure, LivecliError):
            with_hint(failure, client_content=run.case.request.client_content)
        run.error = redact(str(failure) or type(failure).__name__, run.state.secrets)
        if run.interrupted:
            run.error = "interrupted"
    if expected is not None and got != expected:
        what = f"exit {got}" + (f" ({run.error})" if run.error else "")
        run.failures.insert(
            0, Failure("expect_exit", expected, got, f"expect_exit {expected}: the case ended with {what}")
        )
    if failure is not None and got != expected:
        run.status, run.exit_class = "error", got
        run.quota = isinstance(failure, QuotaError) or (isinstance(failure, ServerClosed) and failure.quota)
    elif run.failures:
        run.status, run.exit_class = "fail", status_of(NoReplyError(run.failures[0].message))
    else:
        run.status, run.exit_class = "pass", 0
