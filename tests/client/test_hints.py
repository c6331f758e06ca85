"""Close-reason hints: known causes get one, the reason stays verbatim and first."""

from __future__ import annotations

import pytest

from livecli.client.hints import close_hint, with_hint
from livecli.errors import NoReplyError, ServerClosed


@pytest.mark.parametrize(
    ("reason", "needle"),
    [
        (
            "Invalid JSON payload received. Unknown name \"foo\" at 'setup.generation_config': Cannot find field.",
            "field",
        ),
        ("No matching speaker voice found", "--voice"),
        ("Cannot extract voices from a non-audio request", "--modality"),
        ("User location is not supported for the API use.", "geo"),
        ("API key expired. Please renew the API key.", "renew"),
        (
            "You exceeded your current quota, please check your plan and billing details. For more information on",
            "quota",
        ),
        ("Request trace id: 1, [ORIGINAL ERROR] RPC::DEADLINE_EXCEEDED: ", "deadline"),
        ("Operation is not implemented, or supported, or enabled.", "--model"),
        ("Request contains an invalid argument.", "--dry-run"),
    ],
)
def test_known_reasons_have_a_hint(reason: str, needle: str) -> None:
    hint = close_hint(1007, reason)
    assert hint is not None and needle in hint


def test_invalid_argument_with_client_content_points_at_it() -> None:
    hint = close_hint(1007, "Request contains an invalid argument.", client_content=True)
    assert hint is not None and "--client-content" in hint


def test_unknown_reason_has_no_hint_and_the_message_is_untouched() -> None:
    error = ServerClosed(1011, "Internal error encountered.", after_setup=True)
    with_hint(error)
    assert str(error) == "server closed the connection: 1011 Internal error encountered."


def test_hint_follows_the_verbatim_reason_once() -> None:
    error = ServerClosed(1007, "No matching speaker voice found", after_setup=False)
    with_hint(error)
    with_hint(error)
    assert str(error).startswith("server closed the connection: 1007 No matching speaker voice found (hint: ")
    assert str(error).count("(hint: ") == 1 and error.reason == "No matching speaker voice found"
    other = NoReplyError("no reply")
    with_hint(other)
    assert str(other) == "no reply"
