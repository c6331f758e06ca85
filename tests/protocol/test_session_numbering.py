"""Transparent resumption in the sans-I/O session (issue 10): every client message after setup is numbered per
session, the unacknowledged tail is kept (at most 60 s of audio) and resent exactly after a reconnect, an open
activity survives it, and the session says when the input must be sent again instead."""

from __future__ import annotations

import json
from typing import Any

from livecli.protocol import server_messages as sm
from livecli.protocol.client_messages import SetupConfig
from livecli.protocol.outbox import TAIL_LIMIT_S, Outbox
from livecli.protocol.session import ClientSession, State
from livecli.protocol.turns import InputTag

CHUNK = b"\x01\x00" * 640  # 40 ms at 16 kHz


class Clock:
    def __init__(self) -> None:
        self.now = 10.0

    def __call__(self) -> float:
        return self.now


def session_for(*, transparent: bool = True, activity: bool = True) -> ClientSession:
    setup = SetupConfig("gemini-3.8-live", transparent=transparent, automatic_activity_detection=not activity)
    session = ClientSession(setup, Clock())
    session.start()
    session.receive(sm.setup_complete())
    return session


def acknowledged(session: ClientSession, handle: str, index: int | None) -> None:
    session.receive(sm.resumption_update(handle, True, index))


def chunk(n: int) -> bytes:
    """A chunk whose samples say which chunk it is (so a resent frame can be recognised)."""
    return n.to_bytes(2, "little") * 640


def chunk_number(frame: str) -> int:
    import base64

    data = base64.b64decode(json.loads(frame)["realtimeInput"]["audio"]["data"])
    return int.from_bytes(data[:2], "little")


def resumed(session: ClientSession) -> dict[str, Any]:
    [setup] = session.reconnect_setup()
    session.receive(sm.setup_complete())
    body: dict[str, Any] = json.loads(setup)["setup"]
    return body


def test_setup_asks_for_transparent_resumption_and_resumes_with_the_handle() -> None:
    session = session_for()
    acknowledged(session, "h-1", None)
    setup = resumed(session)
    assert setup["sessionResumption"] == {"handle": "h-1", "transparent": True}


def test_messages_after_setup_are_numbered_from_zero_and_kept_until_acknowledged() -> None:
    """Index 0 is the first message after setup; an acknowledged index drops it and everything before it."""
    session = session_for()
    session.label_input(1, "a.wav")
    frames = session.begin_input() + [session.audio(chunk(n)) for n in range(5)]
    assert session.outbox.next_index == 6
    assert session.outbox.unacknowledged() == frames
    acknowledged(session, "h-1", 3)  # activityStart (0) and chunks 0..2 (1..3) are in the handle's state
    assert session.outbox.unacknowledged() == frames[4:]
    assert [chunk_number(f) for f in session.outbox.unacknowledged()] == [3, 4]


def test_without_transparent_nothing_is_kept() -> None:
    session = session_for(transparent=False)
    session.label_input(1, "a.wav")
    session.begin_input()
    session.audio(CHUNK)
    assert session.outbox.unacknowledged() == []
    assert session.outbox.next_index == 2


def test_an_index_on_an_unresumable_update_is_not_taken() -> None:
    """The index belongs to the handle it comes with: resuming uses the newest resumable handle, so only its
    index may shorten the tail."""
    session = session_for()
    session.label_input(1, "a.wav")
    session.begin_input()
    session.audio(CHUNK)
    acknowledged(session, "h-1", 0)
    session.receive(
        sm.encode({"sessionResumptionUpdate": {"resumable": False, "lastConsumedClientMessageIndex": 1}})
    )
    assert session.outbox.acknowledged == 0
    assert len(session.outbox.unacknowledged()) == 1


def test_a_reconnect_mid_input_resends_exactly_the_tail_and_keeps_the_activity_open() -> None:
    session = session_for()
    tag = session.label_input(1, "a.wav")
    session.begin_input()
    for n in range(10):
        session.audio(chunk(n))
    acknowledged(session, "h-2", 6)  # activityStart + chunks 0..5
    session.closed(1008, "")
    resumed(session)
    assert session.resumed_transparently
    resend = session.take_resend()
    assert [chunk_number(f) for f in resend] == [6, 7, 8, 9]
    assert session.take_resend() == []  # once
    assert session.state is State.STREAMING  # the activity is still open: no second activityStart
    session.audio(chunk(10))
    assert session.outbox.next_index == 12  # the count goes on across connections
    assert [t.over for t in session.attempt_turns(tag)] == [False]


def cut_reply_resumed() -> tuple[ClientSession, InputTag]:
    """Input 1 sent whole, its activityEnd unacknowledged, its reply cut by a close: resumed transparently, the
    tail not yet taken."""
    session = session_for()
    tag = session.label_input(1, "a.wav")
    session.begin_input()
    session.audio(chunk(0))
    session.end_input()
    acknowledged(session, "h-1", 0)
    session.receive(sm.audio_content(b"\x01\x02" * 100))
    session.closed(1011, "")
    resumed(session)
    assert session.resumed_transparently
    return session, tag


def test_a_reply_cut_while_its_input_is_resent_is_replaced_not_joined() -> None:
    """activityEnd still unacknowledged when the reply was cut: the resent tail gets the whole reply again, so
    the cut part is left out of the reply (no repeated audio)."""
    session, tag = cut_reply_resumed()
    assert len(session.take_resend()) == 2  # the chunk and activityEnd
    session.receive(sm.audio_content(b"\x03\x04" * 300))
    session.receive(sm.turn_complete())
    reply = session.reply_turns(1)
    assert [len(t.audio) for t in reply] == [600]
    assert session.answered(1)
    assert [t.replaced for t in session.attempt_turns(tag)] == [True, False]


def test_an_input_the_server_holds_whole_but_whose_reply_was_cut_is_sent_again() -> None:
    session = session_for()
    session.label_input(1, "a.wav")
    session.begin_input()
    session.audio(chunk(0))
    session.end_input()
    acknowledged(session, "h-1", 2)  # activityEnd included: nothing left to resend, no reply coming
    session.receive(sm.audio_content(b"\x01\x02" * 100))
    session.closed(1011, "")
    resumed(session)
    assert not session.resumed_transparently
    assert session.outbox.next_index == 3  # the server goes on counting after the handle's index


def test_more_than_the_limit_unacknowledged_falls_back_until_an_acknowledgement_passes_it() -> None:
    session = session_for()
    session.label_input(1, "a.wav")
    session.begin_input()
    per_s = 25
    for n in range(int(TAIL_LIMIT_S * per_s) + 10):
        session.audio(chunk(n % 60000))
    acknowledged(session, "h-1", 0)
    assert session.outbox.overflowed
    assert not session.outbox.complete
    assert session.outbox.tail_audio_s <= TAIL_LIMIT_S
    acknowledged(session, "h-2", 100)  # past the dropped messages: complete again
    assert session.outbox.complete
    session.closed(1008, "")
    resumed(session)
    assert session.resumed_transparently


def test_an_overflowed_tail_makes_the_reconnect_send_the_input_again() -> None:
    session = session_for()
    session.label_input(1, "a.wav")
    session.begin_input()
    for n in range(int(TAIL_LIMIT_S * 25) + 1):
        session.audio(chunk(n % 60000))
    acknowledged(session, "h-1", 0)
    session.closed(1008, "")
    resumed(session)
    assert not session.resumed_transparently
    assert session.state is State.READY
    assert session.outbox.next_index == 1  # handle h-1 holds index 0


def test_without_a_handle_a_new_session_counts_from_zero() -> None:
    session = session_for()
    session.label_input(1, "a.wav")
    session.begin_input()
    session.audio(CHUNK)
    session.closed(1011, "")
    setup = resumed(session)
    assert "handle" not in setup["sessionResumption"]
    assert not session.resumed_transparently
    assert session.outbox.next_index == 0


def test_server_vad_resend_point_is_where_the_last_completed_turns_reply_began() -> None:
    """Gemini API, server VAD: 30 chunks sent, a reply began after chunk 12 and completed; a second reply began
    after chunk 25 and was cut. A resend starts at chunk 12; the cut reply is replaced."""
    session = session_for(transparent=False, activity=False)
    tag = session.label_input(1, "a.wav")
    session.begin_input()
    for n in range(30):
        session.audio(chunk(n))
        if n == 11:
            session.receive(sm.audio_content(b"\x01\x00" * 50))
        if n == 14:
            session.receive(sm.turn_complete())
        if n == 24:
            session.receive(sm.audio_content(b"\x02\x00" * 50))
    session.closed(1011, "")
    resumed(session)
    assert session.inputs.heard_through(tag) == 12
    session.inputs.resume(tag)
    assert [t.replaced for t in session.attempt_turns(tag)] == [False, True]
    session.begin_input(first_chunk=12)
    session.receive(sm.audio_content(b"\x03\x00" * 70))
    session.receive(sm.turn_complete())
    assert [len(t.audio) for t in session.reply_turns(1)] == [100, 140]


def test_outbox_alone_counts_and_acknowledges() -> None:
    outbox = Outbox(keep=True, limit_s=0.08)  # two 40 ms chunks
    frames = [outbox.number(f"f{n}", 1280) for n in range(3)]
    assert frames == ["f0", "f1", "f2"]
    assert outbox.unacknowledged() == ["f1", "f2"]
    assert outbox.overflowed
    outbox.acknowledge(0)
    assert outbox.complete
    assert outbox.pending(1)
    assert not outbox.pending(0)
