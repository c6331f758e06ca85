"""ReplyAudio.chunks cuts what it makes into chunks at offsets (livecli.server.reply_audio): whatever the pieces,
chunk size and end, the chunks join to the audio's first `end` bytes and all but the last are whole."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from livecli.server.reply_audio import Piece, ReplyAudio, pcm_piece, resampled_piece, tone_piece

PIECES = st.lists(
    st.one_of(
        st.binary(max_size=6000).map(lambda b: pcm_piece(b[: len(b) // 2 * 2])),
        st.binary(max_size=70000).map(resampled_piece),
        st.text(max_size=30).map(tone_piece),
    ),
    min_size=1,
    max_size=3,
)


@settings(max_examples=60, deadline=None)
@given(PIECES, st.sampled_from([7, 960, 1920, 4800]), st.floats(0.0, 1.0))
def test_chunks_join_to_the_audios_prefix(pieces: list[Piece], chunk_bytes: int, share: float) -> None:
    whole = bytes(ReplyAudio(pieces))
    end = int(len(whole) * share)
    chunks = list(ReplyAudio(pieces).chunks(chunk_bytes, end))
    assert b"".join(chunks) == whole[:end]
    assert all(len(chunk) == chunk_bytes for chunk in chunks[:-1])
