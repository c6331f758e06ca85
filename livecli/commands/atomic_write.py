"""A file written whole or not at all (batch's --junit, report's -o): a reader never sees half of it.

The bytes go to a temporary file beside `path`, which is renamed into place; its mode is what `open()` would
have made (mkstemp makes 0600). A failure is one OutputError line naming the option and the path.
"""

from __future__ import annotations

import os
import tempfile

from livecli.errors import OutputError

__all__ = ["write_atomically"]


def write_atomically(path: str, data: bytes, *, flag: str) -> None:
    """`data` to `path` through a temporary file renamed into place; `flag` names the option in the error."""
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, temporary = tempfile.mkstemp(prefix=".livecli-", suffix=os.path.splitext(path)[1], dir=directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.chmod(temporary, 0o666 & ~_umask())
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError as exc:
        raise OutputError(f"{flag} {path}: cannot write: {exc.strerror or exc}") from None


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
