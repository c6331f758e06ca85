"""`livecli batch`: run the cases at a bounded concurrency on one event loop, retry quota failures, write the
results.

Concurrency is additive-increase/multiplicative-decrease, as TCP does with its window: a quota failure (HTTP
429, RESOURCE_EXHAUSTED, a quota close) halves it, once per generation of cases (the cases started before a
decrease do not halve it again), and each success adds 1/limit, so one whole window of successes adds one
session; it never goes below 1 or above `--concurrency`. The failed case is tried again after a backoff with
jitter (`--backoff` × 2^(attempt-1), half of it random), at most `--max-retries` times. New cases start at most
`--start-rate` per second: a connection's upgrade and setup are a burst of work on the loop, and a hundred of them
at once made every streaming session's next audio message 30 ms late (bench/bench_batch_scale.py). Ctrl-C and
SIGTERM cancel the suite: nothing new starts, the running cases write what they received (status error, exit
class 130/143), and the JUnit file is still written. No exit codes here: each case's class comes from the CLI's
`status_of`, the suite's from its `suite_status`.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import gc
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from livecli.commands.batch.case import Case, StatusOf, run_case
from livecli.commands.batch.junit import write_junit
from livecli.commands.batch.progress import BatchDisplay, make_display
from livecli.commands.batch.results import DONE, ResultsFile, case_record, read_results

if TYPE_CHECKING:
    from livecli.env import Env

__all__ = ["Aimd", "SuiteOptions", "run_suite"]

MAX_BACKOFF_S = 60.0


@dataclass(frozen=True)
class SuiteOptions:
    """The batch command's own options (the cases carry everything else)."""

    out_dir: str
    concurrency: int = 4
    max_retries: int = 3
    backoff_s: float = 1.0
    skip_done: bool = False
    start_rate: float = 50.0  # new sessions per second at most (0: no limit)
    junit: str | None = None
    json: bool = False
    verbosity: int = 0
    suite_name: str = "livecli batch"


class Aimd:
    """A concurrency limit that halves on a quota failure and grows back by one per window of successes."""

    def __init__(self, maximum: int) -> None:
        self.maximum = maximum
        self.limit = float(maximum)
        self.running = 0
        self.generation = 0  # bumped by each decrease: acquisitions before it do not decrease again
        self.lowest = maximum
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    @property
    def current(self) -> int:
        """Sessions allowed at once now."""
        return max(1, int(self.limit))

    async def acquire(self) -> int:
        """Wait for a slot; returns the generation it was taken in (for `decrease`)."""
        while self.running >= self.current:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
        self.running += 1
        return self.generation

    def release(self) -> None:
        self.running -= 1
        self._wake()

    def decrease(self, generation: int) -> bool:
        """A quota failure of a case started in `generation`; returns whether the limit changed."""
        if generation != self.generation:
            return False
        before = self.current
        self.limit = max(1.0, self.limit / 2)
        self.generation += 1
        self.lowest = min(self.lowest, self.current)
        return self.current != before

    def increase(self) -> bool:
        """A success; returns whether the limit changed."""
        before = self.current
        self.limit = min(float(self.maximum), self.limit + 1 / self.limit)
        self._wake()
        return self.current != before

    def _wake(self) -> None:
        free = self.current - self.running
        while free > 0 and self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                free -= 1


def run_suite(
    cases: Sequence[Case],
    env: Env,
    status_of: StatusOf,
    options: SuiteOptions,
    suite_status: Callable[[Sequence[dict[str, Any]]], int],
) -> int:
    """Run the cases (those --skip-done leaves), write results.jsonl, the replies and --junit; returns the
    suite's exit status (`suite_status` of the records). Ctrl-C/SIGTERM: KeyboardInterrupt once written."""
    _allow_descriptors(options.concurrency)
    previous = read_results(options.out_dir) if options.skip_done else {}
    records = {c.id: previous[c.id] for c in cases if previous.get(c.id, {}).get("status") in DONE}
    todo = [case for case in cases if case.id not in records]
    results = ResultsFile(options.out_dir, keep=options.skip_done)
    display = make_display(env, json=options.json, verbosity=options.verbosity)
    interrupted: KeyboardInterrupt | None = None
    try:
        display.started(len(cases), len(todo), options.concurrency)
        # What exists now (modules, the cases) lives as long as the suite: out of the collector's sight, so a
        # full collection among hundreds of sessions scans only what they made (pauses delay every session).
        # Garbage is collected first, never frozen.
        gc.collect()
        gc.freeze()
        asyncio.run(_run_all(todo, env, status_of, options, display, results, records))
    except KeyboardInterrupt as exc:
        interrupted = exc
    finally:
        results.close()
    ordered = [records[case.id] for case in cases if case.id in records]
    status = status_of(interrupted) if interrupted is not None else suite_status(ordered)
    try:
        if options.junit is not None:
            write_junit(options.junit, ordered, options.suite_name)
        display.summary(_counts(cases, ordered, len(cases) - len(todo)), status)
    finally:
        display.close()
    if interrupted is not None:
        raise interrupted
    return status


# Descriptors one session may hold at once: its socket, its input file, its reply spill file, a recording's
# files, a tool command's pipes; plus what the process holds besides.
_DESCRIPTORS_PER_SESSION = 8
_DESCRIPTORS_BASE = 64


def _allow_descriptors(concurrency: int) -> None:
    """Raise the soft limit on open files toward the hard one when the suite may need more (a soft limit of 1024,
    common, would fail the 128th session with EMFILE); never lowers it."""
    import resource

    needed = _DESCRIPTORS_BASE + concurrency * _DESCRIPTORS_PER_SESSION
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def _counts(cases: Sequence[Case], records: Sequence[dict[str, Any]], skipped: int) -> dict[str, int]:
    statuses = collections.Counter(record["status"] for record in records)
    return {
        "cases": len(cases),
        "passed": statuses["pass"],
        "failed": statuses["fail"],
        "errors": statuses["error"],
        "skipped": skipped,
        "not_run": len(cases) - len(records),
    }


async def _run_all(
    todo: Sequence[Case],
    env: Env,
    status_of: StatusOf,
    options: SuiteOptions,
    display: BatchDisplay,
    results: ResultsFile,
    records: dict[str, dict[str, Any]],
) -> None:
    limiter = Aimd(options.concurrency)
    jitter = random.Random()
    start = env.clock()

    async def attempt_case(case: Case, generation: int) -> None:
        attempt = 1
        while True:
            display.case_started(case.id, attempt)
            try:
                run = await run_case(case, env, status_of, options.out_dir, attempt=attempt, suite_start=start)
            finally:
                limiter.release()
            if run.quota and limiter.decrease(generation):
                display.concurrency(limiter.current, "quota")
            elif run.status != "error" and limiter.increase():
                display.concurrency(limiter.current, "recovered")
            if run.quota and attempt <= options.max_retries:
                ceiling = min(MAX_BACKOFF_S, options.backoff_s * 2 ** (attempt - 1))
                delay = ceiling / 2 + jitter.uniform(0, ceiling / 2)
                display.case_retry(case.id, attempt, delay, run.error)
                await asyncio.sleep(delay)
                attempt += 1
                generation = await limiter.acquire()
                continue
            record = case_record(run, options.out_dir)
            records[case.id] = record
            results.append(record)
            display.case_finished(record)
            if run.interrupted:
                raise asyncio.CancelledError
            return

    try:
        async with asyncio.TaskGroup() as group:
            next_start = env.clock()
            for case in todo:
                generation = await limiter.acquire()
                if options.start_rate > 0:  # a ramp: connecting sessions do not hold up the streaming ones at once
                    await asyncio.sleep(max(0.0, next_start - env.clock()))
                    next_start = max(next_start, env.clock()) + 1 / options.start_rate
                group.create_task(attempt_case(case, generation))
    except BaseExceptionGroup as failed:  # the suite's own failure (results.jsonl cannot be written): one line
        raise failed.exceptions[0] from None
