"""The session options (`--temperature`, `--vad-*`, `--context-compression`, `--google-search`, `--setup FILE`…)
as one typed request, and the setup fields they become.

Each option is named after its SessionOptions field (livecli.cli.session_options); the CLI's friendly lowercase
values are turned into the API's spelling here (docs/wire.md, "Session options"), and a bad value is one
UsageError line. `--setup FILE` is read here too: its keys camelCased where the schema knows them, merged over the
flags' setup by livecli.protocol.client_messages.merge_setup.
"""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from livecli.errors import UsageError
from livecli.protocol.wire import camel
from livecli.server.schema import CLIENT_MESSAGE, STRUCT, Repeated, Spec
from livecli.server.validate import InvalidValue, Refusal, check_setup_shape

__all__ = [
    "ACTIVITY_HANDLING",
    "SENSITIVITIES",
    "THINKING_LEVELS",
    "TURN_COVERAGE",
    "SessionOptions",
    "check_setup_file_shape",
    "load_setup_file",
    "session_fields",
]

# docs/wire.md, "Session options": the CLI's names for the API's enum values.
SENSITIVITIES = ("low", "high")
THINKING_LEVELS = ("minimal", "low", "medium", "high")
ACTIVITY_HANDLING = {"interrupt": "START_OF_ACTIVITY_INTERRUPTS", "no-interrupt": "NO_INTERRUPTION"}
TURN_COVERAGE = {
    "only-activity": "TURN_INCLUDES_ONLY_ACTIVITY",
    "all-input": "TURN_INCLUDES_ALL_INPUT",
    "audio-activity-and-all-video": "TURN_INCLUDES_AUDIO_ACTIVITY_AND_ALL_VIDEO",
}

# The most livecli reads of a --setup file (like --system-file, docs/wire.md, "Limits").
MAX_SETUP_FILE_BYTES = 1 << 20


@dataclass
class SessionOptions:
    """The setup's options beyond model, voice and turn-taking (None or False: not sent; the service's default)."""

    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    max_output_tokens: int | None = None
    seed: int | None = None
    thinking_level: str | None = None  # minimal|low|medium|high
    thinking_budget: int | None = None
    affective_dialog: bool = False
    proactive_audio: bool | None = None
    vad_start_sensitivity: str | None = None  # low|high
    vad_end_sensitivity: str | None = None
    vad_prefix_ms: int | None = None
    vad_silence_ms: int | None = None
    activity_handling: str | None = None  # interrupt|no-interrupt
    turn_coverage: str | None = None  # a key of TURN_COVERAGE
    context_compression: bool = False
    compression_trigger_tokens: int | None = None
    compression_target_tokens: int | None = None
    google_search: bool = False
    code_execution: bool = False
    url_context: bool = False
    setup_file: str | None = None
    preflight: bool = True


def _choice(flag: str, value: str | None, choices: Mapping[str, str] | tuple[str, ...]) -> str | None:
    """The API's spelling of a friendly value (case-insensitive), or UsageError naming the choices."""
    if value is None:
        return None
    key = value.lower()
    if key not in choices:
        raise UsageError(f"{flag} must be one of {', '.join(choices)}, not {value!r}")
    return choices[key] if isinstance(choices, Mapping) else key.upper()


def _thinking(opts: SessionOptions) -> dict[str, Any] | None:
    if opts.thinking_level is not None and opts.thinking_budget is not None:
        raise UsageError("give --thinking-level or --thinking-budget, not both")
    if opts.thinking_budget is not None:
        return {"thinkingBudget": opts.thinking_budget}
    level = _choice("--thinking-level", opts.thinking_level, THINKING_LEVELS)
    return None if level is None else {"thinkingLevel": level}


def _vad(opts: SessionOptions, server_vad: bool) -> dict[str, Any] | None:
    """automaticActivityDetection's tuning; a usage error where --turn-end activity switches detection off."""
    start = _choice("--vad-start-sensitivity", opts.vad_start_sensitivity, SENSITIVITIES)
    end = _choice("--vad-end-sensitivity", opts.vad_end_sensitivity, SENSITIVITIES)
    given = {
        "--vad-start-sensitivity": ("startOfSpeechSensitivity", start and f"START_SENSITIVITY_{start}"),
        "--vad-end-sensitivity": ("endOfSpeechSensitivity", end and f"END_SENSITIVITY_{end}"),
        "--vad-prefix-ms": ("prefixPaddingMs", opts.vad_prefix_ms),
        "--vad-silence-ms": ("silenceDurationMs", opts.vad_silence_ms),
    }
    given = {flag: pair for flag, pair in given.items() if pair[1] is not None}
    if not given:
        return None
    if not server_vad:
        raise UsageError(
            f"{', '.join(given)} tune the server's voice activity detection, which --turn-end activity switches "
            "off: add --turn-end silence or --turn-end vad"
        )
    return dict(given.values())


def _compression(opts: SessionOptions) -> dict[str, Any] | None:
    """contextWindowCompression with a sliding window; either token count alone also turns it on."""
    trigger, target = opts.compression_trigger_tokens, opts.compression_target_tokens
    if not (opts.context_compression or trigger is not None or target is not None):
        return None
    if trigger is not None and target is not None and target >= trigger:
        raise UsageError(
            f"--compression-target-tokens ({target}) must be below --compression-trigger-tokens ({trigger}): "
            "the window shrinks to the target once the context reaches the trigger"
        )
    window: dict[str, Any] = {} if target is None else {"targetTokens": target}
    return {"slidingWindow": window} | ({} if trigger is None else {"triggerTokens": trigger})


def _finite(flag: str, value: float | None) -> float | None:
    """A float JSON can carry: nan and inf have no JSON form (docs/wire.md, "Framing")."""
    if value is not None and not math.isfinite(value):
        raise UsageError(f"{flag} must be a finite number, not {value}")
    return value


def session_fields(opts: SessionOptions, *, server_vad: bool) -> dict[str, Any]:
    """The SetupConfig fields the session options ask for (`server_vad`: automatic activity detection is on)."""
    builtin = {"googleSearch": opts.google_search, "codeExecution": opts.code_execution}
    builtin["urlContext"] = opts.url_context
    return {
        "temperature": _finite("--temperature", opts.temperature),
        "top_p": _finite("--top-p", opts.top_p),
        "top_k": opts.top_k,
        "max_output_tokens": opts.max_output_tokens,
        "seed": opts.seed,
        "thinking": _thinking(opts),
        "affective_dialog": True if opts.affective_dialog else None,
        "proactive_audio": opts.proactive_audio,
        "vad": _vad(opts, server_vad),
        "activity_handling": _choice("--activity-handling", opts.activity_handling, ACTIVITY_HANDLING),
        "turn_coverage": _choice("--turn-coverage", opts.turn_coverage, TURN_COVERAGE),
        "context_window_compression": _compression(opts),
        "builtin_tools": tuple(name for name, wanted in builtin.items() if wanted),
        "extra": load_setup_file(opts.setup_file) if opts.setup_file else None,
    }


def _camel_keys(value: Any, spec: Spec | None) -> Any:
    """`value` with the field names the schema knows in camelCase; the insides of free-form fields (a function's
    parameters, labels) and of fields livecli does not know are left as written (the service reads snake_case
    too, docs/wire.md, "Framing")."""
    if isinstance(spec, dict) and isinstance(value, dict):
        return {camel(key): _camel_keys(item, spec.get(camel(key))) for key, item in value.items()}
    if isinstance(spec, Repeated) and isinstance(value, list):
        return [_camel_keys(item, spec.item) for item in value]
    return value


def _known_fields(value: Any, spec: Spec | None) -> Any:
    """`value` without the field names the schema does not know (they go to the service as written, for a field
    livecli does not know yet); what is left is what the schema can check."""
    if isinstance(spec, dict) and isinstance(value, dict):
        return {key: _known_fields(item, spec[key]) for key, item in value.items() if key in spec}
    if isinstance(spec, Repeated) and isinstance(value, list):
        return [_known_fields(item, spec.item) for item in value]
    return value


# What a field of each protobuf type takes, for the --setup check's line (the types are livecli.server.schema's).
_EXPECTED = {
    "TYPE_STRING": "a string",
    "TYPE_BOOL": "true or false",
    "TYPE_INT32": "an integer",
    "TYPE_INT64": "an integer",
    "TYPE_FLOAT": "a number",
    "TYPE_BYTES": "base64 text",
    STRUCT.type: "an object",
}


def check_setup_file_shape(setup: dict[str, Any], name: str) -> None:
    """UsageError naming the file and the field where the setup (the flags' fields with --setup FILE merged over
    them, camelCase) has a value of the wrong type for a field the schema knows, as the service would refuse it
    with 1007; checked before anything reads the setup, so a wrong shape is one line, not a crash."""
    try:
        check_setup_shape(_known_fields(setup, CLIENT_MESSAGE["setup"]))
    except InvalidValue as bad:
        field = ".".join(camel(part) for part in bad.path.split(".")[1:])  # without the leading `setup.`
        expected = _EXPECTED.get(bad.expected, bad.expected)
        raise UsageError(f"--setup {name}: {field} must be {expected}, not {bad.shown}") from None
    except Refusal as refused:  # any other refusal of the schema's, in the service's words
        raise UsageError(f"--setup {name}: {refused.reason}") from None


def load_setup_file(name: str) -> dict[str, Any]:
    """The setup fields in a --setup FILE.json or .toml (the body of `setup`, or `{"setup": {...}}`), camelCased.

    Raises:
        UsageError: unreadable, not JSON/TOML, not an object, or naming what other flags own (`model`, the
            resumption handle).
    """
    kind = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if kind not in ("json", "toml"):
        raise UsageError(f"--setup {name}: give a .json or .toml file")
    try:
        with open(name, "rb") as handle:
            data = handle.read(MAX_SETUP_FILE_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"--setup {name}: {exc.strerror or exc}") from None
    if len(data) > MAX_SETUP_FILE_BYTES:
        raise UsageError(
            f"--setup {name} is longer than {MAX_SETUP_FILE_BYTES >> 20} MiB (the most livecli reads)"
        )
    try:
        text = data.decode("utf-8")
        fields = json.loads(text) if kind == "json" else tomllib.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError and TOMLDecodeError are ValueErrors
        raise UsageError(f"--setup {name}: not valid {kind.upper()}: {exc}") from None
    try:  # TOML has dates and times, both formats nan and inf: none of them is JSON the service reads
        json.dumps(fields, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"--setup {name}: a value has no JSON form ({exc})") from None
    if isinstance(fields, dict) and set(fields) == {"setup"}:
        fields = fields["setup"]
    if not isinstance(fields, dict):
        raise UsageError(f"--setup {name}: the file must hold an object of setup fields")
    fields = dict(_camel_keys(fields, CLIENT_MESSAGE["setup"]))
    if "model" in fields:
        raise UsageError(f"--setup {name}: the model is --model's to set (remove `model` from the file)")
    if isinstance(fields.get("sessionResumption"), dict) and "handle" in fields["sessionResumption"]:
        raise UsageError(f"--setup {name}: the resumption handle is livecli's to set (remove it from the file)")
    return fields
