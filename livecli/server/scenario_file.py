"""A scenario file read strictly: every key checked for its type and range when `serve` starts.

A scenario file is trusted no more than any input: a wrong type, a close code a WebSocket cannot send, an HTTP
status that is not one, an audio file that is missing, a directory or a device, nesting deeper than any scenario
needs — each is one usage error naming the file and the key (`turns[2].close.code: ...`), at start-up, never a
traceback nor a 1011 when a client reaches that turn (docs/wire.md, "Scenario files").
"""

from __future__ import annotations

import json
import math
import stat
import tomllib
from dataclasses import fields
from pathlib import Path
from typing import Any

from livecli.errors import UsageError
from livecli.protocol.close_reasons import cut_reason

__all__ = ["SENDABLE_CLOSE_CODES", "read_scenario_file"]

# RFC 6455, section 7.4: the codes an endpoint may send in a close frame (1004-1006 and 1015 are reserved, and
# websockets refuses to send them); 3000-4999 are for libraries and applications.
SENDABLE_CLOSE_CODES = frozenset({1000, 1001, 1002, 1003, *range(1007, 1015), *range(3000, 5000)})
MAX_DEPTH = 32  # tool-call args/expect nest at most this deep (they are sent as JSON at every turn)
MAX_DELAY_MS = 3_600_000  # an hour: any longer delay is a typo, not a test
MAX_AUDIO_BYTES = 256 << 20  # a reply audio file at most (read whole at start-up)
_ACTIONS = ("goaway", "close", "drop", "stall", "malformed", "quota")


class _Bad(Exception):
    """A key of the scenario file holds what it may not."""

    def __init__(self, key: str, why: str) -> None:
        super().__init__(f"{key}: {why}" if key else why)


def read_scenario_file(path: Path) -> dict[str, Any]:
    """The file's keys checked and converted: the keyword arguments of `Scenario` (turns and timed actions as
    dicts of `TurnSpec`/`TimedAction` fields). UsageError naming the file (and the key) when anything is wrong."""
    try:
        if not path.is_file():
            raise _Bad("", "not a regular file")
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
        return _scenario(data, path)
    except _Bad as exc:
        raise UsageError(f"scenario file {path}: {exc}") from None
    except RecursionError:
        raise UsageError(f"scenario file {path}: nested too deeply") from None
    except (OSError, ValueError) as exc:  # unreadable, not UTF-8, not TOML/JSON
        raise UsageError(f"scenario file {path}: {exc}") from None


def _table(value: Any, key: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Bad(key, f"must be a table, not {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list"}.get(
        type(value), "a table" if isinstance(value, dict) else type(value).__name__
    )


def _only(table: dict[str, Any], known: set[str], key: str) -> None:
    unknown = sorted(set(table) - known)
    if unknown:
        where = f"{key}: " if key else ""
        raise _Bad("", f"{where}unknown field(s): {', '.join(unknown)}")


def _str(value: Any, key: str) -> str:
    if not isinstance(value, str):
        raise _Bad(key, f"must be a string, not {_kind(value)}")
    return value


def _bool(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise _Bad(key, f"must be true or false, not {_kind(value)}")
    return value


def _int(value: Any, key: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise _Bad(key, f"must be an integer from {low} to {high}, not {value!r}")
    return value


def _seconds(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise _Bad(key, f"must be a number of seconds (0 or more), not {value!r}")
    return float(value)


def _close_code(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in SENDABLE_CLOSE_CODES:
        raise _Bad(
            key, f"must be a close code a WebSocket can send (1000-1003, 1007-1014, 3000-4999), not {value!r}"
        )
    return value


def _close(value: Any, key: str) -> dict[str, Any]:
    table = _table(value, key)
    _only(table, {"code", "reason"}, key)
    if "code" not in table:
        raise _Bad(f"{key}.code", "is missing")
    reason = cut_reason(_str(table.get("reason", ""), f"{key}.reason"))
    return {"code": _close_code(table["code"], f"{key}.code"), "reason": reason}


def _json_value(value: Any, key: str, depth: int = 0) -> Any:
    """A value sent as JSON at runtime: only JSON's types (no TOML dates, no NaN), at most MAX_DEPTH deep."""
    if depth > MAX_DEPTH:
        raise _Bad(key, f"nests deeper than {MAX_DEPTH} levels")
    if isinstance(value, dict):
        return {str(k): _json_value(v, f"{key}.{k}", depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_value(v, f"{key}[{i}]", depth + 1) for i, v in enumerate(value)]
    if isinstance(value, float) and not math.isfinite(value):
        raise _Bad(key, "must be a finite number")
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise _Bad(key, f"must be a JSON value, not {_kind(value)}")


def _json_table(value: Any, key: str) -> dict[str, Any] | None:
    if value is None:
        return None
    result: dict[str, Any] = _json_value(_table(value, key), key)
    return result


def _audio(value: Any, key: str, base: Path) -> bytes:
    audio_path = base / _str(value, key)
    try:
        mode = audio_path.stat().st_mode
    except OSError as exc:
        raise _Bad(key, f"{audio_path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(mode):
        raise _Bad(key, f"{audio_path}: not a regular file")
    if audio_path.stat().st_size > MAX_AUDIO_BYTES:
        raise _Bad(key, f"{audio_path}: larger than {MAX_AUDIO_BYTES >> 20} MiB")
    try:
        return _load_audio(audio_path)
    except (OSError, RuntimeError, ValueError) as exc:  # soundfile's errors are RuntimeErrors
        raise _Bad(key, f"{audio_path}: cannot read it as audio ({exc})") from None


def _load_audio(path: Path) -> bytes:
    """A reply audio file as 24 kHz mono s16le (its rate within the range livecli takes)."""
    import numpy as np
    import soundfile

    from livecli.audio.decode import MAX_INPUT_RATE, MIN_INPUT_RATE
    from livecli.server.replies import OUTPUT_RATE, resample_pcm16

    samples, rate = soundfile.read(str(path), dtype="int16", always_2d=True)
    if not MIN_INPUT_RATE <= rate <= MAX_INPUT_RATE:
        raise ValueError(f"sample rate {rate} Hz outside {MIN_INPUT_RATE}-{MAX_INPUT_RATE} Hz")
    mono = samples.mean(axis=1).astype(np.int16) if samples.shape[1] > 1 else samples[:, 0]
    return resample_pcm16(mono.astype("<i2").tobytes(), int(rate), OUTPUT_RATE)


_TURN_BOOLS = ("generation_complete_only", "silent", "drop", "stall", "malformed", "quota")
_TURN_TEXTS = ("input_transcript", "output_transcript")


def _turn(value: Any, key: str, base: Path, known: set[str]) -> dict[str, Any]:
    table = _table(value, key)
    _only(table, known, key)
    turn: dict[str, Any] = {}
    for name in _TURN_BOOLS:
        if name in table:
            turn[name] = _bool(table[name], f"{key}.{name}")
    for name in _TURN_TEXTS:
        if name in table:
            turn[name] = _str(table[name], f"{key}.{name}")
    if "delay_ms" in table:
        turn["delay_ms"] = _int(table["delay_ms"], f"{key}.delay_ms", 0, MAX_DELAY_MS)
    if "interrupt_after_ms" in table:
        turn["interrupt_after_ms"] = _int(
            table["interrupt_after_ms"], f"{key}.interrupt_after_ms", 0, MAX_DELAY_MS
        )
    if "audio" in table:
        turn["audio"] = _audio(table["audio"], f"{key}.audio", base)
    if "text" in table:
        text = table["text"]
        items = [text] if isinstance(text, str) else text
        if not isinstance(items, list):
            raise _Bad(f"{key}.text", f"must be a string or a list of strings, not {_kind(text)}")
        turn["text"] = tuple(_str(t, f"{key}.text[{i}]") for i, t in enumerate(items))
    if "tool_call" in table:
        call = _table(table["tool_call"], f"{key}.tool_call")
        _only(call, {"name", "args", "expect"}, f"{key}.tool_call")
        called = call.get("name")
        turn["tool_call"] = {
            "name": None if called is None else _str(called, f"{key}.tool_call.name"),
            "args": _json_table(call.get("args"), f"{key}.tool_call.args"),
            "expect": _json_table(call.get("expect"), f"{key}.tool_call.expect"),
        }
    if "close" in table:
        turn["close"] = _close(table["close"], f"{key}.close")
    return turn


def _timed(value: Any, key: str) -> dict[str, Any]:
    table = _table(value, key)
    _only(table, {"t", "action", "code", "reason", "time_left_s"}, key)
    if "t" not in table or "action" not in table:
        raise _Bad(key, "needs t and action")
    action = _str(table["action"], f"{key}.action")
    if action not in _ACTIONS:
        raise _Bad(f"{key}.action", f"unknown action {action!r} (one of {', '.join(_ACTIONS)})")
    timed: dict[str, Any] = {"t": _seconds(table["t"], f"{key}.t"), "action": action}
    if "code" in table:
        timed["code"] = _close_code(table["code"], f"{key}.code")
    if "reason" in table:
        timed["reason"] = cut_reason(_str(table["reason"], f"{key}.reason"))
    if "time_left_s" in table:
        timed["time_left_s"] = _seconds(table["time_left_s"], f"{key}.time_left_s")
    return timed


def _list(value: Any, key: str) -> list[Any]:
    if not isinstance(value, list):
        raise _Bad(key, f"must be a list of tables, not {_kind(value)}")
    return value


def _scenario(data: Any, path: Path) -> dict[str, Any]:
    from livecli.server.scenarios import TurnSpec

    data = _table(data, "")
    known = {"name", "turns", "repeat_last_turn", "at", "setup", "upgrade", "stream_end_ignored"}
    _only(data, known, "")
    turn_fields = {f.name for f in fields(TurnSpec)}
    result: dict[str, Any] = {
        "name": _str(data.get("name", path.stem), "name"),
        "turns": [
            _turn(t, f"turns[{i + 1}]", path.parent, turn_fields)
            for i, t in enumerate(_list(data.get("turns", []), "turns"))
        ],
        "repeat_last_turn": _bool(data.get("repeat_last_turn", False), "repeat_last_turn"),
        "at": [_timed(a, f"at[{i + 1}]") for i, a in enumerate(_list(data.get("at", []), "at"))],
        "stream_end_ignored": _bool(data.get("stream_end_ignored", False), "stream_end_ignored"),
    }
    setup = _table(data.get("setup", {}), "setup")
    _only(setup, {"close"}, "setup")
    if "close" in setup:
        result["setup_close"] = _close(setup["close"], "setup.close")
    upgrade = _table(data.get("upgrade", {}), "upgrade")
    _only(upgrade, {"status", "body"}, "upgrade")
    if "status" in upgrade:  # an upgrade is refused with an HTTP error or redirect status, never 101 or 2xx
        result["upgrade_status"] = _int(upgrade["status"], "upgrade.status", 300, 599)
    result["upgrade_body"] = _str(upgrade.get("body", ""), "upgrade.body")
    return result
