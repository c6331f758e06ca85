"""The store every worker of `serve --workers N` shares (livecli.server.store): two connections to one SQLite
file stand for two workers; whatever one writes the other reads, under the in-memory stores' rules."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from session_harness import Harness
from test_transparent_resumption import START, chunks, indices, ramp, resumable, transparent_setup

from livecli.protocol import close_reasons as cr
from livecli.server.config import ServerConfig
from livecli.server.resumption import HandleStore, ScenarioProgress, Snapshot
from livecli.server.store import (
    SharedDatabase,
    SharedHandleStore,
    SharedReceivedAudio,
    SharedTokenStore,
    create_database,
    server_stores,
)
from livecli.server.tokens import TokenStore
from livecli.server.transparent import KEPT_STATES, ReceivedAudio
from livecli.server.validate import Refusal

TTL = 100.0


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[tuple[SharedDatabase, SharedDatabase]]:
    """Two processes' connections to one shared file."""
    path = str(tmp_path / "shared.sqlite3")
    create_database(path)
    one, two = SharedDatabase(path), SharedDatabase(path)
    yield one, two
    one.close()
    two.close()


def snapshot(session_id: str = "s1", turns: int = 3, **fields: Any) -> Snapshot:
    history = [{"role": "user", "turn": 1, "content": "hi"}, {"role": "model", "turn": 1, "content": "turn 1"}]
    return Snapshot(turns, history, len(history), 12.5, session_id, **fields)


def test_one_worker_keeps_everything_in_memory_as_before() -> None:
    handles, tokens, received = server_stores(ServerConfig(keep_received_audio=True))
    assert type(handles) is HandleStore
    assert type(tokens) is TokenStore
    assert type(received) is ReceivedAudio


def test_a_handle_issued_by_one_worker_resolves_on_the_other(workers: tuple[SharedDatabase, ...]) -> None:
    one, two = SharedHandleStore(workers[0], TTL), SharedHandleStore(workers[1], TTL)
    progress = ScenarioProgress(started_at=4.0, turns=2)
    handle = one.issue(snapshot(progress=progress), now=10.0)
    found = two.resolve(handle, now=11.0)
    assert found is not None
    assert found.turns == 3
    assert found.conversation() == [
        {"role": "user", "turn": 1, "content": "hi"},
        {"role": "model", "turn": 1, "content": "turn 1"},
    ]
    assert found.session_elapsed_s == 12.5
    assert found.session_id == "s1"
    assert found.progress == progress


def test_unknown_tampered_and_expired_handles_do_not_resolve(workers: tuple[SharedDatabase, ...]) -> None:
    one, two = SharedHandleStore(workers[0], TTL), SharedHandleStore(workers[1], TTL)
    one.opened("s1")
    handle = one.issue(snapshot(), now=0.0)
    tampered = handle[:-1] + ("A" if handle[-1] != "A" else "B")
    assert two.resolve("livecli-unknown", now=1.0) is None
    assert two.resolve(tampered, now=1.0) is None
    assert two.resolve(handle, now=TTL * 5) is not None  # a connection of the session is open: no expiry
    one.closed("s1", now=TTL * 5)
    assert two.resolve(handle, now=TTL * 6 - 1) is not None
    assert two.resolve(handle, now=TTL * 6 + 1) is None


def test_only_a_sessions_newest_handles_resolve(workers: tuple[SharedDatabase, ...]) -> None:
    one, two = SharedHandleStore(workers[0], TTL), SharedHandleStore(workers[1], TTL)
    issued = [(one if i % 2 else two).issue(snapshot(turns=i), now=float(i)) for i in range(KEPT_STATES + 3)]
    resolved = [two.resolve(handle, now=20.0) for handle in issued]
    assert [s is not None for s in resolved] == [False] * 3 + [True] * KEPT_STATES
    assert len(one) == KEPT_STATES


def test_past_its_bound_the_store_forgets_the_oldest_handles_but_a_live_sessions_newest(
    workers: tuple[SharedDatabase, ...],
) -> None:
    store = SharedHandleStore(workers[0], TTL, max_handles=10)
    store.opened("live")
    live = store.issue(snapshot("live"), now=0.0)
    for i in range(600):  # sweeps run every 256 issues
        store.issue(snapshot(f"s{i}"), now=1.0)
    assert len(store) <= 10 + 256
    assert store.resolve(live, now=2.0) is not None


def test_scenario_progress_left_by_a_closed_connection_is_read_by_the_next_worker(
    workers: tuple[SharedDatabase, ...],
) -> None:
    one, two = SharedHandleStore(workers[0], TTL), SharedHandleStore(workers[1], TTL)
    progress = ScenarioProgress(started_at=1.0, turns=1)
    one.opened("s1")
    handle = one.issue(snapshot(progress=progress), now=1.0)
    progress.turns = 4  # a turn after the last handle closed the connection
    one.closed("s1", now=2.0)
    found = two.resolve(handle, now=3.0)
    assert found is not None
    assert found.progress.turns == 4


def test_a_transparent_session_resumes_its_open_activity_on_another_worker(
    workers: tuple[SharedDatabase, ...],
) -> None:
    first = Harness(store=SharedHandleStore(workers[0], 7200), reply_speed=0)
    first.session.vertex = True
    first.send(transparent_setup())
    first.send(START)
    sent = chunks(ramp(1.6))
    for chunk in sent:
        first.audio(chunk)
    first.session.connection_closed(first.now)
    second = Harness(store=SharedHandleStore(workers[1], 7200), reply_speed=0)
    second.session.vertex = True
    second.now = first.now + 1
    second.send(transparent_setup(resumable(first)[-1]["newHandle"]))
    for chunk in sent[25:]:
        second.audio(chunk)
    second.send({"realtimeInput": {"activityEnd": {}}})
    assert indices(second)[0] == "25"
    assert second.transcripts() == ["turn 1: heard 1.60 s of audio"]


def _tokens(database: SharedDatabase, now: list[float]) -> SharedTokenStore:
    return SharedTokenStore(database, lambda: now[0])


def test_a_token_minted_on_one_worker_is_used_up_on_the_other(workers: tuple[SharedDatabase, ...]) -> None:
    now = [1_000_000.0]
    one, two = _tokens(workers[0], now), _tokens(workers[1], now)
    name = one.mint({"uses": 2}).name
    first, second, third = two.get(name), one.get(name), two.get(name)
    assert first is not None
    assert second is not None
    assert third is not None
    first.start_session(now[0])
    second.start_session(now[0])
    with pytest.raises(Refusal) as refused:
        third.start_session(now[0])
    assert refused.value.reason == cr.TOKEN_USED_UP.text
    assert one.get("auth_tokens/unknown") is None


def test_a_tokens_new_session_window_closes_on_every_worker(workers: tuple[SharedDatabase, ...]) -> None:
    now = [1_000_000.0]
    one, two = _tokens(workers[0], now), _tokens(workers[1], now)
    spent, open_ended = one.mint({"uses": 1}).name, one.mint({"uses": 0}).name
    token = two.get(spent)
    assert token is not None
    token.start_session(now[0])
    now[0] += 61  # past newSessionExpireTime (60 s by default)
    late, used = two.get(open_ended), one.get(spent)
    assert late is not None
    assert used is not None
    with pytest.raises(Refusal) as closed:
        late.start_session(now[0])
    with pytest.raises(Refusal) as used_up:
        used.start_session(now[0])
    assert closed.value.reason == cr.TOKEN_NO_NEW_SESSIONS.text
    assert used_up.value.reason == cr.TOKEN_USED_UP.text  # used up first, as one worker says


def test_received_audio_goes_on_across_workers_and_rolls_back_to_a_handle(
    workers: tuple[SharedDatabase, ...],
) -> None:
    one, two = SharedReceivedAudio(workers[0]), SharedReceivedAudio(workers[1])
    record = one.open("s1")
    one.add(record, [b"a1", b"a2", b"a3"])
    one.add(one.open("s2"), [b"b1"])
    resumed = two.open("s1", keep=2)  # the handle held two chunks: the third comes again
    assert list(resumed) == [b"a1", b"a2"]
    two.add(resumed, [b"A3", b"a4"])
    assert SharedReceivedAudio(workers[0]).sessions() == {"s1": b"a1a2A3a4", "s2": b"b1"}
