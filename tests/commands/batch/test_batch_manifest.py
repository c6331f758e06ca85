"""Reading manifests (JSONL, TOML, audio files, directories, globs) and --shard, without any session."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import SAMPLES
from hypothesis import given
from hypothesis import strategies as st

from livecli.commands.batch.manifest import RawCase, parse_shard, read_manifests, shard_of
from livecli.errors import UsageError

HELLO = str(SAMPLES / "hello.flac")


def cases_of(count: int) -> list[RawCase]:
    return [RawCase(f"c{k}", k, "here", ()) for k in range(count)]


@given(count=st.integers(0, 60), shards=st.integers(1, 12))
def test_the_shards_cover_every_case_exactly_once(count: int, shards: int) -> None:
    cases = cases_of(count)
    taken = [case.id for index in range(1, shards + 1) for case in shard_of(cases, (index, shards))]
    assert sorted(taken) == sorted(case.id for case in cases)
    assert len(taken) == len(set(taken))


@given(count=st.integers(1, 40), shards=st.integers(1, 8), data=st.data())
def test_shard_i_takes_the_cases_k_mod_n_equal_i_minus_1(count: int, shards: int, data: st.DataObject) -> None:
    index = data.draw(st.integers(1, shards))
    assert [case.position for case in shard_of(cases_of(count), (index, shards))] == [
        k for k in range(count) if k % shards == index - 1
    ]


@pytest.mark.parametrize("text", ["0/3", "4/3", "1", "a/b", "1/0", ""])
def test_a_bad_shard_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError, match="--shard"):
        parse_shard(text)


@given(st.text(max_size=12))
def test_parse_shard_takes_only_i_of_n(text: str) -> None:
    try:
        index, count = parse_shard(text)
    except UsageError:
        return
    assert 1 <= index <= count


def test_jsonl_paths_are_relative_to_the_manifest(tmp_path: Path) -> None:
    (tmp_path / "in.flac").write_bytes(Path(HELLO).read_bytes())
    (tmp_path / "sys.txt").write_text("be brief")
    (tmp_path / "suite.jsonl").write_text(
        json.dumps({"id": "a", "turns": ["in.flac"], "system_file": "sys.txt", "model": "m"}) + "\n\n"
    )
    [case] = read_manifests([str(tmp_path / "suite.jsonl")], {"system_file"})
    assert case.turns[0].value == str(tmp_path / "in.flac")
    assert case.keys == {"system_file": str(tmp_path / "sys.txt"), "model": "m"}
    assert case.kind == "send"
    assert case.where.endswith("suite.jsonl line 1")


def test_toml_cases_text_and_video_turns(tmp_path: Path) -> None:
    (tmp_path / "v.mp4").write_bytes(b"")
    (tmp_path / "suite.toml").write_text(
        '[[case]]\nid = "t"\nturns = [{ text = "hi" }]\n\n'
        '[[case]]\nturns = [{ video = "v.mp4", prompt = "what" }]\n'
    )
    first, second = read_manifests([str(tmp_path / "suite.toml")], ())
    assert first.kind == "text"
    assert second.id == "case-2"
    assert second.turns[0].prompt == "what"
    assert second.kind == "send"


def test_globs_and_directories_give_a_case_per_audio_file(tmp_path: Path) -> None:
    for name in ("b.flac", "a.wav", "readme.md"):
        (tmp_path / name).write_bytes(b"x")
    from_dir = read_manifests([str(tmp_path)], ())
    from_glob = read_manifests([str(tmp_path / "*.flac"), str(tmp_path / "a.wav")], ())
    assert [case.id for case in from_dir] == ["a", "b"]
    assert [case.id for case in from_glob] == ["b", "a"]
    assert [case.position for case in from_glob] == [0, 1]


def test_the_same_stem_twice_gets_a_unique_id(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "a.wav").write_bytes(b"x")
    (tmp_path / "a.wav").write_bytes(b"x")
    cases = read_manifests([str(tmp_path / "a.wav"), str(tmp_path / "x" / "a.wav")], ())
    assert [case.id for case in cases] == ["a", "a-2"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "line 1: not JSON"),
        ('["a list"]', "a case must be an object"),
        ('{"id": "a"}', "key 'turns': missing"),
        ('{"id": "a", "turns": []}', "key 'turns': empty"),
        ('{"id": "a", "turns": [{"text": "-"}]}', "stdin"),
        ('{"id": "a", "turns": [{"audio": "x.wav", "text": "b"}]}', "one of audio, text or video"),
        ('{"id": "a", "turns": [{"text": "hi", "prompt": "b"}]}', "prompt only with video"),
        ('{"id": 3, "turns": ["x"]}', "key 'id'"),
    ],
)
def test_bad_cases_name_where_and_which_key(tmp_path: Path, line: str, message: str) -> None:
    (tmp_path / "s.jsonl").write_text(line + "\n")
    with pytest.raises(UsageError, match=message.replace("(", r"\(")):
        read_manifests([str(tmp_path / "s.jsonl")], ())


def test_an_empty_suite_or_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(UsageError, match="no cases"):
        read_manifests([str(tmp_path / "empty.jsonl")], ())
    with pytest.raises(UsageError, match="no such file"):
        read_manifests([str(tmp_path / "nothing*.wav")], ())


def test_a_toml_suite_is_only_case_tables(tmp_path: Path) -> None:
    (tmp_path / "s.toml").write_text('model = "x"\n')
    with pytest.raises(UsageError, match="unknown top-level key 'model'"):
        read_manifests([str(tmp_path / "s.toml")], ())


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)


@given(st.lists(JSON_VALUES, min_size=1, max_size=4))
def test_any_json_lines_are_cases_or_one_usage_error(
    tmp_path_factory: pytest.TempPathFactory, lines: list[object]
) -> None:
    path = tmp_path_factory.mktemp("m") / "s.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    try:
        cases = read_manifests([str(path)], {"image"})
    except UsageError as exc:
        assert "\n" not in str(exc)
        return
    assert [case.position for case in cases] == list(range(len(cases)))
    assert len({case.id for case in cases}) == len(cases)


def test_a_file_stem_that_is_no_directory_name_gets_a_safe_id(tmp_path: Path) -> None:
    for name in ("...wav", ".hidden.wav"):
        (tmp_path / name).write_bytes(b"x")
    cases = read_manifests([str(tmp_path / "...wav"), str(tmp_path / ".hidden.wav")], ())
    assert [case.id for case in cases] == ["case-", "case-hidden"]
