"""--expect-transcript / --min-reply-seconds on finished turns."""

from __future__ import annotations

import pytest

from livecli.commands.checks import check_replies, compile_expectation
from livecli.errors import NoReplyError, UsageError
from livecli.protocol.session import Turn


def turn(index: int, *, transcript: str = "", text: str = "", seconds: float = 0.0) -> Turn:
    t = Turn(index=index, started_at=0.0, audio_rate=24000)
    t.audio += b"\0\0" * int(seconds * 24000)
    if transcript:
        t.output_pieces.append(transcript)
    if text:
        t.text_parts.append(text)
    return t


def test_some_turn_matching_is_enough() -> None:
    replies = [("a", [turn(1, transcript="hello", seconds=1)]), ("b", [turn(2, text="Paris is sunny", seconds=1)])]
    check_replies(replies, compile_expectation(r"sunny$"), 0.5)


def test_no_match_names_the_pattern_and_what_was_said() -> None:
    with pytest.raises(NoReplyError, match=r"'rain' matched no reply; the replies said: 'hello'"):
        check_replies([("a", [turn(1, transcript="hello")])], compile_expectation("rain"), None)
    with pytest.raises(NoReplyError, match="no transcript or text"):
        check_replies([("a", [turn(1, seconds=1)])], compile_expectation("x"), None)


def test_each_input_needs_the_minimum_reply() -> None:
    replies = [("a", [turn(1, seconds=1.0), turn(2, seconds=0.5)]), ("b", [turn(3, seconds=0.4)])]
    with pytest.raises(NoReplyError, match=r"the reply to b is 0\.40 s of audio"):
        check_replies(replies, None, 1.2)


def test_bad_regex_is_a_usage_error() -> None:
    assert compile_expectation(None) is None
    with pytest.raises(UsageError):
        compile_expectation("[z-a]")
