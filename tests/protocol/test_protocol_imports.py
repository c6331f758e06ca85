"""The protocol core is sans-I/O: importing it pulls in no event loop, socket, audio or terminal library."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("asyncio", "websockets", "soundfile", "numpy", "rich")


def test_protocol_modules_import_no_io_libraries() -> None:
    """A fresh interpreter imports every livecli.protocol module and none of the heavy ones appear."""
    code = (
        "import pkgutil, importlib, sys, livecli.protocol as p\n"
        "names = [m.name for m in pkgutil.iter_modules(p.__path__)]\n"
        "for name in names: importlib.import_module('livecli.protocol.' + name)\n"
        f"print(','.join(names)); print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=30)
    imported, heavy = result.stdout.splitlines()
    assert {"client_messages", "events", "server_parse", "session", "wire", "models"} <= set(imported.split(","))
    assert heavy == ""
