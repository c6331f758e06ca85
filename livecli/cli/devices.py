"""`livecli devices`: the audio devices PortAudio sees, for --input-device and --output-device (the talk extra).

Options only; imports only typer at module level (`livecli --help` imports no sounddevice).
"""

from typing import Annotated

import typer

from livecli.cli import options as o
from livecli.cli.boundary import guarded

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the `devices` command to the app."""
    app.command("devices", short_help="List the audio input and output devices (for talk and --play).")(devices)


Json = Annotated[bool, typer.Option("--json", help="One JSON object per device on stdout.")]


def devices(json: Json = False, traceback: o.Traceback = False) -> None:
    """List the audio devices: index, name, channels in and out, default rate; * marks the defaults."""

    def action() -> int:
        import json as json_module

        from livecli.audio.sound_device import list_devices
        from livecli.env import Env, write_all
        from livecli.protocol.redact import printable

        env = Env.from_process()
        found = list_devices()
        if json:
            lines = [json_module.dumps(device.fields()) + "\n" for device in found]
        else:
            lines = [
                f"{d.index:>3}{'*' if d.default_input or d.default_output else ' '} {printable(d.name)}  "
                f"in {d.max_input_channels}, out {d.max_output_channels}, {d.default_rate} Hz "
                f"({printable(d.host_api)})\n"
                for d in found
            ]
            if not found:
                lines = ["no audio devices found\n"]
        write_all(env.stdout, "".join(lines).encode("utf-8"))
        return 0

    guarded(action, traceback=traceback)
