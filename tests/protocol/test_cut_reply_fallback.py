"""Which turns are the reply when a reconnect cut it (docs/wire.md, "Resending input"), sans I/O."""

from __future__ import annotations

from livecli.protocol import server_messages as sm
from livecli.protocol.session import ClientSession
from tests.protocol.test_session_numbering import cut_reply_resumed


def cut_after_resend() -> ClientSession:
    """Input 1 sent whole, its reply cut by a close, resumed transparently and the tail resent."""
    session, _tag = cut_reply_resumed()
    session.take_resend()
    return session


def test_the_cut_reply_is_the_reply_when_no_new_one_came() -> None:
    """The reply asked for again never came (the run failed): what came is written (partial), not nothing."""
    session = cut_after_resend()
    reply = session.reply_turns(1)
    assert [len(t.audio) for t in reply] == [200]
    assert not session.answered(1)


def test_the_new_reply_replaces_the_cut_one_once_it_comes() -> None:
    session = cut_after_resend()
    session.receive(sm.audio_content(b"\x03\x04" * 300))
    assert [len(t.audio) for t in session.reply_turns(1)] == [600]  # even before its turnComplete
    session.receive(sm.turn_complete())
    assert [len(t.audio) for t in session.reply_turns(1)] == [600]
    assert session.answered(1)


def test_a_cut_reply_of_another_input_is_not_this_ones() -> None:
    session = cut_after_resend()
    session.receive(sm.audio_content(b"\x03\x04" * 300))
    session.receive(sm.turn_complete())
    session.label_input(2, "b.wav")
    assert session.reply_turns(2) == []


def test_the_new_replys_transcriptions_go_to_it_not_to_the_cut_one() -> None:
    """The regenerated reply's input transcription may come before its first audio: it opens the new turn."""
    session = cut_after_resend()
    session.receive(sm.input_transcription("hello"))
    session.receive(sm.audio_content(b"\x03\x04" * 300))
    session.receive(sm.output_transcription("hi there"))
    session.receive(sm.turn_complete())
    [reply] = session.reply_turns(1)
    assert reply.input_transcript == "hello"
    assert reply.output_transcript == "hi there"
    assert len(reply.audio) == 600
