"""`livecli serve`: options only; the server is imported when the command runs."""

from __future__ import annotations

import typer

from livecli.cli.boundary import guarded

__all__ = ["register"]

_HELP = (
    "Run the local Live-compatible server until Ctrl-C. The first stdout line is its base URL (paste it into "
    "--endpoint); the log goes to stderr.\n\n"
    "Scenarios, for the whole server with --scenario or per connection with ?scenario=NAME on the URL: "
    "echo (default), close-1007, close-1008, close-1011, quota, drop, stall, generation-complete-only, goaway, "
    "interrupt, tool-call, http-401, http-429, malformed-frame, stream-end-ignored, silent; or a TOML/JSON "
    "scenario file."
)


def complete_scenario(incomplete: str) -> list[str]:
    """Built-in scenario names, then the .toml/.json files the typed path leads to."""
    import os

    from livecli.server.scenarios import BUILTIN

    names = sorted(name for name in BUILTIN if name.startswith(incomplete))
    folder, prefix = os.path.split(incomplete)
    try:
        entries = sorted(os.scandir(folder or "."), key=lambda e: e.name)
    except OSError:
        return names
    for entry in entries:
        if not entry.name.startswith(prefix) or (entry.name.startswith(".") and not prefix.startswith(".")):
            continue
        path = os.path.join(folder, entry.name)
        if entry.is_dir():
            names.append(path + os.sep)
        elif entry.name.lower().endswith((".toml", ".json")):
            names.append(path)
    return names


def register(app: typer.Typer) -> None:
    """Add the `serve` command to the app."""

    @app.command("serve", help=_HELP)
    def serve(
        host: str = typer.Option("127.0.0.1", "--host", metavar="ADDRESS", help="Address to listen on."),
        port: int = typer.Option(8765, "--port", metavar="PORT", help="Port to listen on (0 picks a free port)."),
        tls_cert: str | None = typer.Option(
            None, "--tls-cert", metavar="FILE", help="PEM certificate: serve wss."
        ),
        tls_key: str | None = typer.Option(
            None, "--tls-key", metavar="FILE", help="PEM private key for --tls-cert."
        ),
        tls_self_signed: str | None = typer.Option(
            None,
            "--tls-self-signed",
            metavar="DIR",
            help="Write a fresh self-signed cert.pem/key.pem to DIR; serve wss.",
        ),
        scenario: str = typer.Option(
            "echo",
            "--scenario",
            metavar="NAME|FILE",
            autocompletion=complete_scenario,
            help="Built-in scenario or a TOML/JSON scenario file.",
        ),
        reply_speed: float = typer.Option(
            1.0,
            "--reply-speed",
            metavar="FACTOR",
            min=0.0,
            help="Reply pace: 1 = real time, 0 = as fast as possible.",
        ),
        record: str | None = typer.Option(
            None,
            "--record",
            metavar="DIR",
            help="Record every connection into DIR (frames.jsonl, input.wav, reply.wav: docs/recording.md).",
        ),
        replay: str | None = typer.Option(
            None,
            "--replay",
            metavar="DIR",
            help="Answer every client with this recording's server side, turns by order (docs/recording.md).",
        ),
        require_key: str | None = typer.Option(
            None, "--require-key", metavar="KEY", help="Require this API key (x-goog-api-key or ?key=)."
        ),
        require_bearer: str | None = typer.Option(
            None, "--require-bearer", metavar="TOKEN", help="Require this bearer token (Authorization: Bearer)."
        ),
        require_ephemeral: str | None = typer.Option(
            None,
            "--require-ephemeral",
            metavar="TOKEN",
            help="Require this ephemeral token on the Constrained path (?access_token= or Authorization: Token).",
        ),
        max_connection_s: float | None = typer.Option(
            None, "--max-connection-s", metavar="S", help="goAway, then close 1008 when a connection is this old."
        ),
        max_session_s: float | None = typer.Option(
            None,
            "--max-session-s",
            metavar="S",
            help="goAway, then close 1008 when a session (across resumptions) is this old.",
        ),
        max_connection_audio_s: float | None = typer.Option(
            None,
            "--max-connection-audio-s",
            metavar="S",
            help="goAway, then close 1008 once a connection has received S seconds of audio (no clock).",
        ),
        workers: int = typer.Option(
            1,
            "--workers",
            metavar="N",
            min=1,
            max=64,
            help="Serve from N processes on one port (handles and tokens are shared).",
        ),
        loop: str = typer.Option(
            "auto",
            "--loop",
            metavar="auto|asyncio|uvloop",
            help="Event loop: uvloop when installed (auto), or asyncio's own.",
        ),
        verbose: bool = typer.Option(False, "-v", "--verbose", help="Log more."),
        quiet: bool = typer.Option(False, "-q", "--quiet", help="Log only warnings and errors."),
    ) -> None:

        def action() -> int:
            import os

            from livecli.errors import UsageError
            from livecli.server.config import ServerConfig
            from livecli.server.main import LOOPS, serve_forever

            if loop not in LOOPS:
                raise UsageError(f"--loop must be one of {', '.join(LOOPS)}, not {loop!r}")
            if record is not None and replay is not None and os.path.realpath(record) == os.path.realpath(replay):
                raise UsageError("--record would replace the recording --replay serves: give another directory")
            config = ServerConfig(
                host=host,
                port=port,
                tls_cert=tls_cert,
                tls_key=tls_key,
                tls_self_signed_dir=tls_self_signed,
                scenario=scenario,
                reply_speed=reply_speed,
                record=record,
                replay=replay,
                require_key=require_key,
                require_bearer=require_bearer,
                require_ephemeral=require_ephemeral,
                max_connection_s=max_connection_s,
                max_session_s=max_session_s,
                max_connection_audio_s=max_connection_audio_s,
            )
            verbosity = 1 if verbose else -1 if quiet else 0
            if workers > 1:
                from livecli.server.workers import serve_workers

                return serve_workers(config, workers, verbosity, loop=loop)
            return serve_forever(config, verbosity=verbosity, loop=loop)

        guarded(action)
