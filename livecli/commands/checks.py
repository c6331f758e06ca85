"""CI assertions: `--expect-transcript REGEX`, `--min-reply-seconds S` and `--fail-on-silence`.

A reply check fails with NoReplyError (exit 5) and a message that says what was expected and what came back; when
they hold, one line says so. A silent input is warned about, or with `--fail-on-silence` refused before
connecting (AudioInputError, exit 6).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from livecli.errors import AudioInputError, NoReplyError, UsageError
from livecli.protocol.report import NEAR_SILENT_DBFS

if TYPE_CHECKING:
    from livecli.audio.decode import InputAudio
    from livecli.protocol.session import Turn

__all__ = ["check_inputs_audible", "check_replies", "compile_expectation"]

_SHOWN_CHARS = 120


def compile_expectation(pattern: str | None) -> re.Pattern[str] | None:
    """The --expect-transcript regex, refused before connecting when it does not compile."""
    if pattern is None:
        return None
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise UsageError(f"--expect-transcript {pattern!r} is not a valid regular expression: {exc}") from None


def check_inputs_audible(audio: Sequence[InputAudio], fail: bool, warn: Callable[[str], None]) -> None:
    """Warn about each silent input (every sample zero or NaN: the model hears nothing); with `fail`
    (--fail-on-silence) the first one is an AudioInputError (exit 6), before connecting."""
    for source in audio:
        if source.silent():
            what = f"{source.name}: the input is silent (every sample is zero or NaN)"
            if fail:
                raise AudioInputError(f"{what}; --fail-on-silence")
            warn(f"{what}: the model will hear nothing")


def check_replies(
    replies: Sequence[tuple[str, Sequence[Turn]]],
    expect: re.Pattern[str] | None,
    min_reply_s: float | None,
    fail_on_silence: bool = False,
) -> str | None:
    """Raise NoReplyError unless some turn's transcript or text matches, every reply is long enough and (with
    `fail_on_silence`) no reply's audio is near-silent; return one line saying what held (None when nothing was
    asked), so a CI log shows the checks ran and passed.

    `replies` holds each input's name and the turns that answered it.
    """
    passed: list[str] = []
    if min_reply_s is not None:
        passed.append(_check_lengths(replies, min_reply_s))
    if fail_on_silence:
        passed.append(_check_loudness(replies))
    if expect is not None:
        passed.append(_check_transcripts(replies, expect))
    return "; ".join(passed) or None


def _check_lengths(replies: Sequence[tuple[str, Sequence[Turn]]], min_reply_s: float) -> str:
    shortest = None
    for name, turns in replies:
        seconds = sum(t.audio_duration_s for t in turns)
        if seconds < min_reply_s:
            raise NoReplyError(
                f"--min-reply-seconds {min_reply_s:g}: the reply to {name} is {seconds:.2f} s of audio"
            )
        shortest = seconds if shortest is None else min(shortest, seconds)
    shortest_s = f" (shortest {shortest:.2f} s)" if shortest is not None else ""
    return f"--min-reply-seconds {min_reply_s:g}: every reply is long enough{shortest_s}"


def _check_loudness(replies: Sequence[tuple[str, Sequence[Turn]]]) -> str:
    """A reply whose audio is there but quieter than NEAR_SILENT_DBFS fails (the same threshold as the warning);
    a reply without audio is --min-reply-seconds' business."""
    from livecli.audio.levels import rms_dbfs_pcm16_parts

    for name, turns in replies:
        if any(t.audio for t in turns):
            level = rms_dbfs_pcm16_parts(block for t in turns for block in t.audio.blocks())
            if level < NEAR_SILENT_DBFS:
                loudness = "all samples zero" if level == -math.inf else f"{level:.0f} dBFS"
                raise NoReplyError(f"--fail-on-silence: the reply to {name} is near-silent ({loudness})")
    return f"--fail-on-silence: no reply is near-silent (below {NEAR_SILENT_DBFS:g} dBFS)"


def _check_transcripts(replies: Sequence[tuple[str, Sequence[Turn]]], expect: re.Pattern[str]) -> str:
    said = [text for _, turns in replies for t in turns for text in (t.output_transcript, t.text) if text]
    matched = next((text for text in said if expect.search(text)), None)
    if matched is not None:
        return f"--expect-transcript '{expect.pattern}' matched {_shown(matched)!r}"
    heard = _shown(" | ".join(said))
    got = f"the replies said: {heard!r}" if said else "the replies had no transcript or text"
    raise NoReplyError(f"--expect-transcript {expect.pattern!r} matched no reply; {got}")


def _shown(text: str) -> str:
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 1] + "…"
