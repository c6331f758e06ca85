"""One `chat` conversation: a connection, then each line as a turn (or a slash command) until the input ends.

Each turn is an input of the session, numbered from 1 (`ClientSession.label_input`), and delivered through the
Resumer like `send`'s files and `text`'s prompt (commands/input_loop: the same senders), so a goAway or a drop
between or during turns is resumed and the turn in flight goes on. While the user types, the session keeps
being applied (`Conversation.poll`): frames, tool answers and a goAway are not left waiting for the next line.

Slash commands (HELP): a problem with what one names (no such file, an image Pillow cannot open, a reply that
cannot be saved) is one warning line on a terminal, and the conversation goes on; from a pipe (a script) it fails
the run with its usual exit status, as `send` would.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from livecli.client.conversation import Conversation
from livecli.client.resume import Resumer
from livecli.commands.input_loop import (
    Progress,
    Reach,
    RunState,
    one_connection_send_s,
    open_conversation,
    send_audio_input,
    send_plan,
    send_text_input,
)
from livecli.errors import LivecliError, UsageError
from livecli.protocol.client_messages import SetupConfig, context_update_message
from livecli.protocol.report import InputInfo, Reporter

if TYPE_CHECKING:
    from livecli.audio.decode import InputAudio
    from livecli.audio.devices import Speaker
    from livecli.commands.chat.lines import LineSource
    from livecli.commands.chat.request import ChatRequest
    from livecli.env import Env
    from livecli.media.images import ImageFrame

__all__ = ["COMMANDS", "HELP", "Chat"]

COMMANDS = ("/audio", "/image", "/system", "/save", "/help", "/quit")  # as HELP lists them (Tab completes them)

HELP = """\
Each line is a turn; the reply's transcript is printed as it arrives. Commands:
  /audio FILE   send an audio file as a turn (paced as `send` paces it)
  /image FILE   send an image with the next turn
  /system TEXT  a new system instruction (contextUpdate), sent before the next turn
  /save FILE    write the last reply's audio to FILE (.wav, .flac, .ogg, ...)
  /help         this list
  /quit         end the conversation (so do Ctrl-D at an empty prompt, and Ctrl-C)
A line starting with // is sent as text starting with /."""

_T = TypeVar("_T")

# How long the idle wait between lines sleeps at most before it looks at the session again (it wakes at once when
# a frame or the line arrives).
IDLE_WAIT_S = 1.0
# --play at the end: how often to look whether the speaker is done, and how long past the queued audio to wait.
PLAY_OUT_POLL_S = 0.02
PLAY_OUT_MARGIN_S = 1.0


class Chat:
    """The turns of one conversation and what the slash commands queued for the next one."""

    def __init__(
        self,
        chat: ChatRequest,
        env: Env,
        renderer: Reporter,
        state: RunState,
        lines: LineSource,
        *,
        images: list[ImageFrame],
        system_allowed: str | None,
        end_line: Callable[[], None] = lambda: None,
        speaker: Speaker | None = None,
    ) -> None:
        self.chat = chat
        self.req = chat.run
        self.env = env
        self.renderer = renderer
        self.state = state
        self.lines = lines
        self.images = images  # sent with the next turn (--image: the first)
        self.system: str | None = None  # a /system instruction not sent yet
        # None: the model takes a system instruction; else the line that says why /system is refused.
        self.system_refused = system_allowed
        self.end_line = end_line  # ends the transcript line of a reply on stdout
        self.names: list[str] = []  # the turns sent, in order (turn N is names[N - 1])
        self.answered = 0  # the latest turn whose reply is complete (for /save)
        self.released_bytes = 0  # reply audio of earlier turns, dropped once answered (`_release`)
        self.quit = False  # ended by /quit (not by the end of input or Ctrl-C)
        self.speaker = speaker  # --play: the replies play through it (commands/talk/playback's PlaybackTap)

    # --- the conversation -------------------------------------------------------------------------------

    async def converse(self, setup: SetupConfig, reach: Reach) -> None:
        """Connect (the tool sources first), then take lines until the input ends or /quit; close (also on
        failure), as commands/input_loop's `converse` does for send and text."""
        async with open_conversation(self.req, self.env, setup, self.renderer, self.state, reach) as live:
            conv, resumer = live.conversation, await live.connect()
            while (line := await self._next_line(conv)) is not None:
                if not await self._take(line, conv, resumer):
                    break
            await self._play_out(conv)

    async def _play_out(self, conv: Conversation) -> None:
        """--play: the last reply plays to its end before the conversation closes (bounded by what is queued)."""
        if self.speaker is None:
            return
        deadline = self.env.clock() + self.speaker.buffer.queued_s + PLAY_OUT_MARGIN_S
        while self.speaker.playing and self.env.clock() < deadline:
            await conv.poll(PLAY_OUT_POLL_S)

    async def _next_line(self, conv: Conversation) -> str | None:
        """The next line, the session applied meanwhile (the line's arrival wakes the wait)."""
        future = self.lines.next_line(conv.inbox.arrived.set)
        try:
            while not future.done():
                await conv.poll(IDLE_WAIT_S)
        finally:
            future.cancel()  # (a no-op once it is done; the reader thread finds it so)
        return future.result()

    async def _take(self, line: str, conv: Conversation, resumer: Resumer) -> bool:
        """One line: a text turn or a slash command; False for /quit."""
        text = line.strip()
        if not text:
            return True
        if text.startswith("//") or not text.startswith("/"):
            await self._text_turn(text.removeprefix("/") if text.startswith("//") else text, conv, resumer)
            return True
        command, _, argument = text.partition(" ")
        argument = argument.strip()
        if command in ("/quit", "/exit"):
            self.quit = True
            return False
        if command == "/help":
            self._say(HELP, asked=True)
        elif command == "/audio":
            await self._audio_turn(argument, conv, resumer)
        else:
            self._refusable(functools.partial(self._command, command, argument))
        return True

    def _command(self, command: str, argument: str) -> None:
        """The slash commands that only change what the next turn carries, or write a file."""
        if command == "/image":
            self.images.append(self._image(argument))
            self._say(f"{argument}: sent with the next turn")
        elif command == "/system":
            if not argument:
                raise UsageError("/system needs the instruction's text: /system TEXT")
            if self.system_refused is not None:
                raise UsageError(self.system_refused)
            self.system = argument
            self._say("system instruction: sent before the next turn")
        elif command == "/save":
            self._save_last(argument)
        else:
            raise UsageError(f"unknown command {command}: /help lists the commands")

    def _refusable(self, action: Callable[[], _T]) -> _T | None:
        """Run a slash command's own step; its failure is a warning on a terminal (None), the run's failure from a
        pipe."""
        try:
            return action()
        except LivecliError as exc:
            if not self.lines.interactive:
                raise
            self.renderer.warning(str(exc))
            return None

    def _say(self, text: str, *, asked: bool = False) -> None:
        """A line for the person typing, on stderr (stdout carries the replies); under -q only what was `asked`
        for (/help)."""
        if (asked or self.req.verbosity >= 0) and not self.env.stderr_closed:
            self.env.stderr.write(text + "\n")
            self.env.stderr.flush()

    # --- turns --------------------------------------------------------------------------------------------

    def _begin(self, name: str) -> tuple[int, list[ImageFrame]]:
        """Number the next turn; it takes the images queued for it."""
        self.names.append(name)
        images, self.images = self.images, []
        return len(self.names), images

    async def _deliver(
        self,
        resumer: Resumer,
        conv: Conversation,
        send: Callable[[], Awaitable[None]],
        number: int,
        name: str,
        whole_s: float | None = None,
    ) -> None:
        async def attempt() -> None:
            await self._send_system(conv)
            await send()

        await resumer.deliver(attempt, number, name, whole_s=whole_s)
        previous, self.state.delivered, self.answered = self.answered, number, number
        self.end_line()
        if self.chat.save_dir is not None:
            self.save_turn(number, self.turn_file(number), partial=False)
        self._release(previous)

    def _release(self, number: int) -> None:
        """Turn `number`'s reply audio is needed no more (only the last reply can be /saved, and --save-dir wrote
        it): its store is dropped, so memory does not grow with the length of the conversation. The summary's
        count of reply bytes keeps it (`released_bytes`)."""
        from livecli.protocol.reply_audio import ReplyAudio

        for turn in self.state.reply_turns(number) if number else ():
            self.released_bytes += len(turn.audio)
            turn.audio = ReplyAudio()

    async def _text_turn(self, prompt: str, conv: Conversation, resumer: Resumer) -> None:
        number, images = self._begin(f"turn {len(self.names) + 1}")
        name = self.names[-1]
        send = functools.partial(
            send_text_input,
            self.req,
            conv,
            self.renderer,
            images,
            Progress(),
            prompt=prompt,
            number=number,
            name=name,
        )
        await self._deliver(resumer, conv, send, number, name)

    async def _audio_turn(self, path: str, conv: Conversation, resumer: Resumer) -> None:
        source = self._refusable(functools.partial(_open_audio, path))
        if source is None:
            return
        with source:
            number, images = self._begin(source.name)
            req = self.req
            info = InputInfo(source.name, number, 1, source.duration_s, sum(send_plan(source, req)))
            renderer, env = self.renderer, self.env
            send = functools.partial(send_audio_input, req, conv, source, info, renderer, env, images, Progress())
            whole_s = one_connection_send_s(req, source, conv.session.setup)
            await self._deliver(resumer, conv, send, number, source.name, whole_s)

    async def _send_system(self, conv: Conversation) -> None:
        """A /system instruction, before the turn it was typed for, as a contextUpdate (docs/wire.md, "Client
        messages"). The session's setup takes it too, so a reconnect's setup carries the instruction in force."""
        if self.system is None:
            return
        session = conv.session
        frame = session.outbox.number(context_update_message(self.system))  # numbered like every message
        session.setup = dataclasses.replace(session.setup, system_instruction=self.system)
        self.system = None
        await conv.send([frame])

    def _image(self, path: str) -> ImageFrame:
        if not path:
            raise UsageError("/image needs a file: /image FILE")
        from livecli.media.images import load_image

        return load_image(path, self.req.media_resolution)

    # --- replies on disk ----------------------------------------------------------------------------------

    def turn_file(self, number: int) -> str:
        """--save-dir's file for turn `number`."""
        assert self.chat.save_dir is not None
        return os.path.join(self.chat.save_dir, f"turn-{number}.wav")

    def save_turn(self, number: int, dest: str, *, partial: bool) -> bool:
        """Write turn `number`'s reply audio to `dest` (atomically; the format by its suffix); False: no audio."""
        from livecli.audio.encode import write_reply
        from livecli.protocol.reply_audio import JoinedAudio
        from livecli.protocol.wire import OUTPUT_RATE

        turns = self.state.reply_turns(number)
        audio = JoinedAudio(t.audio for t in turns)  # read in blocks: it may be on disk (commands/reply_spill)
        if not len(audio):
            return False
        rate = next((t.audio_rate for t in turns if t.audio_rate), None) or OUTPUT_RATE
        write_reply(dest, audio, rate)
        self.renderer.reply_written(dest, len(audio), rate, partial=partial)
        return True

    def _save_last(self, dest: str) -> None:
        if not dest:
            raise UsageError("/save needs a file name: /save FILE")
        if not self.answered:
            raise UsageError("/save: no reply yet")
        if not self.save_turn(self.answered, dest, partial=False):
            raise UsageError(f"/save: the reply to {self.names[self.answered - 1]} has no audio")

    def save_unanswered(self) -> None:
        """After a failure or Ctrl-C: the reply so far to the turn in flight, as partial (--save-dir)."""
        number = len(self.names)
        if self.chat.save_dir is not None and number > self.answered:
            self.save_turn(number, self.turn_file(number), partial=True)


def _open_audio(path: str) -> InputAudio:
    """The /audio file, opened (nothing decoded yet); stdin is the conversation, never an audio file."""
    if not path:
        raise UsageError("/audio needs a file: /audio FILE")
    if path == "-":
        raise UsageError("/audio -: stdin carries the conversation; give a file")
    from livecli.audio.decode import open_input

    return open_input(path)
