"""ClientSession: setup gating, turn ends (turnComplete, generationComplete grace, interrupted), resumption."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livecli.cli.exit_status import ExitStatus, exit_status_for
from livecli.errors import ServerClosed
from livecli.protocol import events as ev
from livecli.protocol.client_messages import SetupConfig
from livecli.protocol.session import TURN_GRACE_S, ClientSession, State


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def frame(**message: Any) -> bytes:
    return json.dumps(message).encode()


def audio(pcm: bytes, rate: int = 24000) -> bytes:
    data = base64.b64encode(pcm).decode()
    return frame(serverContent={"modelTurn": {"parts": [{"inlineData": {"mimeType": f"audio/pcm;rate={rate}",
                                                                        "data": data}}]}})  # fmt: skip


def content(**fields: Any) -> bytes:
    return frame(serverContent=fields)


def ready_session(**setup: Any) -> tuple[ClientSession, FakeClock]:
    clock = FakeClock()
    session = ClientSession(SetupConfig("gemini-3.8-live", **setup), clock)
    session.start()
    session.receive(frame(setupComplete={"sessionId": "s-1"}))
    return session, clock


def test_setup_first_and_media_only_after_setup_complete() -> None:
    """start() gives the setup frame; media before setupComplete is a bug; states advance."""
    clock = FakeClock()
    session = ClientSession(SetupConfig("gemini-3.8-live", automatic_activity_detection=False), clock)
    assert session.state is State.CONNECTING
    [setup] = session.start()
    assert json.loads(setup)["setup"]["model"] == "models/gemini-3.8-live"
    assert session.state is State.AWAIT_SETUP
    assert not session.can_send_media
    for send in (session.begin_input, lambda: session.audio(b"\0\0"), lambda: session.text("hi")):
        with pytest.raises(RuntimeError):
            send()
    assert session.receive(frame(setupComplete={"sessionId": "s-1"})) == [ev.SetupComplete("s-1")]
    assert session.state is State.READY
    assert session.can_send_media
    assert session.session_id == "s-1"
    with pytest.raises(RuntimeError):
        session.start()


def test_activity_brackets_and_a_turn_completed_by_turn_complete() -> None:
    """With detection off: activityStart, audio, activityEnd; the reply is collected and timed."""
    session, clock = ready_session(automatic_activity_detection=False)
    assert session.begin_input() == ['{"realtimeInput":{"activityStart":{}}}']
    assert session.state is State.STREAMING
    assert json.loads(session.audio(b"\1\0" * 320))["realtimeInput"]["audio"]["mimeType"] == "audio/pcm;rate=16000"
    clock.now += 1
    assert session.end_input() == ['{"realtimeInput":{"activityEnd":{}}}']
    assert session.state is State.AWAITING_REPLY
    clock.now += 0.5
    session.receive(content(inputTranscription={"text": "hel"}))
    session.receive(audio(b"\0\1" * 2400))
    session.receive(
        content(inputTranscription={"text": "lo", "finished": True}, outputTranscription={"text": "Hi"})
    )
    clock.now += 0.1
    session.receive(audio(b"\0\2" * 2400))
    events = session.receive(
        frame(
            serverContent={"generationComplete": True, "turnComplete": True}, usageMetadata={"totalTokenCount": 9}
        )
    )
    assert events == [ev.Usage(None, None, 9), ev.GenerationComplete(), ev.TurnComplete()]
    turn = session.turns[-1]
    assert session.state is State.READY
    assert session.turn_over()
    assert session.deadline() is None
    assert turn.end == "turnComplete"
    assert turn.usage == ev.Usage(None, None, 9)
    assert turn.audio == b"\0\1" * 2400 + b"\0\2" * 2400
    assert turn.audio_rate == 24000
    assert turn.audio_duration_s == pytest.approx(0.2)
    assert turn.reply_latency_s == pytest.approx(0.5)
    assert turn.input_transcript == "hello"
    assert turn.output_transcript == "Hi"
    assert turn.has_reply


def test_generation_complete_without_turn_complete_ends_after_the_grace() -> None:
    """Servers that never send turnComplete: tick() at deadline() infers it; a late one is absorbed."""
    session, clock = ready_session()
    session.text("hi")
    session.receive(audio(b"\0\0" * 10))
    session.receive(content(generationComplete=True))
    deadline = session.deadline()
    assert deadline == pytest.approx(clock.now + TURN_GRACE_S)
    assert not session.turn_over(deadline - 0.01)
    assert session.turn_over(deadline)
    assert session.tick(deadline - 0.01) == []
    assert session.state is State.AWAITING_REPLY
    assert session.tick(deadline) == [ev.TurnComplete(inferred=True)]
    assert session.state is State.READY
    assert session.turns[-1].end == "generationComplete"
    late = session.receive(frame(serverContent={"turnComplete": True}, usageMetadata={"totalTokenCount": 3}))
    assert late == [ev.Usage(None, None, 3)]  # the turnComplete is absorbed, its usage kept
    assert len(session.turns) == 1
    assert session.turns[0].usage == ev.Usage(None, None, 3)
    assert session.tick(deadline + 10) == []


def test_turn_complete_within_the_grace_ends_the_turn_with_its_usage() -> None:
    """The normal order generationComplete → turnComplete(usage) never waits for the grace."""
    session, clock = ready_session()
    session.text("hi")
    session.receive(audio(b"\0\0" * 10))
    session.receive(content(generationComplete=True))
    clock.now += 0.3
    events = session.receive(frame(serverContent={"turnComplete": True}, usageMetadata={"promptTokenCount": 1}))
    assert events[-1] == ev.TurnComplete(inferred=False)
    assert session.turns[-1].ended_at == clock.now
    assert session.deadline() is None


def test_interrupted_gets_the_same_grace_and_content_after_it_starts_a_new_turn() -> None:
    """Barge-in: interrupted, then either turnComplete or new content (which ends the old turn first)."""
    session, _ = ready_session()
    session.text("one")
    session.receive(audio(b"\0\0" * 10))
    assert session.receive(content(interrupted=True)) == [ev.Interrupted()]
    assert session.deadline() is not None
    events = session.receive(audio(b"\0\3" * 10))
    assert events[0] == ev.TurnComplete(inferred=True)
    assert isinstance(events[1], ev.AudioChunk)
    first, second = session.turns
    assert first.interrupted
    assert first.end == "interrupted"
    assert second.audio == b"\0\3" * 10
    assert session.receive(content(turnComplete=True)) == [ev.TurnComplete()]
    assert second.end == "turnComplete"
    assert len(session.turns) == 2


def test_late_output_transcription_in_the_grace_stays_with_its_turn() -> None:
    """Transcriptions are unordered w.r.t. modelTurn: one after generationComplete is not a new turn."""
    session, _ = ready_session()
    session.text("hi")
    session.receive(audio(b"\0\0" * 10))
    session.receive(content(generationComplete=True))
    session.receive(content(outputTranscription={"text": "late"}))
    session.receive(content(turnComplete=True))
    assert len(session.turns) == 1
    assert session.turns[0].output_transcript == "late"


def test_transcription_after_turn_complete_opens_no_phantom_turn() -> None:
    """A late transcription piece (e.g. an empty `finished`) after turnComplete joins the ended turn."""
    session, _ = ready_session(automatic_activity_detection=False)
    session.begin_input()
    session.end_input()
    session.receive(audio(b"\0\1" * 10))
    session.receive(content(turnComplete=True))
    session.receive(content(outputTranscription={"text": "", "finished": True}))
    session.receive(content(inputTranscription={"text": "late"}))
    assert len(session.turns) == 1
    assert session.turn_over()
    assert session.state is State.READY
    assert session.turns[0].input_transcript == "late"


def test_server_vad_replies_open_turns_while_input_streams() -> None:
    """Under server VAD a reply may come mid-input; the next reply opens a new turn; audioStreamEnd on request."""
    session, _ = ready_session()
    assert session.begin_input() == []
    session.audio(b"\0\0" * 100)
    session.receive(audio(b"\0\1" * 10))
    session.receive(content(turnComplete=True))
    assert session.state is State.STREAMING
    assert session.turn_over()
    session.receive(content(inputTranscription={"text": "and then"}))  # the user speaks again: a new turn
    session.receive(audio(b"\0\2" * 10))
    assert len(session.turns) == 2
    assert not session.turn_over()
    assert session.turns[1].input_transcript == "and then"
    assert session.end_input(stream_end=True) == ['{"realtimeInput":{"audioStreamEnd":true}}']
    assert session.state is State.AWAITING_REPLY


def test_text_and_tool_calls() -> None:
    """Text parts and thoughts are kept apart; tool calls recorded; a toolResponse is built."""
    session, _ = ready_session(modalities=("TEXT",))
    [sent] = session.client_content("hi")
    assert json.loads(sent)["clientContent"]["turnComplete"] is True
    session.receive(content(modelTurn={"parts": [{"text": "hmm", "thought": True}]}))
    assert session.turns[-1].first_reply_at is None  # a thought is not a reply
    session.receive(content(modelTurn={"parts": [{"text": "Hel"}, {"text": "lo"}]}))
    session.receive(frame(toolCall={"functionCalls": [{"id": "c1", "name": "f", "args": {}}]}))
    turn = session.turns[-1]
    assert turn.text == "Hello"
    assert turn.thought_parts == ["hmm"]
    assert turn.tool_calls[0].id == "c1"
    [response] = session.tool_response([{"id": "c1", "name": "f", "response": {"ok": 1}}])
    assert json.loads(response)["toolResponse"]["functionResponses"][0]["id"] == "c1"


def test_resumption_handle_go_away_and_reconnect() -> None:
    """Only resumable, non-empty handles are kept; reconnect_setup resumes with the latest one."""
    session, _ = ready_session()
    session.receive(frame(sessionResumptionUpdate={"newHandle": "h1", "resumable": True}))
    session.receive(frame(sessionResumptionUpdate={"newHandle": "", "resumable": False}))
    session.receive(frame(sessionResumptionUpdate={"newHandle": "h2", "resumable": False}))
    assert session.resume_handle == "h1"
    assert session.receive(frame(goAway={"timeLeft": "50s"})) == [ev.GoAway(50.0)]
    session.text("hi")
    error = session.closed(1008, "")
    assert isinstance(error, ServerClosed)
    assert error.after_setup
    assert exit_status_for(error) is ExitStatus.CONNECTION
    assert session.state is State.CLOSED
    assert not session.can_send_media
    [setup] = session.reconnect_setup()
    assert json.loads(setup)["setup"]["sessionResumption"] == {"handle": "h1"}
    assert session.state is State.AWAIT_SETUP
    assert session.turns[-1].end == "disconnected"
    session.receive(frame(setupComplete={}))
    assert session.state is State.READY


@pytest.mark.parametrize(
    ("code", "reason", "setup_done", "status"),
    [
        (1008, "Operation is not implemented, or supported, or enabled.", False, ExitStatus.CREDENTIALS),
        (1007, "Request contains an invalid argument.", True, ExitStatus.CREDENTIALS),
        (1011, "You exceeded your current quota, please check your plan", True, ExitStatus.QUOTA),
        (1011, "Internal error encountered.", True, ExitStatus.CONNECTION),
    ],
)
def test_closed_maps_code_reason_and_phase(code: int, reason: str, setup_done: bool, status: ExitStatus) -> None:
    """The close error keeps code and reason verbatim; its exit status depends on the phase."""
    clock = FakeClock()
    session = ClientSession(SetupConfig("m"), clock)
    session.start()
    if setup_done:
        session.receive(frame(setupComplete={}))
    error = session.closed(code, reason)
    assert isinstance(error, ServerClosed)
    assert error.code == code
    assert error.reason == reason
    assert exit_status_for(error) == status


_server_frames = st.sampled_from(
    [
        audio(b"\0\0" * 4),
        content(modelTurn={"parts": [{"text": "t"}]}),
        content(outputTranscription={"text": "o"}),
        content(inputTranscription={"text": "i", "finished": True}),
        content(generationComplete=True),
        content(interrupted=True),
        content(turnComplete=True),
        frame(serverContent={"turnComplete": True}, usageMetadata={"totalTokenCount": 1}),
    ]
)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(_server_frames, st.floats(0, 3)), max_size=12))
def test_any_reply_sequence_keeps_the_invariants(steps: list[tuple[bytes, float]]) -> None:
    """Whatever the order: at most one open turn, ended turns stay ended, a deadline only while a turn is open;
    every turn answers the one input, and its reply is those turns with a reply or a proper end, in order."""
    session, clock = ready_session()
    tag = session.label_input(1, "go")
    session.text("go")
    for data, dt in steps:
        clock.now += dt
        session.tick(clock.now)
        was_over = session.turn_over()
        session.receive(data)
        if was_over and b"Transcription" in data:
            assert session.turn_over()  # a transcription never reopens a finished exchange
        open_turns = [turn for turn in session.turns if not turn.over]
        assert len(open_turns) <= 1
        assert session.deadline() is None or open_turns
        assert all(t.ended_at is None or t.ended_at <= clock.now for t in session.turns)
    assert [turn.index for turn in session.turns] == list(range(1, len(session.turns) + 1))
    assert all(turn.input == tag for turn in session.turns)
    assert session.reply_turns(1) == [turn for turn in session.turns if not turn.cut_empty]


def test_turns_opened_after_a_label_answer_that_input_server_vad_turns_included() -> None:
    """label_input tags every turn opened from then on, a second VAD reply too; the next label takes over."""
    session, _ = ready_session()
    first = session.label_input(1, "a.wav")
    session.begin_input()
    session.receive(audio(b"\0\1" * 10))
    session.receive(content(turnComplete=True))
    session.receive(audio(b"\0\2" * 10))  # server VAD: a second reply opens a second turn
    session.end_input()
    second = session.label_input(2, "b.wav")
    session.begin_input()
    assert [turn.input for turn in session.turns] == [first, first, second]
    assert first.attempt == 1
    assert second.name == "b.wav"


def test_labelling_an_input_again_is_its_next_attempt() -> None:
    """Resent after a reconnect: attempt 2 of the same input, its own turns."""
    session, _ = ready_session()
    session.label_input(1, "a.wav")
    session.begin_input()
    session.closed(1011, "")
    session.reconnect_setup()
    session.receive(frame(setupComplete={}))
    again = session.label_input(1, "a.wav")
    session.begin_input()
    assert again.attempt == 2
    assert session.attempt_turns(again) == [session.turns[1]]


def _answered_then_resent() -> ClientSession:
    """Input 1 got audio before a 1011 close, and is being sent again on the resumed connection."""
    session, _ = ready_session()
    session.label_input(1, "a.wav")
    session.begin_input()
    session.receive(audio(b"\0\1" * 10))
    session.closed(1011, "")
    session.reconnect_setup()
    session.receive(frame(setupComplete={}))
    session.label_input(1, "a.wav")
    session.begin_input()
    return session


def test_reply_turns_are_the_latest_attempt_that_got_a_reply() -> None:
    """Attempt 1 got audio before the close; attempt 2 was cut empty: the reply is attempt 1's, once."""
    session = _answered_then_resent()
    session.closed(1011, "")
    session.reconnect_setup()
    assert session.reply_turns(1) == [session.turns[0]]
    assert session.reply_turns(2) == []


def test_a_later_attempt_with_a_reply_replaces_the_earlier_one() -> None:
    """A resent input is answered from its start again: only the latest attempt with a reply counts."""
    session = _answered_then_resent()
    session.receive(audio(b"\0\2" * 10))
    session.receive(content(turnComplete=True))
    (turn,) = session.reply_turns(1)
    assert turn.audio == b"\0\2" * 10


def test_answered_needs_an_ended_turn_with_a_reply_and_none_open() -> None:
    """Not before the reply ends, not while the input still streams, not for a turn ended empty by a reconnect;
    yes once it completed."""
    session, _ = ready_session()
    assert not session.answered(1)
    session.label_input(1, "a.wav")
    session.begin_input()
    session.receive(audio(b"\0\1" * 10))
    assert not session.answered(1)
    session.receive(content(turnComplete=True))
    assert not session.answered(1)  # server VAD answered a turn, but the input still streams (issue 10)
    session.end_input()
    assert session.answered(1)
    session.label_input(2, "b.wav")
    session.begin_input()
    session.closed(1011, "")
    session.reconnect_setup()
    assert not session.answered(2)


def test_media_after_a_close_raises_that_close_not_a_programming_error() -> None:
    """A close recorded while the driver streams: its next audio chunk or input end raises the close's error
    (the driver's status for it), not the RuntimeError of media before setup."""
    session, _ = ready_session(automatic_activity_detection=False)
    session.begin_input()
    error = session.closed(1011, "Internal error encountered.")
    with pytest.raises(ServerClosed) as audio_after:
        session.audio(b"\0\0")
    assert audio_after.value is error
    with pytest.raises(ServerClosed):
        session.end_input()
