"""redact() and mask(): secrets never survive, in plain or URL-encoded form."""

from __future__ import annotations

from fake_google import FAKE_ACCESS_TOKEN, FAKE_KEY, FAKE_TOKEN
from hypothesis import given, settings
from hypothesis import strategies as st

from livecli.redact import MASK, mask, redact, redact_url


def test_redact_replaces_every_occurrence_and_encoded_forms() -> None:
    text = f"key={FAKE_KEY} again {FAKE_KEY}; token {FAKE_TOKEN.replace('/', '%2F')}; bearer {FAKE_ACCESS_TOKEN}"
    out = redact(text, [FAKE_KEY, FAKE_TOKEN, FAKE_ACCESS_TOKEN])
    assert out == f"key={MASK} again {MASK}; token {MASK}; bearer {MASK}"


def test_redact_ignores_empty_and_tiny_secrets() -> None:
    assert redact("a b c", ["", "a"]) == "a b c"


def test_longer_secret_containing_a_shorter_one_is_replaced_whole() -> None:
    assert redact("xx-abcdefgh-123456-yy", ["abcdefgh", "abcdefgh-123456"]) == f"xx-{MASK}-yy"


def test_mask_reveals_at_most_four_characters() -> None:
    assert mask(FAKE_KEY) == f"AIza…({len(FAKE_KEY)} chars)"
    assert mask(FAKE_TOKEN) == f"auth_tokens/…({len(FAKE_TOKEN)} chars)"
    assert mask("short-secret") == "…(12 chars)"
    assert mask(None) == "(none)"


def test_redact_url_hides_credential_query_values() -> None:
    url = f"wss://h/p?x=1&key={FAKE_KEY}&access_token={FAKE_TOKEN}"
    assert redact_url(url, []) == f"wss://h/p?x=1&key={MASK}&access_token={MASK}"
    assert redact_url("wss://h/p", [FAKE_KEY]) == "wss://h/p"


@settings(max_examples=80, deadline=None)
@given(
    secret=st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=6, max_size=40),
    before=st.text(max_size=20),
    after=st.text(max_size=20),
)
def test_secret_never_survives(secret: str, before: str, after: str) -> None:
    assert secret not in redact(before + secret + after, [secret])


def test_replacement_that_forms_a_new_occurrence_is_redacted_too() -> None:
    assert redact("***abcabc", ["***abc"]) == MASK
