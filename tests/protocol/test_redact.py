"""redact() and mask(): secrets never survive, in plain or URL-encoded form."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from fake_google import FAKE_ACCESS_TOKEN, FAKE_KEY, FAKE_TOKEN, FakeGoogle, write_service_account
from helpers import run_cli, ws_server_thread
from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.sync.server import ServerConnection

from livecli.protocol.redact import MASK, mask, printable, redact, redact_url

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "hello_16k.wav"


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


@settings(max_examples=200, deadline=None)
@given(secret=st.text(min_size=1, max_size=60))
def test_mask_never_reveals_more_than_four_characters(secret: str) -> None:
    """Whatever the secret (short ones included): at most its first 4 characters, then only its length."""
    tail = f"…({len(secret)} chars)"
    if secret.startswith("auth_tokens/"):  # the public prefix of every ephemeral token name
        assert mask(secret) == "auth_tokens/" + tail
    elif len(secret) < 16:
        assert mask(secret) == tail
    else:
        assert mask(secret) == secret[:4] + tail


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


# --- end to end: a server that quotes the credential back in its close reason ---------------------------------


@pytest.fixture(scope="module")
def echo_server() -> Iterator[str]:
    """A WebSocket server that closes 1007 with a reason quoting every credential it received (query or header)."""

    def handler(connection: ServerConnection) -> None:
        assert connection.request is not None
        headers = connection.request.headers
        query = parse_qs(urlsplit(connection.request.path).query)
        heard = [*query.get("key", []), *query.get("access_token", [])]
        heard += [headers.get(name, "").split(" ")[-1] for name in ("x-goog-api-key", "authorization")]
        connection.recv(timeout=5)
        connection.close(1007, "bad credential " + " ".join(h for h in heard if h)[:100])

    with ws_server_thread(handler) as url:
        yield url


@pytest.mark.usefixtures("isolated_credentials")
@pytest.mark.parametrize(
    "credentials",
    [
        ["--api-key", FAKE_KEY],
        ["--api-key", FAKE_KEY, "--key-in-query"],
        ["--token", FAKE_TOKEN],
        ["--token", FAKE_TOKEN, "--token-in-header"],
        ["--vertex", "--api-key", FAKE_KEY],
        ["--vertex", "--location", "us-central1"],
    ],
)
def test_echoed_credentials_never_reach_any_output(
    echo_server: str, fake: FakeGoogle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, credentials: list[str]
) -> None:
    """send/text with -vv, --json and --traceback: the close reason arrives, the credential in it does not."""
    sa = write_service_account(fake, tmp_path / "sa.json")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(sa))
    for command in (["send", str(SAMPLE)], ["text", "hello"]):
        for extra in (["-vv"], ["--json"], ["--traceback", "-vv"]):
            result = run_cli(*command, "--endpoint", echo_server, "--speed", "0", *credentials, *extra, expect=3)
            output = result.stdout + result.stderr
            assert "bad credential ***" in output
            assert not any(secret in output for secret in (FAKE_KEY, FAKE_TOKEN, FAKE_ACCESS_TOKEN))


def test_printable_escapes_terminal_controls_and_keeps_text() -> None:
    assert printable("ok é 日本 [b]x[/b]") == "ok é 日本 [b]x[/b]"
    assert printable("a\x1b[2Jb\x9b\u202ec\nd") == "a\\x1b[2Jb\\x9b\\u202ec\\nd"
