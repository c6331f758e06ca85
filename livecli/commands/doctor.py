"""`livecli doctor`: which backend and credentials would be used, whether they resolve, audio libraries, and
(with --endpoint or --local) whether the endpoint accepts the setup. Each check is ok/fail/skip with a hint.

The endpoint check connects exactly as `send` does (Conversation.open over open_link: the same TLS trust,
proxy policy, timeouts and error mapping) and sends the setup `send` would send, so what doctor says is what
`send` will meet; a failed check carries the exit status `send` would exit with."""

from __future__ import annotations

import asyncio
import io
import json
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass

from livecli import __version__
from livecli.auth.target import ConnectOptions, describe_credentials, env_secrets, resolve_target
from livecli.env import Env
from livecli.errors import ConnectError, CredentialsError, LivecliError, QuotaError, ServerClosed, UsageError
from livecli.protocol.client_messages import SetupConfig
from livecli.protocol.endpoints import Target
from livecli.protocol.redact import printable, redact, redact_url
from livecli.protocol.report import Reporter

__all__ = ["Check", "check_endpoint", "doctor_setup", "run_doctor"]

# The CLI's exit-status table, passed in: a check's status is the one `livecli send` would exit with.
StatusOf = Callable[[BaseException], int]

# One hint for every exit status a check can fail with; a failed check always says what to try next.
_HINTS: dict[type[LivecliError], str] = {
    UsageError: "fix the option or environment variable named in the detail",
    CredentialsError: "set GEMINI_API_KEY, pass --api-key/--token, or for Vertex AI run "
    "`gcloud auth application-default login` (livecli --help lists the environment variables)",
    ConnectError: "check the URL, network and proxy; a custom CA goes in SSL_CERT_FILE "
    "(REQUESTS_CA_BUNDLE for google-auth's token endpoint)",
    QuotaError: "wait, or check the project's quota",
}
# The endpoint answered: the credentials were read fine, so the hint is about what the server disliked.
_ENDPOINT_HINTS: dict[type[LivecliError], str] = {
    CredentialsError: "the endpoint refused the credentials or the setup: check the key, token or ADC "
    "account, the project, and that the model exists on this backend",
}
_FALLBACK_HINT = "run `livecli doctor --json` and see the detail"


@dataclass
class Check:
    """One line of the report."""

    name: str
    status: str  # "ok" | "fail" | "skip"
    detail: str
    hint: str = ""
    exit_status: int = 0


def _hint(name: str, exc: LivecliError) -> str:
    if isinstance(exc, ServerClosed) and exc.quota:
        return _HINTS[QuotaError]
    if isinstance(exc, ServerClosed) and (exc.code == 1007 or (exc.code == 1008 and not exc.after_setup)):
        return _ENDPOINT_HINTS[CredentialsError] if name == "endpoint" else _HINTS[CredentialsError]
    tables = (_ENDPOINT_HINTS, _HINTS) if name == "endpoint" else (_HINTS,)
    for table in tables:
        for cls, hint in table.items():
            if isinstance(exc, cls):
                return hint
    return _FALLBACK_HINT


def _failed(name: str, exc: LivecliError, secrets: tuple[str, ...], status_of: StatusOf) -> Check:
    return Check(name, "fail", redact(str(exc), secrets), _hint(name, exc), status_of(exc))


def doctor_setup(target: Target) -> SetupConfig:
    """The setup `livecli send` would send to this model with its default options (in a modality it has)."""
    from livecli.commands.request import RunRequest, build_setup
    from livecli.protocol.models import lookup

    info = lookup(target.model)
    modality = "audio" if info is None or "AUDIO" in info.modalities else sorted(info.modalities)[0].lower()
    return build_setup(RunRequest(connect=ConnectOptions(), modality=modality), target.model)


async def check_endpoint(target: Target, *, timeout_s: float, environ: Mapping[str, str]) -> str:
    """Connect and complete the setup the way `send` does (the same transport, TLS, proxy policy and error
    mapping: open_link inside Conversation.open), then close; returns a summary or raises that LivecliError."""
    from livecli.client.conversation import Conversation

    conversation = Conversation(doctor_setup(target), Reporter(), time.monotonic)
    try:
        await conversation.open(target, timeout=timeout_s, environ=environ)
    finally:
        await conversation.close()
    return "setupComplete received"


def _audio_checks(status_of: StatusOf) -> Iterator[Check]:
    try:
        import numpy

        yield Check("numpy", "ok", numpy.__version__)
    except ImportError as exc:
        yield Check("numpy", "fail", str(exc), "pip install numpy", status_of(exc))
    try:
        import soundfile

        yield Check("soundfile", "ok", f"{soundfile.__version__} (libsndfile {soundfile.__libsndfile_version__})")
    except (ImportError, OSError) as exc:
        hint = "pip install soundfile (it bundles libsndfile; on Linux without wheels: apt install libsndfile1)"
        yield Check("soundfile", "fail", str(exc), hint, status_of(exc))


@contextmanager
def _local_server(opts: ConnectOptions) -> Iterator[str | None]:
    """With --local, livecli's own server in a thread (unpaced) and its URL; otherwise None."""
    if not opts.local:
        yield None
        return
    from livecli.server import ServerConfig, ServerThread

    with ServerThread(ServerConfig(host="127.0.0.1", port=0, reply_speed=0)) as server:
        yield server.url


def collect_checks(env: Env, opts: ConnectOptions, timeout_s: float, status_of: StatusOf) -> list[Check]:
    """Run every check in order; later checks that depend on a failed one are skipped."""
    checks = [Check("livecli", "ok", f"{__version__} on Python {sys.version.split()[0]}")]
    with _local_server(opts) as local_url:
        try:
            target: Target | None = resolve_target(opts, env.environ, local_url=local_url)
        except LivecliError as exc:
            checks.append(_failed("backend", exc, env_secrets(opts, env.environ), status_of))
            checks.append(Check("credentials", "skip", "backend did not resolve"))
            target = None
        if target is not None:
            checks.append(Check("backend", "ok", f"{target.backend}: {redact_url(target.url, target.secrets)}"))
            checks.append(Check("model", "ok", target.model))
            checks.append(Check("credentials", "ok", describe_credentials(target)))
        checks.extend(_audio_checks(status_of))
        if target is None:
            checks.append(Check("endpoint", "skip", "backend did not resolve"))
        elif not (opts.endpoint or local_url):
            checks.append(Check("endpoint", "skip", "pass --endpoint URL or --local to test a setup"))
        else:
            try:
                detail = asyncio.run(check_endpoint(target, timeout_s=timeout_s, environ=env.environ))
                checks.append(Check("endpoint", "ok", detail))
            except LivecliError as exc:
                checks.append(_failed("endpoint", exc, target.secrets, status_of))
    return checks


def run_doctor(env: Env, opts: ConnectOptions, status_of: StatusOf, *, json_output: bool, timeout_s: float) -> int:
    """The `livecli doctor` command; exit status is the first failed check's."""
    checks = collect_checks(env, opts, timeout_s, status_of)
    status = next((c.exit_status for c in checks if c.status == "fail"), 0)
    if json_output:
        report = {"checks": [asdict(c) for c in checks], "exit_status": status}
        env.stdout.write(json.dumps(report).encode() + b"\n")
        env.stdout.flush()
    else:
        _print_table(env, checks)
    return status


def _print_table(env: Env, checks: list[Check]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title="livecli doctor", show_lines=False)
    for column in ("check", "status", "detail", "hint"):
        table.add_column(column, overflow="fold")
    style = {"ok": "green", "fail": "bold red", "skip": "dim"}
    for check in checks:
        # Text() never interprets markup; printable() escapes control characters a server might have sent.
        table.add_row(
            check.name,
            Text(check.status, style=style[check.status]),
            Text(printable(check.detail)),
            Text(printable(check.hint)),
        )
    # The report is the command's output, so it goes to stdout (`livecli doctor | grep fail` works); a pipe
    # gets a fixed width and no colour codes.
    text = io.StringIO()
    width = shutil.get_terminal_size((120, 24)).columns if env.stdout_isatty else 120
    Console(file=text, highlight=False, markup=False, width=width, force_terminal=env.stdout_isatty).print(table)
    env.stdout.write(text.getvalue().encode())
    env.stdout.flush()
