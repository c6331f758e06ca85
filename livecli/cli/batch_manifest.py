"""The batch manifest's schema is the options of `send`/`text`: a case's keys converted by those options.

Split from livecli.cli.batch so that `livecli --help` does not compile it: it runs only when a suite is read.
A key is an option's long name without its dashes, `-` as `_` (`--x/--no-x`: `x`); its value goes through the
option's own conversion and checks, as if given as the flag; then the RunRequest is built by the function
`send` builds its own with, and the preflight runs. Anything wrong is a UsageError naming the case and key.
"""

import inspect
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import typer
from typer import _click as click  # Typer's own click: its parameters convert the manifest's values

from livecli.cli import send as send_cli
from livecli.errors import UsageError

if TYPE_CHECKING:
    from livecli.commands.batch.case import Case
    from livecli.commands.batch.expectations import Expectations, ToolCallExpectation
    from livecli.commands.batch.manifest import RawCase
    from livecli.commands.request import RunRequest
    from livecli.env import Env

__all__ = ["list_cases", "read_cases"]


_SECRET_KEYS = frozenset({"api_key", "token"})

# The expectations no `send` flag has (declared in livecli.cli.batch as flags too).
EXPECTATIONS = (
    "expect_input_transcript",
    "expect_max_reply_seconds",
    "max_ttfb_ms",
    "max_ttfa_ms",
    "expect_tool_call",
    "expect_exit",
)


def _keys(command: click.Command, suite_names: frozenset[str]) -> dict[str, click.core.Parameter]:
    """Manifest key → the option it is: the long name without dashes, `-` as `_` (`--x/--no-x`: `x`)."""
    keys = {}
    for param in command.params:
        if param.name in suite_names and param.param_type_name == "option":
            long = next(opt for opt in param.opts if opt.startswith("--"))
            keys[long[2:].replace("-", "_")] = param
    return keys


def read_cases(
    ctx: typer.Context,
    sources: list[str],
    suite: dict[str, Any],
    suite_names: frozenset[str],
    shard: str | None,
    env: "Env",
) -> list["Case"]:
    """Every case of the shard, read, converted and preflighted; UsageError naming the case and key."""
    from livecli.commands.batch.case import preflight_case
    from livecli.commands.batch.manifest import case_error, parse_shard, read_manifests, shard_of

    keys = _keys(ctx.command, suite_names)
    path_keys = {key for key, param in keys.items() if "FILE" in (param.metavar or "")}
    selected = parse_shard(shard) if shard is not None else None
    cases = []
    for raw in shard_of(read_manifests(sources, path_keys), selected):
        try:
            case = _case(ctx, raw, keys, suite, env)
            preflight_case(case, env)
        except UsageError as exc:
            message = str(exc)
            if message.startswith("case "):
                raise
            raise case_error(raw.id, raw.where, None, message) from None
        cases.append(case)
    return cases


def _case(
    ctx: typer.Context, raw: "RawCase", keys: dict[str, click.core.Parameter], suite: dict[str, Any], env: "Env"
) -> "Case":
    from livecli.commands.batch.case import Case
    from livecli.commands.batch.manifest import case_error

    command = send_cli.text if raw.kind == "text" else send_cli.send
    names = set(inspect.signature(command).parameters)
    params: dict[str, Any] = {n: p.default for n, p in inspect.signature(command).parameters.items() if n != "ctx"}
    params.update({name: value for name, value in suite.items() if name in names})
    expectations = {name: suite.get(name) for name in EXPECTATIONS}
    for key, value in raw.keys.items():
        param = keys.get(key)
        if param is None or param.name is None:
            raise case_error(
                raw.id, raw.where, key, "unknown key (keys are the options of send/text: docs/batch.md)"
            )
        if param.name not in names and param.name not in EXPECTATIONS:
            other = "send" if raw.kind == "text" else "text"
            raise case_error(
                raw.id, raw.where, key, f"an option of `{other}`, and this case is a `{raw.kind}` case"
            )
        converted = _convert(ctx, param, value, raw, key)
        (expectations if param.name in EXPECTATIONS else params)[param.name] = converted
    params.update(output=None, json=False, verbose=0, quiet=0, dry_run=False, traceback=False)
    if params.get("record"):  # `--record DIR` records each case in a directory of its own: DIR/<id>
        params["record"] = os.path.join(params["record"], raw.id)
    first = raw.turns[0]
    if first.kind == "text":
        params["prompt"] = first.value
    elif first.kind == "video":
        params.update(inputs=[], video=first.value, video_prompt=first.prompt)
    else:
        params["inputs"] = [turn.value for turn in raw.turns]
    request = send_cli.build_request(params, env.stdin)
    return Case(raw.id, raw.position, raw.where, request, _expectations(request, expectations))


def _convert(ctx: typer.Context, param: click.core.Parameter, value: Any, raw: "RawCase", key: str) -> Any:
    """A manifest value through the option's own conversion and checks (as if it were given as the flag)."""
    from livecli.commands.batch.manifest import case_error

    shown = "***" if key in _SECRET_KEYS else repr(value)  # a credential is never shown, even a malformed one
    flag = bool(getattr(param, "is_flag", False))
    many = param.multiple or param.nargs != 1
    items = value if many and isinstance(value, list) else [value]
    for item in items:
        if key == "expect_tool_call" and isinstance(item, dict):
            continue
        if flag and not isinstance(item, bool):
            raise case_error(raw.id, raw.where, key, f"{shown}: give true or false")
        if not flag and (isinstance(item, bool) or not isinstance(item, str | int | float)):
            raise case_error(raw.id, raw.where, key, f"{shown}: not a value this option takes")
    if key == "expect_tool_call":  # objects {name, args} as they are; NAME[=JSON] strings through the flag's form
        return [item if isinstance(item, dict) else str(item) for item in items]
    try:
        return param.process_value(ctx, items if many else value)
    except click.exceptions.ClickException as exc:
        raise case_error(raw.id, raw.where, key, f"{shown}: {exc.format_message()}") from None


def _expectations(request: "RunRequest", given: Mapping[str, Any]) -> "Expectations":
    from livecli.commands.batch.expectations import Expectations, compile_regex

    transcript, heard = request.expect_transcript, given["expect_input_transcript"]
    return Expectations(
        expect_transcript=compile_regex(transcript, "expect_transcript") if transcript is not None else None,
        expect_input_transcript=compile_regex(heard, "expect_input_transcript") if heard is not None else None,
        min_reply_seconds=request.min_reply_s,
        expect_max_reply_seconds=given["expect_max_reply_seconds"],
        max_ttfb_ms=given["max_ttfb_ms"],
        max_ttfa_ms=given["max_ttfa_ms"],
        fail_on_silence=request.fail_on_silence,
        expect_tool_call=tuple(_tool_call(item) for item in given["expect_tool_call"] or ()),
        expect_exit=given["expect_exit"],
    )


def _tool_call(item: Any) -> "ToolCallExpectation":
    """`NAME`, `NAME=JSON` or {"name": NAME, "args": {...}}: a call the model must make."""
    import json

    from livecli.commands.batch.expectations import ToolCallExpectation

    if isinstance(item, str):
        name, _, args_text = item.partition("=")
        try:
            args = json.loads(args_text) if args_text else {}
        except json.JSONDecodeError as exc:
            raise UsageError(f"key 'expect_tool_call': {item!r}: the arguments are not JSON: {exc.msg}") from None
        item = {"name": name, "args": args}
    name, args = item.get("name"), item.get("args", {})
    if not isinstance(name, str) or not name or not isinstance(args, dict) or set(item) - {"name", "args"}:
        raise UsageError(f"key 'expect_tool_call': {item!r}: give a name and an args object")
    return ToolCallExpectation(name, args)


def list_cases(cases: Sequence["Case"], env: "Env") -> int:
    """--dry-run: one line per case that would run (position, id, command, inputs), on stdout."""
    from livecli.commands.batch.case import case_inputs
    from livecli.env import write_all
    from livecli.protocol.redact import printable

    for case in cases:
        kind = "text" if case.request.prompt is not None else "send"
        line = f"{case.position}\t{case.id}\t{kind}\t{len(case_inputs(case.request))}"
        write_all(env.stdout, (printable(line.replace("\t", " ")) + "\n").encode("utf-8"))
    return 0
