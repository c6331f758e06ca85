"""Client audio made 16 kHz as it arrives, without letting a client make the server build filters without end.

Each input rate other than 16 kHz needs a resampler whose filter (a plan or kernel table) takes from a few to a few
hundred milliseconds to build. A client cycling `mimeType` rates blocked the event loop for seconds. So
(docs/wire.md, "Limits of the local server"):
- the server keeps one resampler per rate (`RatePlans`, LRU, bounded in bytes); a stream starts from it with
  `Resampler.fresh()`, which builds nothing;
- the pump builds a rate a frame declares before the session reads it, in a thread (`unbuilt_rates`, `build`);
- one connection may use at most MAX_INPUT_RATES rates besides 16 kHz: one more closes it with 1007.
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from typing import Any

from livecli.audio.resample import Resampler, from_pcm16, to_int16
from livecli.protocol.wire import INPUT_RATE
from livecli.server.limits import MAX_INPUT_RATES, TOO_MANY_RATES
from livecli.server.validate import MAX_RATE, MIN_RATE, Refusal

__all__ = ["PLANS", "InboundAudio", "RatePlans"]

_RATE = re.compile(rb"rate\s*=\s*(\d{1,9})")
_RATE_TEXT = re.compile(r"rate\s*=\s*(\d{1,9})")
_SIXTEEN = str(INPUT_RATE)
MAX_PLAN_CACHE_BYTES = 96 << 20  # the filters kept for every connection together (at least the newest one)


def _only_input_rate(frame: str | bytes) -> bool:
    """Whether every `rate =` in the raw frame is followed by exactly 16000 (or there is none): the commonest
    audio frame, told by looking at each `=` (in base64 only its end's padding) instead of running the regular
    expression over the whole frame (about a microsecond a frame)."""
    text = isinstance(frame, str)
    equals, rate, sixteen = ("=", "rate", _SIXTEEN) if text else (b"=", b"rate", _SIXTEEN.encode())
    at = frame.find(equals)  # type: ignore[arg-type]
    while at != -1:
        if frame.endswith(rate, 0, at):  # type: ignore[arg-type]
            end = at + 1 + len(sixteen)
            if not frame.startswith(sixteen, at + 1) or frame[end : end + 1].isdigit():  # type: ignore[arg-type]
                return False
        elif frame[at - 1 : at].isspace():
            return False  # perhaps `rate =`: the regular expression decides
        at = frame.find(equals, at + 1)  # type: ignore[arg-type]
    return True


def _unescaped(frame: str | bytes) -> str | bytes:
    """The frame's JSON with its escapes read (as text the regular expression can scan), or the frame itself when
    it is not JSON (the session refuses it)."""
    try:
        return json.dumps(json.loads(frame), ensure_ascii=False)
    except (ValueError, RecursionError):
        return frame


class RatePlans:
    """One resampler to 16 kHz per input rate, never run itself: streams start from it (thread-safe)."""

    def __init__(self, max_bytes: int = MAX_PLAN_CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self._built: OrderedDict[int, tuple[Resampler, int]] = OrderedDict()
        self._lock = threading.Lock()

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Copied or pickled (a saved input state, a shared store): the process's cache stays the one cache,
        another starts empty."""
        return (_shared_plans, ()) if self is PLANS else (RatePlans, (self.max_bytes,))

    def __contains__(self, rate: int) -> bool:
        with self._lock:
            return rate in self._built

    def build(self, rate: int) -> Resampler:
        """Build the filter for `rate` (slow: call it off the event loop) and keep it; return it."""
        with self._lock:
            if rate in self._built:
                self._built.move_to_end(rate)
                return self._built[rate][0]
        built = Resampler(rate, INPUT_RATE)
        size = built.plan_bytes()
        with self._lock:
            self._built[rate] = (built, size)
            while len(self._built) > 1 and sum(s for _, s in self._built.values()) > self.max_bytes:
                self._built.popitem(last=False)
        return built

    def stream(self, rate: int) -> Resampler:
        """A new stream at `rate` (built here when the pump did not build it first)."""
        return self.build(rate).fresh()


PLANS = RatePlans()  # shared by every server of the process: the filters depend on nothing but the rate


def _shared_plans() -> RatePlans:
    return PLANS


class InboundAudio:
    """Client audio made 16 kHz as it arrives: one streaming resampler while the declared rate stays the same."""

    def __init__(self, plans: RatePlans = PLANS) -> None:
        self._plans = plans
        self._rate = INPUT_RATE
        self._resampler: Resampler | None = None
        self.rates: set[int] = set()  # the rates besides 16 kHz this connection declared

    def unbuilt_rates(self, frame: str | bytes) -> list[int]:
        """The rates `frame` declares that would be built on the event loop: new to this connection, within
        its allowance and not built yet (the pump builds them in a thread first). A scan of the raw frame, or of
        the frame with its JSON escapes read when it has any (`rate\u003d47011` is a rate too); a rate it still
        misses is built when used, as before."""
        if "\\" in frame if isinstance(frame, str) else b"\\" in frame:
            frame = _unescaped(frame)
        elif _only_input_rate(frame):
            return []
        found = _RATE_TEXT.finditer(frame) if isinstance(frame, str) else _RATE.finditer(frame)
        wanted: list[int] = []
        for match in found:
            rate = int(match.group(1))
            if rate == INPUT_RATE or not MIN_RATE <= rate <= MAX_RATE or rate in self.rates or rate in wanted:
                continue
            if len(self.rates) + len(wanted) >= MAX_INPUT_RATES:
                break
            if rate not in self._plans:
                wanted.append(rate)
        return wanted

    def convert(self, pcm: bytes, rate: int) -> bytes:
        """16 kHz s16le for `pcm` at `rate` (a rate change first flushes the previous rate's tail)."""
        head = b""
        if rate != self._rate:
            if rate != INPUT_RATE and rate not in self.rates:
                if len(self.rates) >= MAX_INPUT_RATES:
                    raise Refusal.of(TOO_MANY_RATES)
                self.rates.add(rate)
            head = self.flush()
            self._rate = rate
            self._resampler = None if rate == INPUT_RATE else self._plans.stream(rate)
        if self._resampler is None:
            return head + pcm
        return head + to_int16(self._resampler.process(from_pcm16(pcm))).tobytes()

    def flush(self) -> bytes:
        """The resampler's tail (end of a turn or of the stream); it then starts afresh."""
        if self._resampler is None:
            return b""
        tail = to_int16(self._resampler.flush()).tobytes()
        self._resampler = self._resampler.fresh()
        return tail
