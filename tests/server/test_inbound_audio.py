"""InboundAudio.unbuilt_rates' quick test for the commonest frame (only `rate=16000` declared) never hides a rate
the full scan would find (livecli.server.inbound_audio)."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from livecli.server.inbound_audio import InboundAudio, RatePlans, _only_input_rate

RATE = re.compile(r"rate\s*=\s*(\d{1,9})")
PIECES = st.sampled_from(["rate", "=", "16000", "160000", "44100", " ", "1", "x", '"', ";", "==", "audio/pcm"])


@given(st.lists(PIECES, max_size=12).map("".join))
def test_a_frame_said_to_declare_only_16_khz_declares_no_other_rate(frame: str) -> None:
    if _only_input_rate(frame):
        assert all(int(match.group(1)) == 16000 for match in RATE.finditer(frame))


@given(st.lists(PIECES, max_size=12).map("".join))
def test_bytes_and_text_frames_are_told_alike(frame: str) -> None:
    assert _only_input_rate(frame.encode()) == _only_input_rate(frame)


def test_the_commonest_audio_frame_needs_no_scan() -> None:
    frame = '{"realtimeInput":{"audio":{"mimeType":"audio/pcm;rate=16000","data":"AAAAAA=="}}}'
    assert _only_input_rate(frame)


def test_another_rate_is_found_and_listed_once() -> None:
    chunks = '{"mimeType":"audio/pcm;rate = 44100"},{"mimeType":"audio/pcm;rate=44100"}'
    frame = '{"realtimeInput":{"mediaChunks":[' + chunks + "]}}"
    assert not _only_input_rate(frame)
    assert InboundAudio(RatePlans()).unbuilt_rates(frame) == [44100]  # (a cache of its own: none built yet)
