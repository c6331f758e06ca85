"""`livecli chat`: one session, many turns, typed on a terminal or read from a pipe (see commands/chat/run)."""

from livecli.commands.chat.request import ChatRequest
from livecli.commands.chat.run import run

__all__ = ["ChatRequest", "run"]
