"""A reply cut by a reconnect on Vertex (transparent resumption): the resent input has the server generate it
again, whole, and livecli waits for that reply instead of counting the cut one (which it leaves out) as the
answer. When no reply comes whole, what came is written, marked partial, and the run fails (docs/wire.md,
"Resending input").

The server ends the first connection mid-reply by a scenario's goAway (timed from the session's first
setupComplete, so a resumed connection does not get it again); the input is sent unpaced and the reply is paced at
real time, so the reply of a 2 s input is still streaming when the connection's time is nearly up (~1 s in).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from helpers import local_server

from livecli.auth.target import ConnectOptions
from livecli.cli.exit_status import exit_status_for
from livecli.commands.request import RunRequest
from livecli.errors import ServerClosed
from tests.commands.send_helpers import events, make_env, run, tone

KEY = "AIzaSyCutReplyKey0123456789abcdefghijkl"
# goAway 0.3 s after the session's first setupComplete, close 1008 one second later: the client gives the busy
# connection up ~0.25 s before that (client/conversation.go_away_margin), while a 2 s reply is still streaming.
GO_AWAY_SOON = """
name = "goaway-soon"
[[at]]
t = 0.3
action = "goaway"
time_left_s = 1.0
"""


def scenario(tmp_path: Path) -> str:
    path = tmp_path / "goaway-soon.toml"
    path.write_text(GO_AWAY_SOON)
    return str(path)


def vertex(url: str, **kw: Any) -> RunRequest:
    connect = ConnectOptions(endpoint=url, vertex=True, api_key=KEY)
    return RunRequest(connect=connect, json=True, speed=0, chunk_ms=100, **kw)


def whole_reply(tmp_path: Path, **kw: Any) -> tuple[np.ndarray[Any, np.dtype[np.int16]], int]:
    """The reply of one connection that never ends (unpaced), for comparison."""
    with local_server() as server:
        env, _, _ = make_env()
        assert run(vertex(server.url, output=str(tmp_path / "whole.wav"), **kw), env) == 0
    reply, rate = sf.read(tmp_path / "whole.wav", dtype="int16")
    return reply, rate


def cut_run(
    tmp_path: Path, output: str, *, from_start: bool = False, directory: bool = False, **kw: Any
) -> tuple[int, str, str]:
    """The same request against a server that ends the first connection mid-reply: exit status, stdout, stderr.
    `from_start`: the input is sent again whole (with its one warning) instead of going on transparently."""
    with local_server(scenario=scenario(tmp_path), reply_speed=1.0) as server:
        env, stdout, stderr = make_env()
        destination = str(tmp_path / output) + ("/" if directory else "")
        status = run(vertex(server.url, output=destination, **kw), env)
    text = stdout.getvalue().decode()
    assert len(events(stdout, "reconnect")) == 1
    [cut] = [t for t in events(stdout, "turn_complete") if t["end"] == "disconnected"]
    assert cut["reply_bytes"] > 0  # the reconnect did cut a reply
    warnings = [w["message"] for w in events(stdout, "warning")]
    if from_start:
        assert len(warnings) == 1
        assert "sent again from its start" in warnings[0]
    else:
        assert warnings == []  # went on transparently: no "nothing written", no fallback
    assert KEY not in text
    assert KEY not in stderr.getvalue()
    return status, text, stderr.getvalue()


@pytest.mark.timeout(60)
def test_send_waits_for_the_reply_the_resent_input_gets_and_writes_it_whole(tmp_path: Path) -> None:
    source = tone(tmp_path / "in.wav", 2.0)
    status, text, _ = cut_run(tmp_path, "reply.wav", inputs=[source])
    assert status == 0
    last = [line for line in text.splitlines() if '"turn_complete"' in line][-1]
    assert '"input_transcript": "[2.00 s of audio]"' in last  # the new reply's transcription is its own
    reply, rate = sf.read(tmp_path / "reply.wav", dtype="int16")
    whole, whole_rate = whole_reply(tmp_path, inputs=[source])
    assert rate == whole_rate
    assert len(reply) == len(whole)
    assert np.array_equal(reply, whole)


@pytest.mark.timeout(60)
def test_text_waits_for_the_reply_the_resent_prompt_gets(tmp_path: Path) -> None:
    """The server consumed nothing after the setup before the reply began, so its only handle has no index: the
    prompt is sent again whole (one warning), and that reply is the one written."""
    prompt = " ".join(["word"] * 12)  # one tone per word: a reply long enough to be cut
    status, _, _ = cut_run(tmp_path, "reply.wav", from_start=True, prompt=prompt)
    assert status == 0
    reply, _ = sf.read(tmp_path / "reply.wav", dtype="int16")
    whole, _ = whole_reply(tmp_path, prompt=prompt)
    assert np.array_equal(reply, whole)


@pytest.mark.timeout(60)
def test_several_inputs_each_reply_once_whole(tmp_path: Path) -> None:
    first, second = tone(tmp_path / "first.wav", 2.0), tone(tmp_path / "second.wav", 1.0)
    status, text, _ = cut_run(tmp_path, "replies", directory=True, inputs=[first, second])
    assert status == 0
    written = [line for line in text.splitlines() if '"reply_written"' in line]
    assert len(written) == 2
    alone, _ = whole_reply(tmp_path, inputs=[first])
    reply, _ = sf.read(tmp_path / "replies" / "first.wav", dtype="int16")
    assert np.array_equal(reply, alone)
    assert sf.info(str(tmp_path / "replies" / "second.wav")).frames > 0


def test_a_reply_cut_again_with_no_reconnect_left_is_written_partial_and_fails(tmp_path: Path) -> None:
    """The reply asked for again is cut too, with no reconnect left: what came is written, marked partial, and
    the run fails with the close's exit status (as on the Gemini API), never 0 without the whole reply."""
    twice = tmp_path / "goaway-twice.toml"
    # The second goAway falls on the resumed connection (it opens ~1.05 s in), while its 3 s reply streams.
    twice.write_text(GO_AWAY_SOON + '[[at]]\nt = 1.8\naction = "goaway"\ntime_left_s = 1.0\n')
    source = tone(tmp_path / "in.wav", 3.0)
    with local_server(scenario=str(twice), reply_speed=1.0) as server:
        env, stdout, stderr = make_env()
        request = vertex(server.url, output=str(tmp_path / "reply.wav"), inputs=[source], max_reconnects=1)
        with pytest.raises(ServerClosed) as failure:
            run(request, env)
    assert exit_status_for(failure.value) == 4
    assert len(events(stdout, "reconnect")) == 1
    [written] = events(stdout, "reply_written")
    assert written["partial"] is True
    assert written["bytes"] > 0
    assert sf.info(str(tmp_path / "reply.wav")).frames * 2 == written["bytes"]
    [summary] = events(stdout, "summary")
    assert summary["exit_status"] == 4
    assert KEY not in stdout.getvalue().decode()
    assert KEY not in stderr.getvalue()
