"""`livecli token` and `livecli doctor`: options only; the work is in livecli.auth.token and commands.doctor."""

from __future__ import annotations

from typing import Any

import typer

from livecli.errors import UsageError

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the `token` and `doctor` commands to the app."""
    app.command("token")(token)
    app.command("doctor")(doctor)


def token(
    api_key: str | None = typer.Option(
        None, "--api-key", metavar="KEY", help="API key [env GEMINI_API_KEY, GOOGLE_API_KEY]."
    ),
    endpoint: str | None = typer.Option(
        None, "--endpoint", metavar="URL", help="https:// base URL; without a path /v1alpha/auth_tokens is added."
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
    from livecli.cli.app import guarded

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


def doctor(
    model: str | None = typer.Option(None, "--model", metavar="MODEL", help="Live model id [env LIVECLI_MODEL]."),
    api_key: str | None = typer.Option(
        None, "--api-key", metavar="KEY", help="API key [env GEMINI_API_KEY, GOOGLE_API_KEY]."
    ),
    token_: str | None = typer.Option(
        None, "--token", metavar="TOKEN", help="Ephemeral token [env LIVECLI_EPHEMERAL_TOKEN]."
    ),
    vertex: bool | None = typer.Option(
        None, "--vertex/--no-vertex", help="Vertex AI [env GOOGLE_GENAI_USE_VERTEXAI]."
    ),
    project: str | None = typer.Option(
        None, "--project", metavar="PROJECT", help="Vertex AI project [env GOOGLE_CLOUD_PROJECT]."
    ),
    location: str | None = typer.Option(
        None, "--location", metavar="LOCATION", help="Vertex AI location [env GOOGLE_CLOUD_LOCATION]."
    ),
    api_version: str | None = typer.Option(
        None, "--api-version", metavar="VERSION", help="API version (v1beta, v1alpha, v1, v1beta1)."
    ),
    endpoint: str | None = typer.Option(
        None, "--endpoint", metavar="URL", help="ws:// or wss:// URL to test the setup against."
    ),
    local: bool = typer.Option(False, "--local", help="Test against livecli's own server, started in-process."),
    key_in_query: bool = typer.Option(False, "--key-in-query", help="Send the API key as ?key=."),
    token_in_header: bool = typer.Option(
        False, "--token-in-header", help="Send the token as Authorization: Token."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the checks as JSON on stdout."),
    timeout: float = typer.Option(
        10.0, "--timeout", metavar="S", help="Seconds for the connect + setupComplete check."
    ),
) -> None:
    """Check backend, credentials, audio libraries and (with --endpoint or --local) the endpoint's setup."""
    from livecli.cli.app import guarded

    options: dict[str, Any] = {
        "model": model,
        "api_key": api_key,
        "token": token_,
        "vertex": vertex,
        "project": project,
        "location": location,
        "api_version": api_version,
        "endpoint": endpoint,
        "local": local,
        "key_in_query": key_in_query,
        "token_in_header": token_in_header,
    }
    if timeout <= 0:
        raise typer.BadParameter("must be more than 0", param_hint="--timeout")

    def action() -> int:
        from livecli.auth.target import ConnectOptions
        from livecli.cli.exit_status import exit_status_for
        from livecli.commands.doctor import run_doctor
        from livecli.env import Env

        try:
            opts = ConnectOptions(**options)
        except TypeError as exc:  # pragma: no cover - the option names above are ConnectOptions' fields
            raise UsageError(str(exc)) from None
        return run_doctor(Env.from_process(), opts, exit_status_for, json_output=json_output, timeout_s=timeout)

    guarded(action)
