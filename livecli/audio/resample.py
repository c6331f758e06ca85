"""Streaming polyphase Kaiser-windowed-sinc resampler (numpy only), time-aligned and exact-length.

Output sample j is the band-limited input evaluated at input time j * sr_in / sr_out: no delay offset, and a
stream of n input samples yields exactly ceil(n * sr_out / sr_in) output samples after `flush()`.

The ratio is L/M (reduced by gcd). With up to MAX_DENSE_PHASES phases and a plan of at most MAX_PLAN_BYTES
(every common rate → 16 kHz), a "dense group" plan is used: the output is cut into groups of g consecutive
samples; the phases repeat every super-period of P outputs (P*M/L inputs), so each of the P/g group types is one
small matrix, and all groups of one type in a block are one GEMM over a strided view of the input. Other ratios
use a per-output gather from a finely sampled kernel table with linear interpolation between phases; an odd rate
at 64 kHz or more is first decimated by an integer factor (a short filter, since the band it must keep ends at the
output's Nyquist), so the gather stage runs at 32-64 kHz with proportionally fewer taps.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["Resampler", "from_pcm16", "resample", "to_int16"]

Float32Array = npt.NDArray[np.float32]

# Filter shape, as fractions of the lower of the two rates. At 16 kHz out: flat to 7 kHz (ripple far below
# 0.01 dB), -0.8 dB at 7.3 kHz, -6 dB at 7.5 kHz, and every component at or above 8 kHz (the output's Nyquist)
# attenuated by ATTEN_DB, so nothing between 8 and 9.8 kHz folds back into the voice band (a 0.9-amplitude tone
# there comes out below -110 dBFS, under the int16 floor). The same edges at 8 kHz → 16 kHz keep the images above
# 4 kHz as low. bench/bench_resample_quality.py measures every edge against soxr HQ.
PASS_EDGE = 0.4375
STOP_EDGE = 0.5
ATTEN_DB = 110.0
MAX_DENSE_PHASES = 16000  # any rate → 16 kHz (L divides 16000)
# The dense plan's matrices at most: a high rate with many phases (383,987 Hz → 16 kHz: 16000 phases of 882 taps,
# 118 MB padded; 999,983 Hz took 327 MB and 3 s) uses the gather path instead, whose kernel table is at most
# ~7 MB for any input rate up to 384 kHz. bench/bench_resample_plans.py measures both over the input range.
MAX_PLAN_BYTES = 32 << 20
TABLE_PHASES = 2048  # kernel table resolution (per input sample) for the gather path
_TABLE_PIECE = 1 << 16  # table entries computed at once
GATHER_BLOCK = 4096  # outputs per gather step at most
GATHER_ELEMENTS = 1 << 18  # outputs x taps per gather step: bounds its temporaries (~2 MB each) for long kernels
MAX_GROUP = 1024  # outputs per GEMM row at most: huge upsampling ratios (1 Hz → 16 kHz) keep small plans
# A rate whose one-stage plan would be the gather path (an odd rate near 384 kHz: ~2700 taps an output, slower
# than real time) is first decimated by an integer factor to at least this rate (exact: the second stage takes
# the remaining ratio), which cuts the gather stage's taps by that factor.
PRE_STAGE_MIN_RATE = 32000


@dataclass(frozen=True)
class _Design:
    """The kernel in input-sample time: sinc cutoff `cutoff` (2 x cycles/sample), half-width `half` samples."""

    up: int  # L
    down: int  # M
    half: int
    cutoff: float
    beta: float


def _design(sr_in: int, sr_out: int) -> _Design:
    g = math.gcd(sr_in, sr_out)
    low = min(sr_in, sr_out)
    return _kaiser(sr_out // g, sr_in // g, PASS_EDGE * low / sr_in, STOP_EDGE * low / sr_in)


def _kaiser(up: int, down: int, pass_edge: float, stop_edge: float) -> _Design:
    """The Kaiser design for edges in cycles per input sample, attenuating ATTEN_DB from `stop_edge` on."""
    taps = (ATTEN_DB - 7.95) / (2.285 * 2 * math.pi * (stop_edge - pass_edge))
    cutoff = pass_edge + stop_edge  # = 2 * (-6 dB frequency) in cycles per input sample
    return _Design(up, down, math.ceil(taps / 2), cutoff, 0.1102 * (ATTEN_DB - 8.7))


def _decimation(sr_in: int, sr_out: int) -> int:
    """The integer factor a high input rate is first decimated by when one stage would take the slow gather path:
    the intermediate rate stays at least PRE_STAGE_MIN_RATE, so the first filter's transition band (from the
    output's band edge to where its images fold back in) is wide and its kernel short. 1: no first stage."""
    if sr_in < 2 * PRE_STAGE_MIN_RATE or sr_out * 2 > PRE_STAGE_MIN_RATE:
        return 1
    d = _design(sr_in, sr_out)
    if d.up <= MAX_DENSE_PHASES and _dense_bytes(d) <= MAX_PLAN_BYTES:
        return 1
    return sr_in // PRE_STAGE_MIN_RATE


def _kernel(t: npt.NDArray[np.float64], d: _Design) -> npt.NDArray[np.float64]:
    """Windowed sinc at input-sample offsets t (zero outside |t| < half)."""
    r = np.clip(1.0 - (t / d.half) ** 2, 0.0, None)
    window: npt.NDArray[np.float64] = np.i0(d.beta * np.sqrt(r)) / np.i0(d.beta)
    sinc: npt.NDArray[np.float64] = np.sinc(d.cutoff * t)
    return d.cutoff * sinc * window


def _phase_rows(fractions: npt.NDArray[np.float64], d: _Design) -> npt.NDArray[np.float64]:
    """Tap rows for outputs at fractional positions `fractions`; taps cover n0-half+1 .. n0+half."""
    taps = np.arange(2 * d.half)
    rows = _kernel(fractions[:, None] + (d.half - 1) - taps[None, :], d)
    normalized: npt.NDArray[np.float64] = rows / rows.sum(axis=1, keepdims=True)  # unity DC gain in every phase
    return normalized


def _group_size(d: _Design) -> int:
    """Outputs per GEMM row: about as many as the taps span, so at most half of each row is padding."""
    target = min(MAX_GROUP, max(16, round(2 * d.half * d.up / d.down)))
    if d.up <= target:
        return d.up * max(1, round(target / d.up))
    divisors = [k for k in range(1, d.up + 1) if d.up % k == 0]
    return min(divisors, key=lambda k: abs(math.log(k / target)))


def _dense_bytes(d: _Design) -> int:
    """An upper bound of the dense plan's size for `d`, without building it (float32, padding included)."""
    g = _group_size(d)
    span = (g - 1) * d.down // d.up + 1 + 2 * d.half
    return math.lcm(g, d.up) // g * span * g * 4


@dataclass(frozen=True)
class _Plan:
    """Dense-group plan: type t covers outputs t*g..t*g+g-1 of each super-period of `period_out` outputs."""

    group: int
    period_out: int
    period_in: int
    starts: tuple[int, ...]  # first input of each type, relative to the super-period's first input
    ends: tuple[int, ...]  # one past the last input of each type
    matrices: tuple[Float32Array, ...]  # per type: (span, group)


@lru_cache(maxsize=4)
def _plan(d: _Design) -> _Plan:
    g = _group_size(d)
    period_out = math.lcm(g, d.up)
    period_in = period_out * d.down // d.up
    taps = np.arange(2 * d.half)
    starts, ends, mats = [], [], []
    for t in range(period_out // g):  # one type at a time keeps the float64 temporaries small
        outputs = np.arange(t * g, (t + 1) * g, dtype=np.int64)
        first_tap = (outputs * d.down) // d.up - d.half + 1
        start, end = int(first_tap[0]), int(first_tap[-1]) + 2 * d.half
        mat = np.zeros((end - start, g), np.float32)
        mat[(first_tap - start)[:, None] + taps, np.arange(g)[:, None]] = _phase_rows(
            (outputs * d.down % d.up) / d.up, d
        )
        starts.append(start)
        ends.append(end)
        mats.append(mat)
    return _Plan(g, period_out, period_in, tuple(starts), tuple(ends), tuple(mats))


@lru_cache(maxsize=4)
def _table(d: _Design) -> Float32Array:
    """Kernel sampled every 1/TABLE_PHASES input samples over [-half, half] (+1 guard entry)."""
    t = np.arange(-d.half * TABLE_PHASES, d.half * TABLE_PHASES + 2) / TABLE_PHASES
    table = np.empty(t.size, np.float32)
    for start in range(0, t.size, _TABLE_PIECE):  # in pieces: np.i0's float64 temporaries stay small
        table[start : start + _TABLE_PIECE] = _kernel(t[start : start + _TABLE_PIECE], d)
    return table


class _Stage:
    """One filter stage over a stream: `process` returns the outputs whose inputs have all arrived, `finish` the
    rest (zero input after the end), by the dense plan or, failing that, the gather path."""

    def __init__(self, d: _Design, plan: _Plan | None = None, table: Float32Array | None = None) -> None:
        self._design = d
        self._dense = d.up <= MAX_DENSE_PHASES and _dense_bytes(d) <= MAX_PLAN_BYTES
        # The filter is built here, once, and kept: a stream never rebuilds it when the caches move on.
        self._plan = (plan or _plan(d)) if self._dense else None
        self._table = None if self._dense else (table if table is not None else _table(d))
        self._buf: Float32Array = np.zeros(d.half - 1, np.float32)  # zero history before t = 0
        self._buf_start = -(d.half - 1)  # input index of _buf[0]
        self._n_in = 0
        self._n_out = 0  # outputs returned so far
        self._next = 0  # next group (dense) or output (gather) to compute

    def process(self, x: Float32Array) -> Float32Array:
        self._n_in += len(x)
        self._buf = np.concatenate((self._buf, x))
        return self._emit(self._run())

    def finish(self) -> Float32Array:
        """The remaining outputs: in all exactly ceil(n_in * up / down)."""
        total = -(-self._n_in * self._design.up // self._design.down)
        pad = self._input_end_for(total) - (self._buf_start + len(self._buf))
        if pad > 0:
            self._buf = np.concatenate((self._buf, np.zeros(pad, np.float32)))
        y = self._run()
        return self._emit(y[: max(0, total - self._n_out)])

    def _emit(self, y: Float32Array) -> Float32Array:
        self._n_out += len(y)
        return y

    def fresh(self) -> _Stage:
        """A new stream through the same filter."""
        return _Stage(self._design, self._plan, self._table)

    @property
    def path(self) -> str:
        return "dense" if self._plan is not None else "gather"

    def plan_bytes(self) -> int:
        """What the filter holds: the dense plan's matrices, or the gather path's kernel table (built here)."""
        if self._plan is not None:
            return sum(m.nbytes for m in self._plan.matrices)
        assert self._table is not None
        return int(self._table.nbytes)

    def _input_end_for(self, n_outputs: int) -> int:
        """Input index one past the last sample needed to compute `n_outputs` outputs (by whole groups)."""
        d = self._design
        if n_outputs <= 0:
            return self._buf_start
        if self._plan is None:
            return (n_outputs - 1) * d.down // d.up + d.half + 1
        p = self._plan
        types = p.period_out // p.group
        last = (n_outputs - 1) // p.group
        return (last // types) * p.period_in + p.ends[last % types]

    def _run(self) -> Float32Array:
        return self._run_dense(self._plan) if self._plan is not None else self._run_gather()

    def _run_dense(self, p: _Plan) -> Float32Array:
        types = len(p.matrices)
        end = self._buf_start + len(self._buf)
        full = (end - p.ends[-1]) // p.period_in  # super-periods complete in every type
        rest = end - (full + 1) * p.period_in
        stop = (full + 1) * types + sum(1 for e in p.ends if e <= rest)  # first group not computable
        first = self._next
        if stop <= first:
            return np.zeros(0, np.float32)
        out = np.empty((stop - first, p.group), np.float32)
        buf = self._buf
        for lo in range(first, min(stop, first + types)):  # lo: first group of its type in [first, stop)
            t = lo % types
            mat = p.matrices[t]
            rows = (stop - 1 - lo) // types + 1
            offset = (lo // types) * p.period_in + p.starts[t] - self._buf_start
            if rows == 1:
                view = buf[offset : offset + mat.shape[0]][None, :]
            else:  # one row per super-period: a strided view (np.ndarray is cheaper than as_strided)
                strides = (p.period_in * buf.itemsize, buf.itemsize)
                view = np.ndarray((rows, mat.shape[0]), np.float32, buf, offset * buf.itemsize, strides)
                if p.period_in < mat.shape[0]:  # overlapping rows: BLAS needs a plain copy
                    view = np.ascontiguousarray(view)
            np.matmul(view, mat, out=out[lo - first :: types])
        self._next = stop
        keep = (stop // types) * p.period_in + p.starts[stop % types]
        self._drop_before(keep)
        return out.reshape(-1)

    def _run_gather(self) -> Float32Array:
        d = self._design
        end = self._buf_start + len(self._buf)
        # output j needs inputs up to floor(j*M/L) + half - 1 < end
        stop = max(0, -(-(end - d.half) * d.up // d.down))
        first = self._next
        if stop <= first:
            return np.zeros(0, np.float32)
        windows = sliding_window_view(self._buf, 2 * d.half)
        table = self._table
        assert table is not None
        taps = np.arange(2 * d.half)
        outs = []
        step = max(1, min(GATHER_BLOCK, GATHER_ELEMENTS // (2 * d.half)))
        for a in range(first, stop, step):
            j = np.arange(a, min(stop, a + step), dtype=np.int64)
            n0 = (j * d.down) // d.up
            frac = (j * d.down % d.up) / d.up
            pos = (frac[:, None] + (2 * d.half - 1) - taps[None, :]) * TABLE_PHASES
            idx = pos.astype(np.int64)
            w = (pos - idx).astype(np.float32)
            coef = table[idx] * (1 - w) + table[idx + 1] * w
            win = windows[n0 - d.half + 1 - self._buf_start]
            outs.append((np.einsum("ij,ij->i", win, coef) / coef.sum(axis=1)).astype(np.float32))
        self._next = stop
        self._drop_before(stop * d.down // d.up - d.half + 1)
        return np.concatenate(outs)

    def _drop_before(self, index: int) -> None:
        drop = index - self._buf_start
        if drop > 0:
            self._buf = self._buf[drop:]
            self._buf_start = index


class Resampler:
    """Streaming resampler: `process(block)` returns what is ready, `flush()` the rest (exact total length)."""

    def __init__(self, sr_in: int, sr_out: int) -> None:
        if int(sr_in) != sr_in or int(sr_out) != sr_out or sr_in <= 0 or sr_out <= 0:
            raise ValueError(f"sample rates must be positive integers, got {sr_in} and {sr_out}")
        self.sr_in, self.sr_out = int(sr_in), int(sr_out)
        factor = _decimation(self.sr_in, self.sr_out)
        # The first stage (decimation by `factor`) keeps everything below the output's band edge and removes what
        # would fold onto it; the second resamples its output by the remaining ratio, as the rates (sr_in,
        # sr_out * factor): the same ratio and the same edges in Hz. Both stages are time-aligned, so the chain is.
        edge = self.sr_out / 2 / self.sr_in
        self._pre = _Stage(_kaiser(1, factor, edge, 1 / factor - edge)) if factor > 1 else None
        self._design = _design(self.sr_in, self.sr_out * factor)
        self._identity = self.sr_in == self.sr_out
        self._stage = None if self._identity else _Stage(self._design)
        self._n_in = 0
        self._n_out = 0

    def fresh(self) -> Resampler:
        """A new stream at the same rates through the same filters: nothing is built (a server keeps one
        resampler per rate and starts each stream from it)."""
        twin = copy.copy(self)
        twin._pre = self._pre.fresh() if self._pre is not None else None
        twin._stage = self._stage.fresh() if self._stage is not None else None
        twin._n_in = twin._n_out = 0
        return twin

    def process(self, block: npt.ArrayLike) -> Float32Array:
        """Feed input samples (1-D); return the output samples that are complete."""
        x = np.asarray(block, np.float32).reshape(-1)
        self._n_in += len(x)
        if self._stage is None:
            self._n_out += len(x)
            return x.copy()
        if self._pre is not None:
            x = self._pre.process(x)
        return self._emit(self._stage.process(x))

    def flush(self) -> Float32Array:
        """Return the remaining output; the total is then exactly ceil(n_in * sr_out / sr_in)."""
        if self._stage is None:
            return np.zeros(0, np.float32)
        y = self._stage.process(self._pre.finish()) if self._pre is not None else np.zeros(0, np.float32)
        y = np.concatenate((y, self._stage.finish()))
        # Two stages can end one sample past the exact total (the first rounds its own length up).
        total = -(-self._n_in * self.sr_out // self.sr_in)
        return self._emit(y[: max(0, total - self._n_out)])

    def _emit(self, y: Float32Array) -> Float32Array:
        self._n_out += len(y)
        return y

    @property
    def path(self) -> str:
        """How it resamples (for the plan bench and tests): "identity", "dense", "gather", or a first stage
        "decimate/K" before either."""
        if self._stage is None:
            return "identity"
        first = f"decimate/{self._pre._design.down} + " if self._pre is not None else ""
        return first + self._stage.path

    def plan_bytes(self) -> int:
        """The bytes its filters hold (every stage's plan or kernel table)."""
        stages = [stage for stage in (self._pre, self._stage) if stage is not None]
        return sum(stage.plan_bytes() for stage in stages)


def resample(x: npt.ArrayLike, sr_in: int, sr_out: int) -> Float32Array:
    """Resample a whole mono signal (float32 out, time-aligned, exactly ceil(n * sr_out / sr_in) samples)."""
    r = Resampler(sr_in, sr_out)
    y = r.process(x)
    return np.concatenate((y, r.flush()))


resample.stream = Resampler  # type: ignore[attr-defined]  # the shared bench's streaming hook


def to_int16(y: npt.NDArray[np.float32]) -> npt.NDArray[np.int16]:
    """Float [-1, 1) → little-endian int16: scale 32768, round to nearest, clip (no dither)."""
    scaled = np.multiply(y, np.float32(32768.0), dtype=np.float32)
    np.rint(scaled, out=scaled)
    np.clip(scaled, -32768.0, 32767.0, out=scaled)
    return scaled.astype("<i2")


def from_pcm16(pcm: bytes) -> npt.NDArray[np.float32]:
    """s16le bytes (a trailing odd byte ignored) → float32 in [-1, 1), the inverse of `to_int16`."""
    samples = np.frombuffer(pcm, "<i2", count=len(pcm) // 2).astype(np.float32)
    samples *= np.float32(1 / 32768)
    return samples
