"""Chunk sizes: 16 kHz s16le cut into --chunk-ms messages; the plan sums to the input; the range is enforced."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livecli.audio.chunks import MAX_CHUNK_MS, MIN_CHUNK_MS, chunk_bytes, chunk_plan
from livecli.errors import UsageError


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 200_000), st.integers(MIN_CHUNK_MS, MAX_CHUNK_MS))
def test_chunk_plan_sums_to_total(total: int, chunk_ms: int) -> None:
    plan = chunk_plan(total, chunk_ms)
    assert sum(plan) == total
    assert all(size == chunk_bytes(chunk_ms) == 32 * chunk_ms for size in plan[:-1])
    assert all(0 < size <= 32 * chunk_ms for size in plan)


@pytest.mark.parametrize("chunk_ms", [MIN_CHUNK_MS - 1, MAX_CHUNK_MS + 1, 0, -40])
def test_chunk_length_outside_the_range_is_a_usage_error(chunk_ms: int) -> None:
    with pytest.raises(UsageError, match="10–1000 ms"):
        chunk_bytes(chunk_ms)


def test_chunk_bytes_at_other_rates() -> None:
    assert chunk_bytes(MIN_CHUNK_MS) == 320
    assert chunk_bytes(40, rate=24000) == 1920
