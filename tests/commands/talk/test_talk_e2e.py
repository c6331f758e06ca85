"""`talk` end to end against the local server, with a virtual microphone and speaker (no sound card)."""

from __future__ import annotations

from tests.commands.talk.talk_helpers import speech, talk
from tests.helpers import local_server


def test_the_echo_reply_is_played_and_the_latency_measured() -> None:
    with local_server(reply_speed=1.0) as server:
        result = talk(server.endpoint(), speech(3.0))
    assert result.status == 0, result.stderr
    assert result.sink.audible_blocks, "nothing audible was played"
    assert len(result.loop.latencies) == 1
    assert 0 < result.loop.latencies[0] < 5
