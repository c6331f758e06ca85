"""`livecli token` and `livecli doctor`: options only; the work is in livecli.auth.token and commands.doctor.

The options they share with `send` (the connect options, --connect-timeout, --api-key) are livecli.cli.options'
aliases; doctor takes send's groups (livecli.cli.option_groups), named after ConnectOptions' fields, which
`connect_options(ctx.params)` fills by name.
(No `from __future__ import annotations`, as in livecli.cli.send: Typer reads the aliases as objects.)
"""

import sys
from typing import Annotated, Any

import typer

from livecli.cli import option_groups as g
from livecli.cli import options as o
from livecli.cli.boundary import exit_status, guarded
from livecli.cli.option_groups import Param

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the `token` and `doctor` commands to the app."""
    app.command("token", short_help="Mint an ephemeral token for clients that must not hold the API key.")(token)
    app.command("doctor", short_help="Check backend, credentials, audio libraries and an endpoint's setup.")(
        doctor
    )


def token(
    api_key: o.ApiKey = None,
    endpoint: str | None = typer.Option(
        None,
        "--endpoint",
        metavar="URL",
        help="https:// base URL (or the ws:// URL serve prints); without a path /v1alpha/auth_tokens is added.",
    ),
    uses: int = typer.Option(1, "--uses", metavar="N", help="Sessions the token may start (0 = unlimited)."),
    expires: str = typer.Option(
        "30m", "--expires", metavar="DURATION", help="Token lifetime, e.g. 90s, 30m, 2h (< 20h)."
    ),
    new_session_expires: str = typer.Option(
        "1m",
        "--new-session-expires",
        metavar="DURATION",
        help="How long new sessions may be started with it (< 20h).",
    ),
    lock_model: str | None = typer.Option(
        None, "--lock-model", metavar="MODEL", help="Lock the session to this model."
    ),
    lock_config: str | None = typer.Option(
        None,
        "--lock-config",
        metavar="JSON",
        help='Lock setup fields, as JSON, e.g. \'{"generationConfig":{"temperature":0.7}}\'.',
    ),
    lock_fields: str | None = typer.Option(
        None,
        "--lock-fields",
        metavar="FIELDS",
        help="Also lock these fields (comma-separated, e.g. temperature,systemInstruction).",
    ),
    lock_whole_setup: bool = typer.Option(
        False, "--lock-whole-setup", help="Use the locked setup as is and ignore the client's setup."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the whole response as JSON."),
    timeout: float = typer.Option(30.0, "--timeout", metavar="S", help="Seconds to wait for the server."),
) -> None:
    """Mint an ephemeral token (auth_tokens/...) for clients that must not hold the API key; prints its name."""

    def action() -> int:
        from livecli.auth.token import run_token
        from livecli.env import Env

        return run_token(
            Env.from_process(),
            api_key=api_key,
            endpoint=endpoint,
            uses=uses,
            expires=expires,
            new_session_expires=new_session_expires,
            lock_model=lock_model,
            lock_config=lock_config,
            lock_fields=lock_fields,
            lock_whole_setup=lock_whole_setup,
            json_output=json_output,
            timeout_s=timeout,
        )

    guarded(action)


DoctorJson = Annotated[bool, typer.Option("--json", help="Print the checks as JSON on stdout.")]
# Before doctor shared send's --connect-timeout it had its own --timeout; scripts that pass it keep working.
DeprecatedTimeout = Annotated[
    float | None,
    typer.Option("--timeout", metavar="S", help="Deprecated: the same as --connect-timeout."),
]


@g.declare(
    keyword=(
        *g.CONNECT,
        Param("json_output", DoctorJson, False),
        *g.only(g.LIMITS, "connect_timeout"),
        Param("timeout", DeprecatedTimeout, None),
    )
)
def doctor(ctx: typer.Context, **params: Any) -> None:
    """Check backend, credentials, audio libraries and (with --endpoint or --local) the endpoint's setup."""

    timeout, connect_timeout = params["timeout"], params["connect_timeout"]
    if timeout is not None:
        if timeout <= 0:
            raise typer.BadParameter("must be more than 0", param_hint="--timeout")
        sys.stderr.write("livecli: warning: --timeout is deprecated: use --connect-timeout\n")
        connect_timeout = timeout
    connect, _ = o.connect_options(ctx.params)

    def action() -> int:
        from livecli.commands.doctor import run_doctor
        from livecli.env import Env

        env = Env.from_process()
        return run_doctor(env, connect, exit_status, json_output=params["json_output"], timeout_s=connect_timeout)

    guarded(action)
