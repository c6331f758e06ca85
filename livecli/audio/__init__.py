"""Audio for client and server alike: decode (input files → 16 kHz s16le chunks), encode (reply files), levels
(loudness and silence), resample, pacing. Imports only livecli.protocol and livecli.errors below it.

`livecli.audio:resample` names the resampler for benchmarks (`resample_anchors.py --extra
ours=livecli.audio:resample`). It is resolved on first use, so importing a light module of this package (pacing)
does not load numpy.
"""

from __future__ import annotations

from typing import Any

__all__ = ["resample"]


def __getattr__(name: str) -> Any:
    if name == "resample":
        from livecli.audio.resample import resample

        # Importing the submodule `resample` just set this package's attribute of that name to the module; the
        # function is what `livecli.audio:resample` means, so it takes the name from now on.
        globals()["resample"] = resample
        return resample
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
