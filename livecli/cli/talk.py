"""`livecli talk`: options only; the work is in livecli.commands.talk.

Every session option of send/text is taken through the same groups (livecli.cli.option_groups) and fills the
same RunRequest by name, as cli/send does; the talk's
own options (devices, push-to-talk, headphones, the jitter buffer) fill the TalkRequest around it. Imports only
typer, the standard library and livecli.cli/errors at module level: `livecli --help` imports no sounddevice.

Exit status: the user ending the conversation (Ctrl-C, the end of the input) is 0; SIGTERM stays 143.
"""

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any

import typer

from livecli.cli import option_groups as g
from livecli.cli.boundary import exit_status, guarded
from livecli.cli.exit_status import ExitStatus
from livecli.cli.option_groups import Param
from livecli.cli.send import ChunkMs, build_request
from livecli.errors import UsageError

if TYPE_CHECKING:
    from livecli.commands.session_setup import SessionOptions
    from livecli.commands.talk.request import TalkRequest

__all__ = ["register", "talk_exit_status"]


def register(app: typer.Typer) -> None:
    """Add the `talk` command to the app."""
    app.command("talk", short_help="Talk with a Live model through the microphone and the speaker.")(talk)


PushToTalk = Annotated[
    bool,
    typer.Option(
        "--push-to-talk",
        help="Space starts and ends each turn (activityStart/activityEnd) instead of the server's voice "
        "detection.",
    ),
]
Headphones = Annotated[
    bool,
    typer.Option(
        "--headphones",
        help="Full duplex: the microphone stays open while the model speaks, so speaking interrupts it. Without "
        "it the microphone is muted while the model speaks; Enter or space stops playback and unmutes it.",
    ),
]
InputDevice = Annotated[
    str | None,
    typer.Option(
        "--input-device", metavar="DEVICE", help="Microphone: index or name substring (livecli devices)."
    ),
]
OutputDevice = Annotated[
    str | None,
    typer.Option("--output-device", metavar="DEVICE", help="Speaker: index or name substring (livecli devices)."),
]
BufferMs = Annotated[
    int,
    typer.Option(
        "--buffer-ms",
        metavar="MS",
        min=0,
        max=2000,
        help="Reply audio held before playback starts (jitter buffer).",
    ),
]


@g.declare(
    Param("push_to_talk", PushToTalk, False),
    Param("headphones", Headphones, False),
    Param("input_device", InputDevice, None),
    Param("output_device", OutputDevice, None),
    Param("buffer_ms", BufferMs, 60),
    Param("chunk_ms", ChunkMs, 40),
    keyword=(
        *g.CONNECT,
        *g.SETUP,
        *g.LIMITS,
        *g.only(g.CHECKS, "max_reply_s"),
        *g.SESSION,
        *g.IMAGES,
        *g.TOOLS,
        *g.without(g.DISPLAY, "dry_run"),
    ),
)
def talk(ctx: typer.Context, **params: Any) -> None:
    """Talk with a Live model through the microphone and the speaker; Ctrl-C ends the conversation."""

    def action() -> int:
        from livecli.commands.talk.run import run
        from livecli.env import Env

        return run(talk_request(ctx.params), Env.from_process(), talk_exit_status)

    guarded(action, traceback=params["traceback"])


def talk_exit_status(exc: BaseException) -> int:
    """The exit table's, except that Ctrl-C is the user ending the conversation (0); SIGTERM stays 143."""
    status = exit_status(exc)
    return ExitStatus.OK if status == ExitStatus.INTERRUPTED else status


def _refuse_vad_tuning(session: "SessionOptions") -> None:
    """--push-to-talk switches the server's voice activity detection off: tuning it is a usage error, in talk's
    own words (send's names --turn-end)."""
    flags = {
        "--vad-start-sensitivity": session.vad_start_sensitivity,
        "--vad-end-sensitivity": session.vad_end_sensitivity,
        "--vad-prefix-ms": session.vad_prefix_ms,
        "--vad-silence-ms": session.vad_silence_ms,
    }
    given = [flag for flag, value in flags.items() if value is not None]
    if given:
        raise UsageError(
            f"{', '.join(given)} tune the server's voice activity detection, which --push-to-talk switches off"
        )


_TALK_FIELDS = ("push_to_talk", "headphones", "input_device", "output_device", "buffer_ms")


def talk_request(params: Mapping[str, Any]) -> "TalkRequest":
    """The TalkRequest the parsed options ask for: the talk's own options around the RunRequest that send's
    builder makes of the rest, with the turn end push-to-talk implies."""
    from livecli.commands.talk.request import TalkRequest

    own = {name: params[name] for name in _TALK_FIELDS}
    values = {name: value for name, value in params.items() if name not in _TALK_FIELDS}
    values["turn_end"] = "activity" if own["push_to_talk"] else "vad"
    run = build_request(values)
    if own["push_to_talk"]:
        _refuse_vad_tuning(run.session)
    return TalkRequest(run=run, **own)
