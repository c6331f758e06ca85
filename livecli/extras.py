"""Optional extras, imported only by the option that needs them (never at start-up).

`livecli[media]` (Pillow, PyAV) backs `--image`/`--video`; `livecli[mcp]` (the MCP SDK) backs `--mcp`/`--mcp-url`;
`livecli[report]` (Jinja2, matplotlib) backs `livecli report`; `livecli[talk]` (sounddevice) backs `livecli talk`,
`livecli devices` and `--play`;
`livecli[fast]` (uvloop) backs `serve --loop uvloop`.
A missing one is a usage error that names the pip command (exit status 2), not an ImportError traceback.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from livecli.errors import MissingExtra

__all__ = ["EXTRAS", "import_extra"]

# The extra that provides each importable top-level module.
EXTRAS = {
    "PIL": "media",
    "av": "media",
    "mcp": "mcp",
    "jinja2": "report",
    "matplotlib": "report",
    "sounddevice": "talk",
    "uvloop": "fast",
}


def import_extra(module: str, *, needed_by: str) -> ModuleType:
    """`module` (e.g. "PIL.Image", "av", "mcp.client.stdio"), or MissingExtra naming the pip command.

    `needed_by` names what asked for it in the message (e.g. "--image").
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        extra = EXTRAS[module.partition(".")[0]]
        raise MissingExtra(
            f"{needed_by} needs the optional {extra} extra ({exc.name or module} is not installed): "
            f"pip install 'livecli[{extra}]'"
        ) from None
