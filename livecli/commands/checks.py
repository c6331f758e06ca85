"""CI assertions on the replies: `--expect-transcript REGEX` and `--min-reply-seconds S`.

Both fail with NoReplyError (exit 5) and a message that says what was expected and what came back; when they
hold, one line says so.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from livecli.errors import NoReplyError, UsageError

if TYPE_CHECKING:
    from livecli.protocol.session import Turn

__all__ = ["check_replies", "compile_expectation"]

_SHOWN_CHARS = 120


def compile_expectation(pattern: str | None) -> re.Pattern[str] | None:
    """The --expect-transcript regex, refused before connecting when it does not compile."""
    if pattern is None:
        return None
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise UsageError(f"--expect-transcript {pattern!r} is not a valid regular expression: {exc}") from None


def check_replies(
    replies: Sequence[tuple[str, Sequence[Turn]]], expect: re.Pattern[str] | None, min_reply_s: float | None
) -> str | None:
    """Raise NoReplyError unless some turn's transcript or text matches and every reply is long enough; return
    one line saying what held (None when nothing was asked), so a CI log shows the checks ran and passed.

    `replies` holds each input's name and the turns that answered it.
    """
    passed: list[str] = []
    if min_reply_s is not None:
        shortest = None
        for name, turns in replies:
            seconds = sum(t.audio_duration_s for t in turns)
            if seconds < min_reply_s:
                raise NoReplyError(
                    f"--min-reply-seconds {min_reply_s:g}: the reply to {name} is {seconds:.2f} s of audio"
                )
            shortest = seconds if shortest is None else min(shortest, seconds)
        shortest_s = f" (shortest {shortest:.2f} s)" if shortest is not None else ""
        passed.append(f"--min-reply-seconds {min_reply_s:g}: every reply is long enough{shortest_s}")
    if expect is None:
        return "; ".join(passed) or None
    said = [text for _, turns in replies for t in turns for text in (t.output_transcript, t.text) if text]
    matched = next((text for text in said if expect.search(text)), None)
    if matched is not None:
        passed.append(f"--expect-transcript '{expect.pattern}' matched {_shown(matched)!r}")
        return "; ".join(passed)
    heard = _shown(" | ".join(said))
    got = f"the replies said: {heard!r}" if said else "the replies had no transcript or text"
    raise NoReplyError(f"--expect-transcript {expect.pattern!r} matched no reply; {got}")


def _shown(text: str) -> str:
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 1] + "…"
