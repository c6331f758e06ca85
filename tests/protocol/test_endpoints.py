"""livecli.protocol.endpoints: hosts, paths, loopback detection and the one --endpoint rule."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livecli.errors import UsageError
from livecli.protocol.endpoints import (
    EPHEMERAL_VERSION,
    GEMINI_DEFAULT_VERSION,
    GEMINI_VERSIONS,
    VERTEX_VERSIONS,
    endpoint_url,
    gemini_path,
    is_loopback,
    vertex_path,
    with_path,
    with_query,
)

PATH = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"


def test_the_paths_of_every_backend_and_version() -> None:
    """The one place the paths are spelled out: the server and the tests build them with these functions."""
    gemini = "/ws/google.ai.generativelanguage.{}.GenerativeService.BidiGenerateContent"
    assert [gemini_path(version) for version in GEMINI_VERSIONS] == [
        gemini.format("v1beta"),
        gemini.format("v1"),
        gemini.format("v1alpha"),
    ]
    assert gemini_path(GEMINI_DEFAULT_VERSION) == PATH
    assert gemini_path(EPHEMERAL_VERSION, constrained=True) == gemini.format("v1alpha") + "Constrained"
    assert [vertex_path(version) for version in VERTEX_VERSIONS] == [
        "/ws/google.cloud.aiplatform.v1.LlmBidiService/BidiGenerateContent",
        "/ws/google.cloud.aiplatform.v1beta1.LlmBidiService/BidiGenerateContent",
    ]


def test_is_loopback() -> None:
    hosts = (
        "::1",
        "[::1]",
        "127.0.0.1",
        "127.9.9.9",
        "LocalHost",
        "a.localhost",
        "10.0.0.1",
        "example.com",
        "",
        None,
    )
    assert [is_loopback(h) for h in hosts] == [True, True, True, True, True, True, False, False, False, False]


def test_no_endpoint_means_the_backend_host_over_tls() -> None:
    assert endpoint_url(None, "h.example", PATH) == (f"wss://h.example{PATH}", "h.example")


def test_query_values_are_percent_encoded_and_appended() -> None:
    assert with_query("wss://h/p", "key", "a b&c/d") == "wss://h/p?key=a%20b%26c/d"
    assert (
        with_query("wss://h/p?x=1", "access_token", "auth_tokens/t") == "wss://h/p?x=1&access_token=auth_tokens/t"
    )


@pytest.mark.parametrize("url", ["http://127.0.0.1:1", "https://x.example/ws", "127.0.0.1:80", "ws://", "ftp://a"])
def test_endpoint_must_be_ws_or_wss(url: str) -> None:
    with pytest.raises(UsageError, match="ws:// or wss://"):
        endpoint_url(url, "h", PATH)


def test_fragment_is_refused() -> None:
    with pytest.raises(UsageError, match="#fragment"):
        endpoint_url("ws://127.0.0.1:1/p#x", "h", PATH)


@settings(max_examples=60, deadline=None)
@given(
    path=st.lists(st.from_regex(r"[A-Za-z0-9._~-]{1,8}", fullmatch=True), min_size=1, max_size=4),
    query=st.from_regex(r"([a-z]{1,5}=[A-Za-z0-9]{0,6})?", fullmatch=True),
    port=st.integers(1, 65535),
    scheme=st.sampled_from(["ws", "wss"]),
)
def test_endpoint_rule_property(path: list[str], query: str, port: int, scheme: str) -> None:
    """A URL with a path is used as given; the same URL without a path gets the standard path; query kept."""
    suffix = f"?{query}" if query else ""
    given_url = f"{scheme}://127.0.0.1:{port}/{'/'.join(path)}{suffix}"
    assert endpoint_url(given_url, "h", PATH) == (given_url, "127.0.0.1")
    for bare in (f"{scheme}://127.0.0.1:{port}{suffix}", f"{scheme}://127.0.0.1:{port}/{suffix}"):
        parts = urlsplit(with_path(bare, PATH))
        assert (parts.scheme, parts.netloc, parts.path, parts.query) == (scheme, f"127.0.0.1:{port}", PATH, query)
