"""error_summary(): Google's error body as `STATUS: message`; any other body as one bounded line of its text."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from livecli.protocol.google_errors import MAX_SUMMARY_CHARS, error_body, error_summary


def _google(**error: object) -> bytes:
    return json.dumps({"error": error}).encode()


@pytest.mark.parametrize(
    ("body", "summary"),
    [
        (
            _google(code=401, message="API key not valid.", status="UNAUTHENTICATED"),
            "UNAUTHENTICATED: API key not valid.",
        ),
        (_google(code=400, message="Bad model."), "Bad model."),
        (_google(message="spread\n  over\tlines", status=""), "spread over lines"),
        (b"<html>\r\n<h1>502 Bad Gateway</h1>\r\n</html>", "<html> <h1>502 Bad Gateway</h1> </html>"),
        (b"", ""),
        (None, ""),
        (bytearray(b"Not Found"), "Not Found"),
    ],
)
def test_google_bodies_and_plain_text(body: bytes | bytearray | None, summary: str) -> None:
    assert error_summary(body) == summary


@pytest.mark.parametrize(
    "body",
    [
        b'{"detail": "no error key"}',
        b'{"error": "a string, not an object"}',
        b'{"error": {"message": ""}}',
        b'{"error": {"message": 42, "status": "X"}}',
        b'["a", "list"]',
        b"null",
        b"\xff\xfe not utf-8",
    ],
)
def test_other_shapes_are_shown_as_their_text(body: bytes) -> None:
    """JSON of another shape (or no JSON) is not an error of its own: its text is shown."""
    assert error_summary(body) == " ".join(body.decode("utf-8", "replace").split())


def test_long_bodies_are_cut() -> None:
    assert error_summary(b"x" * 5000) == "x" * MAX_SUMMARY_CHARS


@given(
    st.one_of(
        st.binary(max_size=600),
        st.recursive(
            st.none() | st.text(max_size=50), lambda c: st.dictionaries(st.text(max_size=8), c, max_size=3)
        ).map(lambda v: json.dumps({"error": v}).encode()),
    )
)
def test_any_body_gives_one_bounded_line(body: bytes) -> None:
    summary = error_summary(body)
    assert len(summary) <= MAX_SUMMARY_CHARS
    assert summary == " ".join(summary.split())


WORDS = st.text(st.characters(categories=["L", "N", "P"]), min_size=1, max_size=20)


@given(
    code=st.integers(400, 599),
    words=st.lists(WORDS, min_size=1, max_size=5),
    status=st.from_regex(r"[A-Z_]{1,30}", fullmatch=True),
)
def test_the_body_the_local_server_writes_reads_back_as_status_and_message(
    code: int, words: list[str], status: str
) -> None:
    """error_body (what the local server sends when it refuses an upgrade) and error_summary (what the client
    shows) agree on the shape."""
    message = " ".join(words)
    assert error_summary(error_body(code, message, status).encode()) == f"{status}: {message}"
