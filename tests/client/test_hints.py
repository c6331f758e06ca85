"""Close-reason hints: every reason in the table has one, the reason stays verbatim and first."""

from __future__ import annotations

import pytest

from livecli.client.hints import HINTS, close_hint, with_hint
from livecli.errors import NoReplyError, ServerClosed
from livecli.protocol import close_reasons as cr


def as_sent(reason: cr.CloseReason) -> str:
    """The reason as a server would send it, its template fields filled with plausible values."""
    return reason.format(**{name: f"<{name}>" for name in reason.fields()})


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
        ("Internal error occurred.", "try again"),
    ],
)
def test_known_reasons_have_a_hint(reason: str, needle: str) -> None:
    hint = close_hint(1007, reason)
    assert hint is not None
    assert needle in hint


def test_every_reason_in_the_table_has_its_hint() -> None:
    assert set(HINTS) == set(cr.ALL)
    assert all(hint.strip() for hint in HINTS.values())


@pytest.mark.parametrize("reason", cr.ALL, ids=lambda reason: reason.match)
def test_each_reason_as_sent_gets_its_own_hint(reason: cr.CloseReason) -> None:
    """No other entry's needle shadows it, and a cut at 123 bytes keeps what identifies it."""
    sent = as_sent(reason)
    assert len(sent.encode()) <= cr.CLOSE_REASON_LIMIT
    assert cr.identify(sent) is reason
    assert close_hint(reason.code, sent) == HINTS[reason]


def test_a_long_templated_reason_is_cut_and_still_recognised() -> None:
    sent = cr.TOOL_RESPONSE_MISMATCH.format(name="é" * 100)
    assert len(sent.encode()) <= cr.CLOSE_REASON_LIMIT
    assert cr.identify(sent) is cr.TOOL_RESPONSE_MISMATCH


def test_invalid_argument_with_client_content_points_at_it() -> None:
    hint = close_hint(1007, "Request contains an invalid argument.", client_content=True)
    assert hint is not None
    assert "--client-content" in hint


def test_unknown_reason_has_no_hint_and_the_message_is_untouched() -> None:
    error = ServerClosed(4000, "weird reason", after_setup=True)
    with_hint(error)
    assert str(error) == "server closed the connection: 4000 weird reason"


def test_hint_follows_the_verbatim_reason_once() -> None:
    error = ServerClosed(1007, "No matching speaker voice found", after_setup=False)
    with_hint(error)
    with_hint(error)
    assert str(error).startswith("server closed the connection: 1007 No matching speaker voice found (hint: ")
    assert str(error).count("(hint: ") == 1
    assert error.reason == "No matching speaker voice found"


def test_only_close_errors_get_a_hint() -> None:
    other = NoReplyError("no reply")
    with_hint(other)
    assert str(other) == "no reply"
