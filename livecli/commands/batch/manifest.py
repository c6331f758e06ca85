"""Reading a batch manifest into raw cases: JSONL, TOML with `[[case]]` tables, or plain audio files.

A raw case is its id, where it was written (for error lines), its turns and its other keys as written. What the
keys mean (the `send`/`text` options and the expectations) is the CLI's to check, since the schema is the
options themselves (livecli.cli.batch); this module checks what every case has: an id unique in the suite, turns
of one kind, and files that exist. Relative paths are taken from the manifest's directory, so a committed suite
runs from any working directory. Everything wrong is a UsageError naming the case and the key, raised before
anything is sent (docs/batch.md, "Manifest").
"""

from __future__ import annotations

import glob
import json
import os
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from livecli.errors import UsageError

__all__ = ["AUDIO_SUFFIXES", "CaseInput", "RawCase", "case_error", "parse_shard", "read_manifests", "shard_of"]

# Files a directory or glob contributes, one case each: what `send` decodes (README, "Sending audio").
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".oga", ".aiff", ".aif", ".aifc", ".mp3", ".opus")
_MANIFEST_SUFFIXES = (".jsonl", ".toml")
_ID = re.compile(r"[\w][\w.\-]*")  # also a directory name under the output directory
_TURN_KINDS = ("audio", "text", "video")


@dataclass(frozen=True)
class CaseInput:
    """One turn of a case: an audio file, a prompt, or a video file (with the text of `--prompt`)."""

    kind: str  # audio | text | video
    value: str  # the file's path, or the prompt
    prompt: str | None = None  # a video's `--prompt`


@dataclass(frozen=True)
class RawCase:
    """A case as the manifest wrote it; `position` is its 0-based place in the suite (for --shard)."""

    id: str
    position: int
    where: str  # "suite.jsonl line 3", "suite.toml case 2", "hello.flac"
    turns: tuple[CaseInput, ...]
    keys: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        """The command the case is a run of: `text` for a prompt, `send` for audio files or a video."""
        return "text" if self.turns[0].kind == "text" else "send"


def case_error(case_id: str | None, where: str, key: str | None, message: str) -> UsageError:
    """The one form of a manifest error: which case, where it is written, which key, and what is wrong."""
    who = f"case {case_id!r} ({where})" if case_id is not None else where
    return UsageError(f"{who}: " + (f"key {key!r}: " if key is not None else "") + message)


def parse_shard(text: str) -> tuple[int, int]:
    """`--shard i/N` as (i, N), 1 <= i <= N."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if match is None or not 1 <= int(match[1]) <= int(match[2]):
        raise UsageError(f"--shard {text!r}: give i/N with 1 <= i <= N, e.g. --shard 2/4")
    return int(match[1]), int(match[2])


def shard_of(cases: Sequence[RawCase], shard: tuple[int, int] | None) -> list[RawCase]:
    """The cases shard i of N takes: case k (0-based, in manifest order) when k mod N = i - 1."""
    if shard is None:
        return list(cases)
    index, count = shard
    return [case for case in cases if case.position % count == index - 1]


def read_manifests(sources: Sequence[str], path_keys: Iterable[str]) -> list[RawCase]:
    """Every case of the sources in order: manifests (.jsonl, .toml), audio files, directories and globs.

    `path_keys` are the keys whose values are files (relative to the manifest's directory).
    """
    paths = frozenset(path_keys)
    cases: list[RawCase] = []
    for source in sources:
        if source.endswith(_MANIFEST_SUFFIXES) and os.path.isfile(source):
            entries = _jsonl(source) if source.endswith(".jsonl") else _toml(source)
            base = os.path.dirname(source)
            for where, entry in entries:
                cases.append(_case(entry, len(cases), where, base, paths))
        else:
            for name in _audio_files(source):
                cases.append(RawCase(_unique_stem(name, cases), len(cases), name, (CaseInput("audio", name),)))
    if not cases:
        raise UsageError(f"no cases in {', '.join(sources)}")
    seen: dict[str, RawCase] = {}
    for case in cases:
        if case.id in seen:
            raise case_error(case.id, case.where, "id", f"the id is taken by the case in {seen[case.id].where}")
        seen[case.id] = case
    return cases


def _jsonl(name: str) -> list[tuple[str, Any]]:
    entries = []
    for number, line in enumerate(_text(name).splitlines(), 1):
        if line.strip():
            try:
                entries.append((f"{name} line {number}", json.loads(line)))
            except json.JSONDecodeError as exc:
                raise UsageError(f"{name} line {number}: not JSON: {exc.msg} (column {exc.colno})") from None
    return entries


def _toml(name: str) -> list[tuple[str, Any]]:
    try:
        document = tomllib.loads(_text(name))
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{name}: not TOML: {exc}") from None
    other = sorted(set(document) - {"case"})
    if other:
        raise UsageError(f"{name}: unknown top-level key {other[0]!r}: a suite is a list of [[case]] tables")
    tables = document.get("case", [])
    if not isinstance(tables, list):
        raise UsageError(f"{name}: `case` must be [[case]] tables")
    return [(f"{name} case {number}", table) for number, table in enumerate(tables, 1)]


def _text(name: str) -> str:
    try:
        return Path(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{name}: cannot read the manifest: {getattr(exc, 'strerror', None) or exc}") from None


def _case(entry: Any, position: int, where: str, base: str, paths: frozenset[str]) -> RawCase:
    if not isinstance(entry, dict):
        raise case_error(None, where, None, "a case must be an object (a table in TOML)")
    keys = dict(entry)
    case_id = keys.pop("id", f"case-{position + 1}")
    if not isinstance(case_id, str) or not _ID.fullmatch(case_id):
        raise case_error(None, where, "id", f"{case_id!r} is not an id: letters, digits, '.', '-', '_'")
    if "turns" not in keys:
        raise case_error(case_id, where, "turns", "missing: give the case's audio files, text or video")
    turns = _turns(keys.pop("turns"), case_id, where, base)
    for key, value in keys.items():
        if key in paths:
            keys[key] = _resolved(value, base, case_id, where, key)
    return RawCase(case_id, position, where, turns, keys)


def _turns(value: Any, case_id: str, where: str, base: str) -> tuple[CaseInput, ...]:
    def bad(message: str) -> UsageError:
        return case_error(case_id, where, "turns", message)

    items = value if isinstance(value, list) else [value]
    if not items:
        raise bad("empty: give at least one turn")
    turns = []
    for item in items:
        if isinstance(item, str):
            item = {"audio": item}
        if not isinstance(item, dict):
            raise bad(f"{item!r}: a turn is a file name or an object with audio, text or video")
        kinds = [kind for kind in _TURN_KINDS if kind in item]
        unknown = sorted(set(item) - {*_TURN_KINDS, "prompt"})
        if len(kinds) != 1 or unknown or ("prompt" in item and kinds != ["video"]):
            raise bad(f"{item!r}: a turn has one of audio, text or video (and prompt only with video)")
        kind, text, prompt = kinds[0], item[kinds[0]], item.get("prompt")
        if not isinstance(text, str) or not text.strip() or not isinstance(prompt, str | None):
            raise bad(f"{item!r}: {kind} must be a non-empty string")
        if kind == "text" and text == "-":
            raise bad("a prompt in a manifest cannot be - (stdin)")
        if kind != "text":
            text = _resolved(text, base, case_id, where, "turns")
        turns.append(CaseInput(kind, text, prompt))
    if len(turns) > 1 and {turn.kind for turn in turns} != {"audio"}:
        raise bad("a text or video turn is the case's only turn (several turns are audio files, as with send)")
    return tuple(turns)


def _resolved(value: Any, base: str, case_id: str, where: str, key: str) -> Any:
    """A file key's value with its paths relative to the manifest's directory, each checked to exist."""
    if isinstance(value, list):
        return [_resolved(item, base, case_id, where, key) for item in value]
    if not isinstance(value, str) or not value:
        return value  # the option's own validation names the type
    if value == "-":
        raise case_error(case_id, where, key, "- (stdin) cannot be read by a suite")
    path = value if os.path.isabs(value) else os.path.join(base, value)
    if not os.path.exists(path):
        raise case_error(case_id, where, key, f"{value}: no such file")
    return path


def _audio_files(source: str) -> list[str]:
    """An audio file as is; a directory's audio files; a glob's matches (sorted, so the order is stable)."""
    if os.path.isdir(source):
        names = sorted(str(p) for p in Path(source).iterdir() if p.suffix.lower() in AUDIO_SUFFIXES)
    elif os.path.exists(source):
        return [source]
    else:
        names = sorted(n for n in glob.glob(source, recursive=True) if os.path.isfile(n))
    if not names:
        raise UsageError(f"{source}: no such file, and no audio files match it")
    return names


def _unique_stem(name: str, cases: Sequence[RawCase]) -> str:
    stem = re.sub(r"[^\w.\-]", "_", Path(name).stem)
    if not _ID.fullmatch(stem):  # "", ".hidden", "..": not a directory name of its own under cases/
        stem = "case-" + stem.strip(".")
    taken = {case.id for case in cases}
    unique, number = stem, 1
    while unique in taken:
        number += 1
        unique = f"{stem}-{number}"
    return unique
