"""Where replies go, decided once before connecting so a bad `-o` fails fast (exit 2).

- `-o reply.wav|.flac|.ogg|.opus|.mp3`: the reply audio, format by suffix or `--format` (one input only; what
  the installed libsndfile writes, checked here so an unknown format fails before connecting);
- `-o -`: the reply on stdout as it arrives (commands/stream_out): WAV with unknown lengths, or `--format raw`
  (not with --json, which owns stdout);
- `-o FIFO` or `-o DEVICE` (an existing path that is not a regular file, `/dev/null` too): never replaced; with
  `--format wav` (the default, whatever its name) or `raw` streamed into as `-o -` streams to stdout
  (commands/stream_out), with a file format written into in place once the reply is complete (audio/encode);
- `-o DIR/` (or an existing directory): `DIR/<input stem>.wav` (or `--format`'s suffix) per input — required
  with several inputs;
- no `-o`: no audio is saved; the reply transcript (or the model's TEXT parts) goes to stdout.

`check_destinations` then proves the plan can be carried out, still before connecting: no output is one of the
inputs (the reply would replace it), every output file can be created, and stdout is open when data goes there.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from livecli.errors import OutputError, UsageError

if TYPE_CHECKING:
    from livecli.env import Env

__all__ = [
    "OutputPlan",
    "check_destinations",
    "check_stdout_audio",
    "plan_output",
    "write_text",
]


@dataclass(frozen=True)
class OutputPlan:
    """The destination of each input's reply: a path, "-" (stdout), or None (transcript to stdout)."""

    destinations: tuple[str | None, ...]
    to_stdout_audio: bool = False
    transcript_to_stdout: bool = False
    directory: str | None = field(default=None)
    stream_kind: str = "wav"  # with `-o -` or `stream_path`: wav or raw
    stream_path: str | None = None  # a FIFO or device the reply streams into as it arrives
    file_kind: str | None = None  # with files: the --format name (None: by each file's suffix)

    def destination(self, index: int) -> str | None:
        """Where the reply to input `index` (0-based) goes."""
        return self.destinations[index]


def _stem(name: str) -> str:
    if name in ("-", "stdin"):
        return "stdin"
    return Path(name).stem or "reply"


def _is_directory(output: str) -> bool:
    return output.endswith(("/", os.sep)) or os.path.isdir(output)


def plan_output(output: str | None, inputs: Sequence[str], *, json: bool, kind: str | None = None) -> OutputPlan:
    """Check `-o` against the inputs and return where each reply goes.

    Raises:
        UsageError: `-o -` with --json or several inputs, a single file name for several inputs, an unknown
            suffix, or a directory that cannot be created.
    """
    count = len(inputs)
    if output is None:
        return OutputPlan((None,) * count, transcript_to_stdout=not json)
    from livecli.commands.stream_out import STREAM_FORMATS

    stream_kind = (kind or "wav").lower()
    if output == "-":
        if json:
            raise UsageError("-o - writes audio to stdout, which --json uses: give -o a file name")
        if count != 1:
            raise UsageError("-o - takes one input; with several inputs give -o a directory (-o DIR/)")
        if stream_kind not in STREAM_FORMATS:
            raise UsageError(f"-o - streams the reply as it arrives: --format wav or raw, not {kind}")
        return OutputPlan(("-",), to_stdout_audio=True, stream_kind=stream_kind)
    from livecli.audio.encode import is_stream_target, reply_format

    if count == 1 and is_stream_target(output) and stream_kind in STREAM_FORMATS:
        return OutputPlan((output,), stream_kind=stream_kind, stream_path=output)
    if kind is not None and kind.lower() == "raw":
        raise UsageError("--format raw is for -o - (a stream); a file needs a file format (wav, flac, ...)")
    if _is_directory(output):
        suffix = reply_format(output, kind).suffixes[0] if kind is not None else ".wav"
        try:
            os.makedirs(output, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"{output}: cannot create directory: {exc.strerror or exc}") from None
        used: dict[str, int] = {}
        paths = []
        for name in inputs:
            stem = _stem(name)
            used[stem] = used.get(stem, 0) + 1
            unique = stem if used[stem] == 1 else f"{stem}-{used[stem]}"
            paths.append(os.path.join(output, unique + suffix))
        return OutputPlan(tuple(paths), directory=output, file_kind=kind)
    if count != 1:
        raise UsageError(f"{count} inputs need -o DIR/ (a reply per input), not the single file name {output}")
    reply_format(output, kind)
    if is_stream_target(output):  # a FIFO or device in a file format: written in place, wherever it is
        return OutputPlan((output,), file_kind=kind)
    parent = os.path.dirname(output) or "."
    if not os.path.isdir(parent):
        problem = "is not a directory" if os.path.exists(parent) else "does not exist"
        raise UsageError(f"{output}: {parent} {problem}")
    return OutputPlan((output,), file_kind=kind)


def check_destinations(plan: OutputPlan, inputs: Sequence[str], env: Env, *, json: bool) -> None:
    """Prove, before connecting, that the replies can be written where the plan puts them.

    Raises:
        OutputError: an output that is one of the inputs (also through a link, or stdin/stdout redirected to or
            from it), an output file that cannot be created, or a closed stdout that data would go to.
    """
    from livecli.audio.encode import prove_writable

    use = _stdout_use(plan, json=json)
    if use is not None and env.stdout_closed:
        raise OutputError(f"stdout is closed: nowhere to write {use}")
    files = [name for name in inputs if name != "-"]
    outputs = list(dict.fromkeys(d for d in plan.destinations if d is not None and d != "-"))
    for dest in outputs:
        for name in files:
            if _same_file(dest, name):
                raise OutputError(f"-o {dest} is the input {name}: the reply would replace it; give another -o")
        if "-" in inputs and _is_stream_of(env.stdin, dest):
            raise OutputError(f"-o {dest} is the file on stdin: the reply would replace it; give another -o")
    if use is not None:
        for name in files:
            if _is_stream_of(env.stdout, name):
                raise OutputError(f"stdout is the input {name}: writing {use} would change it")
    for dest in outputs:
        prove_writable(dest)


def _stdout_use(plan: OutputPlan, *, json: bool) -> str | None:
    """What the run writes to stdout, in words, or None."""
    if plan.to_stdout_audio:
        return "the reply audio (-o -)"
    if json:
        return "the --json events"
    if plan.transcript_to_stdout:
        return "the transcript (give -o FILE to save the reply instead)"
    return None


def _same_file(a: str, b: str) -> bool:
    """Whether two names lead to one file (symbolic and hard links included)."""
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):  # one of them does not exist (yet)
        return False


def _is_stream_of(stream: BinaryIO, name: str) -> bool:
    """Whether a standard stream is redirected to or from the file `name`."""
    try:
        return os.path.samestat(os.fstat(stream.fileno()), os.stat(name))
    except (OSError, ValueError):  # an in-memory or closed stream, or no such file
        return False


def check_stdout_audio(output: str | None, *, stdout_isatty: bool) -> None:
    """Refuse `-o -` when stdout is a terminal: a WAV there is screenfuls of binary noise.

    Raises:
        UsageError: `-o -` with stdout on a terminal.
    """
    if output == "-" and stdout_isatty:
        raise UsageError(
            "-o - writes WAV audio to stdout, which is a terminal: redirect it (> reply.wav) or pipe it"
        )


def write_text(stdout: BinaryIO, text: str) -> None:
    """A transcript or text reply on stdout, one line, flushed (it is data, so it is not escaped).

    A lone surrogate (a server may send `\\ud800`) cannot be UTF-8: it is written as the text `\\ud800`.
    """
    from livecli.audio.encode import write_to_stdout

    write_to_stdout(stdout, text.rstrip("\n").encode("utf-8", "backslashreplace") + b"\n")
