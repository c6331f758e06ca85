"""`livecli models`: options only; the work is in livecli.commands.models. Imports only typer at module level."""

from __future__ import annotations

import typer

from livecli.cli.boundary import guarded

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the `models` command to the app."""
    app.command("models", short_help="List the Live models livecli knows and what each accepts.")(models)


def models(
    json_output: bool = typer.Option(
        False, "--json", help='Print {"models": [...]} as one JSON document on stdout.'
    ),
) -> None:
    """List the Live models livecli knows: backends, modalities, thinking, built-in tools, clientContent, proactive
    audio and voices (the table the preflight checks a setup against)."""

    def action() -> int:
        from livecli.commands.models import run_models
        from livecli.env import Env

        return run_models(Env.from_process(), json_output=json_output)

    guarded(action)
