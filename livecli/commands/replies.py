"""Writing what came back: each input's reply audio to its destination, transcripts to stdout.

Runs after success, failure and Ctrl-C alike, so the reply received so far is never lost; a reply whose input
was not answered is marked partial. A reply that cannot be written does not stop the others from being written;
the first such failure is raised once every reply has been tried. The summary is not written here: the use case
writes it once the last failure is known (commands/send.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from livecli.commands.forwarding import ForwardingReporter
from livecli.commands.input_loop import RunState
from livecli.commands.output import OutputPlan, write_text
from livecli.commands.stream_out import StdoutAudio
from livecli.protocol.redact import printable
from livecli.protocol.reply_audio import JoinedAudio
from livecli.protocol.report import Reporter
from livecli.protocol.wire import OUTPUT_RATE

if TYPE_CHECKING:
    from livecli.env import Env

__all__ = ["ReplyTotals", "reply_totals", "write_replies"]


@dataclass(frozen=True)
class ReplyTotals:
    """What the summary counts over every input's reply turns."""

    turns: int
    reply_bytes: int
    usage_turns: int


def reply_totals(names: Sequence[str], state: RunState) -> ReplyTotals:
    """The summary's counts: reply turns, reply audio bytes, and turns that reported usage."""
    turns = [turn for number in range(1, len(names) + 1) for turn in state.reply_turns(number)]
    return ReplyTotals(
        turns=len(turns),
        reply_bytes=sum(len(t.audio) for t in turns),
        usage_turns=sum(t.usage is not None for t in turns),
    )


def write_replies(
    env: Env, plan: OutputPlan, names: Sequence[str], state: RunState, renderer: Reporter, *, failed: bool
) -> None:
    """Write every reply received (also after a failure) and print transcripts.

    Raises:
        OutputError: a reply or transcript could not be written (the first such failure, after trying all).
        BrokenPipeError: stdout's reader went away.
    """
    first_failure: Exception | None = None
    for index, name in enumerate(names):
        try:
            _write_reply(env, plan, index, name, state, renderer, failed=failed)
        except BrokenPipeError:
            raise  # nothing more can reach stdout
        except Exception as exc:  # an OutputError: the other replies still get written
            first_failure = first_failure or exc
    if first_failure is not None:
        raise first_failure


def _streamer(renderer: Reporter) -> StdoutAudio | None:
    """The reporter that streamed the reply as it arrived (`-o -`, a FIFO or device), wherever it is in the chain
    (--play's tap goes in front of it)."""
    while isinstance(renderer, ForwardingReporter):
        if isinstance(renderer, StdoutAudio):
            return renderer
        renderer = renderer.inner
    return None


def _write_reply(
    env: Env, plan: OutputPlan, index: int, name: str, state: RunState, renderer: Reporter, *, failed: bool
) -> None:
    turns = state.reply_turns(index + 1)
    answered = index < state.delivered
    destination = plan.destination(index)
    audio = JoinedAudio(t.audio for t in turns)  # read in blocks: it may be on disk (commands/reply_spill)
    rate = next((t.audio_rate for t in turns if t.audio_rate), None) or OUTPUT_RATE
    streamer = _streamer(renderer)
    if streamer is not None and destination == streamer.destination:  # streamed as it arrived
        streamer.close()  # a FIFO's reader sees the end (a failing close is the run's failure)
        where = "stdout" if destination == "-" else destination
        if streamer.broken:
            pass  # the write error is the run's failure; what reached the stream is unknown
        elif streamer.streamed and streamer.rate:
            renderer.reply_written(destination, streamer.streamed, streamer.rate, partial=failed and not answered)
        elif answered:
            renderer.warning(f"no reply audio for {name}: nothing written to {where}")
    elif destination is not None and len(audio):
        from livecli.audio.encode import write_reply

        write_reply(destination, audio, rate, stdout=env.stdout, kind=plan.file_kind)
        renderer.reply_written(destination, len(audio), rate, partial=failed and not answered)
    elif destination is not None and answered:
        renderer.warning(f"no reply audio for {name}: nothing written to {destination}")
    # One line per turn: server VAD may answer one input with several replies, each its own sentence.
    for text in (t.text or t.output_transcript for t in turns) if plan.transcript_to_stdout else ():
        if text:
            write_text(env.stdout, printable(text, keep_newlines=True) if env.stdout_isatty else text)
