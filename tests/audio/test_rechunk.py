"""rechunk: any stream of blocks → pieces of one size, the last may be short, nothing lost or reordered."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from livecli.audio.chunks import rechunk


@given(st.lists(st.binary(max_size=50), max_size=20), st.integers(1, 16))
def test_pieces_have_the_size_and_join_to_the_input(blocks: list[bytes], size: int) -> None:
    pieces = list(rechunk(blocks, size))
    assert b"".join(pieces) == b"".join(blocks)
    assert all(len(piece) == size for piece in pieces[:-1])
    assert all(0 < len(piece) <= size for piece in pieces[-1:])
