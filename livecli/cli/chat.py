"""`livecli chat`: options only; the work is in livecli.commands.chat.

Every session option of `send`/`text` is taken through the same groups (livecli.cli.option_groups), each
parameter named after the RunRequest field it fills, so the request is built by `send`'s own builder;
`--save-dir` is chat's. Imports only typer, the standard library and livecli.cli at module level.
"""

from typing import Any

import typer

from livecli.cli import chat_options as c
from livecli.cli import option_groups as g
from livecli.cli import options as o
from livecli.cli import send as s
from livecli.cli import talk as tk
from livecli.cli.boundary import guarded
from livecli.cli.option_groups import Param
from livecli.cli.talk import talk_exit_status  # the user ending the conversation is 0, for talk and chat alike

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the `chat` command to the app."""
    app.command("chat", short_help="A conversation of many turns in one session, typed or piped.")(chat)


@g.declare(
    Param("turn_end", c.ChatTurnEnd, "silence"),
    Param("silence_ms", s.SilenceMs, 1500),
    Param("settle_ms", s.SettleMs, 1000),
    Param("chunk_ms", s.ChunkMs, 40),
    Param("client_content", s.ClientContent, False),
    keyword=(
        Param("save_dir", c.SaveDir, None),
        *g.PLAY,
        Param("output_device", tk.OutputDevice, None),
        Param("buffer_ms", tk.BufferMs, 60),
        *g.CONNECT,
        *g.SETUP,
        *g.PACING,
        *g.reworded(g.LIMITS, max_reconnects=o.TextMaxReconnects),
        *g.only(g.CHECKS, "max_reply_s"),
        *g.SESSION,
        *g.reworded(g.IMAGES, images=c.ChatImages),
        *g.TOOLS,
        *g.reworded(g.without(g.DISPLAY, "dry_run"), json=c.ChatJson),
    ),
    context=False,
)
def chat(**params: Any) -> None:
    """Hold a conversation: each line typed (or piped) is a turn, each reply's transcript printed as it arrives.

    On a terminal: line editing and history (kept in $XDG_STATE_HOME/livecli/chat_history), and the commands
    /audio FILE, /image FILE, /system TEXT, /save FILE, /help, /quit. From a pipe, one transcript line per
    reply turn: printf 'hello\\nwhat did I just say?\\n' | livecli chat --local. The end of input, /quit and
    Ctrl-C end the conversation with status 0.
    """
    _run(params)


def _run(params: dict[str, Any]) -> None:
    def action() -> int:
        from livecli.commands.chat import ChatRequest, run
        from livecli.env import Env

        env = Env.from_process()
        own = {name: params.pop(name) for name in ("save_dir", "output_device", "buffer_ms")}
        request = ChatRequest(run=s.build_request(params, env.stdin), **own)
        return run(request, env, talk_exit_status)

    guarded(action, traceback=params["traceback"])
