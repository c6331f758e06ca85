"""livecli.extras: a missing optional extra is one usage error naming the pip command."""

from __future__ import annotations

import sys

import pytest
from helpers import dev_only

from livecli.errors import MissingExtra, UsageError
from livecli.extras import import_extra


def test_a_missing_extra_names_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "av", None)  # what `import av` meets when PyAV is not installed
    with pytest.raises(MissingExtra) as caught:
        import_extra("av", needed_by="--video")
    assert "pip install 'livecli[media]'" in str(caught.value)


def test_the_message_names_the_option_that_needed_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "mcp", None)
    with pytest.raises(MissingExtra) as caught:
        import_extra("mcp", needed_by="--mcp")
    assert str(caught.value).startswith("--mcp needs the optional mcp extra")


def test_a_missing_extra_is_a_usage_error() -> None:
    assert issubclass(MissingExtra, UsageError)


def test_an_installed_module_is_returned() -> None:
    dev_only("PIL")  # the media extra: installed by `make install`, absent under `make test-min`
    assert import_extra("PIL", needed_by="--image").__name__ == "PIL"
