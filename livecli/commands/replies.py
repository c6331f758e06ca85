"""Writing what came back: each input's reply audio to its destination, transcripts to stdout, the summary.

Runs after success, failure and Ctrl-C alike, so the reply received so far is never lost; a reply whose input
was not answered is marked partial.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from livecli.commands.input_loop import RunState
from livecli.commands.output import OutputPlan, write_text
from livecli.protocol.redact import printable
from livecli.protocol.report import Reporter
from livecli.protocol.wire import OUTPUT_RATE

if TYPE_CHECKING:
    from livecli.env import Env

__all__ = ["write_replies"]


def write_replies(
    env: Env,
    plan: OutputPlan,
    names: Sequence[str],
    state: RunState,
    renderer: Reporter,
    *,
    failed: bool,
    status: int,
) -> None:
    """Write every reply received (also after a failure), print transcripts, and the summary."""
    total_bytes = turns_count = usage_turns = 0
    try:
        for index, name in enumerate(names):
            turns = state.reply_turns(index + 1)
            answered = index < state.delivered
            destination = plan.destination(index)
            turns_count += len(turns)
            usage_turns += sum(t.usage is not None for t in turns)
            pcm = b"".join(bytes(t.audio) for t in turns)
            total_bytes += len(pcm)
            rate = next((t.audio_rate for t in turns if t.audio_rate), None) or OUTPUT_RATE
            if destination is not None and pcm:
                from livecli.audio.encode import write_reply

                write_reply(destination, pcm, rate, stdout=env.stdout)
                renderer.reply_written(destination, len(pcm), rate, partial=failed and not answered)
            elif destination is not None and answered:
                renderer.warning(f"no reply audio for {name}: nothing written to {destination}")
            # One line per turn: server VAD may answer one input with several replies, each its own sentence.
            for text in (t.text or t.output_transcript for t in turns) if plan.transcript_to_stdout else ():
                if text:
                    write_text(env.stdout, printable(text, keep_newlines=True) if env.stdout_isatty else text)
    finally:
        reconnects = state.resumer.total if state.resumer is not None else 0
        renderer.summary(
            len(names), turns_count, total_bytes, status, reconnects=reconnects, usage_turns=usage_turns
        )
        renderer.close()
