"""`PumpedConnection`: a websockets server connection whose messages go straight to its pump.

A live session sends a small text frame every 20-100 ms, and most of the server's CPU per frame went to
layers around the session (issue 12's profile): websockets' generator-based frame parser, its message queue, and
a task switch per message. Here (docs/wire.md, "Limits of the local server"):
- a complete, unfragmented, masked text or binary frame of at most FAST_FRAME_BYTES is read from the socket's
  bytes here, unmasked and handed to the pump (`Pump.take_now`) at once;
- every other frame (control frames, fragments, larger frames, invalid UTF-8, a message the pump declines) is
  handed, exactly as it came, to websockets, which parses it as always: its parser is only ever given whole
  frames from a frame boundary, so it never sees a frame cut by one taken here. Complete messages it parses
  come to `process_event`, which hands them to the pump on the same terms, or queues them for the handler's loop
  (`backlog` counts them: nothing behind a queued message is taken before the handler has it);
- the pump takes messages for at most BURST_S of one read; the rest go through the queue, a turn of the loop
  each, so a client whose messages are all buffered does not keep the loop from the others.
Relies on websockets 17's sans-I/O protocol (`parser`, `reader`, `max_message_size`); pyproject pins websockets
below 18, and tests/server/test_pumped_connection.py checks the boundary rule.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from websockets.asyncio.server import ServerConnection
from websockets.frames import Frame, Opcode
from websockets.protocol import Event, State
from websockets.streams import StreamReader

try:
    from websockets.speedups import apply_mask
except ImportError:  # websockets built without its C speedups: its own pure-Python mask, as it does itself
    from websockets.utils import apply_mask

if TYPE_CHECKING:
    from livecli.server.pump import Pump

__all__ = ["BURST_S", "FAST_FRAME_BYTES", "PumpedConnection"]

BURST_S = 0.002  # work on one read's messages; the rest go through websockets' queue, a turn of the loop each
FAST_FRAME_BYTES = 1 << 16  # larger frames (images) go to websockets, which buffers them without copies
_FIN_TEXT, _FIN_BINARY = 0x81, 0x82  # FIN set, no RSV bits (no extension is negotiated), opcode 1 or 2
_AT_EOF = StreamReader.at_eof.__code__


class PumpedConnection(ServerConnection):
    """A server connection whose complete messages go straight to its `pump` when it can take them."""

    pump: Pump | None = None
    backlog = 0  # messages left to websockets' queue that the handler has not finished with
    _burst_started: float | None = None
    _reading: bool | None = None  # whether frames are read here (decided once the pump is there)
    _inbox: bytearray | None = None  # bytes of a frame not complete yet, from a frame boundary
    _owed = 0  # bytes websockets still needs to complete a frame handed to it in part
    _declined = False  # the frame handed to websockets now was declined by the pump

    def data_received(self, data: bytes) -> None:
        self._burst_started = None
        if not self._reads_frames():
            super().data_received(data)
            return
        inbox = self._inbox
        if inbox is None:
            inbox = self._inbox = bytearray()
        inbox += data
        consumed = self._read_frames(inbox)
        if self._reading:
            del inbox[:consumed]
        else:  # websockets took over for good (the connection is closing): it gets the rest from a boundary
            rest, self._inbox = bytes(inbox[consumed:]), None
            if rest:
                super().data_received(rest)

    def eof_received(self) -> None:
        if self._inbox:  # a frame cut by the end of the stream: websockets says so, as it always did
            rest, self._inbox = bytes(self._inbox), None
            super().data_received(rest)
        super().eof_received()

    def _read_frames(self, inbox: bytearray) -> int:
        """Take or hand over every frame `inbox` holds whole; return how many bytes were consumed."""
        pos, end = 0, len(inbox)
        while pos < end and self._reading:
            if self._owed:
                give = min(self._owed, end - pos)
                self._owed -= give
                self._hand_over(bytes(inbox[pos : pos + give]))
                pos += give
                continue
            head = _frame_head(inbox, pos, end)
            if head is None:
                break  # the header is not complete yet
            first, length, size = head
            total = size + length
            if first in (_FIN_TEXT, _FIN_BINARY) and self._takes(length):
                if end - pos < total:
                    break  # the rest of the frame is still to come
                payload = apply_mask(inbox[pos + size : pos + total], inbox[pos + size - 4 : pos + size])
                message = _message(payload, text=first == _FIN_TEXT)
                if message is not None and self.pump is not None:
                    if self.pump.take_now(message):
                        pos += total
                        continue
                    self._declined = True  # websockets queues it, without offering it to the pump again
            elif self.backlog or self.pump is None or not self._within_burst():
                return self._hand_over_the_rest(inbox, pos, end)  # nothing more is taken in this read
            give = min(total, end - pos)
            self._owed = total - give
            self._hand_over(bytes(inbox[pos : pos + give]))
            pos += give
        return pos

    def _hand_over_the_rest(self, inbox: bytearray, pos: int, end: int) -> int:
        """Every frame from `pos` on, the last one perhaps in part, to websockets in one call (one call per frame
        cost a flood about twice what websockets alone costs); a header still incomplete waits in the inbox."""
        stop = pos
        while (head := _frame_head(inbox, stop, end)) is not None:
            total = head[2] + head[1]
            if stop + total > end:
                self._owed = stop + total - end
                stop = end
                break
            stop += total
        if stop > pos:
            self._hand_over(bytes(inbox[pos:stop]))
        return stop

    def _hand_over(self, data: bytes) -> None:
        """Bytes from a frame boundary to websockets' own parser; once the connection leaves OPEN (a close frame,
        a protocol error) every later byte goes to websockets."""
        super().data_received(data)
        if self.protocol.state is not State.OPEN:
            self._reading = False

    def _takes(self, length: int) -> bool:
        """Whether a complete text or binary frame of `length` bytes can be read here now."""
        if length > FAST_FRAME_BYTES or self.backlog or self.pump is None:
            return False
        limit = self.protocol.max_message_size
        return (limit is None or length <= limit) and self._within_burst()

    def _reads_frames(self) -> bool:
        """Frames are read here from the first bytes after the pump is set, if websockets' parser is then at a
        frame boundary with nothing buffered (a client that sent frames before the handshake's end is read by
        websockets throughout)."""
        if self._reading is None and self.pump is not None:
            self._reading = self.protocol.state is State.OPEN and _at_frame_boundary(self)
        return bool(self._reading)

    def process_event(self, event: Event) -> None:
        if isinstance(event, Frame) and (event.opcode is Opcode.TEXT or event.opcode is Opcode.BINARY):
            declined, self._declined = self._declined, False
            if event.fin and not declined and not self.backlog and self.pump is not None and self._within_burst():
                message = _message(bytes(event.data), text=event.opcode is Opcode.TEXT)
                if message is not None and self.pump.take_now(message):
                    return
            self.backlog += 1  # counted at its first frame: nothing after it is taken before the handler has it
        super().process_event(event)

    def _within_burst(self) -> bool:
        now = time.perf_counter()
        if self._burst_started is None:
            self._burst_started = now
        return now - self._burst_started < BURST_S


def _frame_head(buf: bytearray, pos: int, end: int) -> tuple[int, int, int] | None:
    """(first header byte, payload length, header size) of the frame at `pos`, or None while its header is
    incomplete; the first byte is -1 for an unmasked frame, which only websockets reads (and refuses)."""
    if end - pos < 2:
        return None
    first, second = buf[pos], buf[pos + 1]
    length, size = second & 0x7F, 2
    if length == 126:
        size = 4
    elif length == 127:
        size = 10
    if second & 0x80:
        size += 4
    else:
        first = -1  # unmasked: never read here (websockets fails the connection with 1002)
    if end - pos < size:
        return None
    if length >= 126:
        length = int.from_bytes(buf[pos + 2 : pos + (4 if length == 126 else 10)], "big")
    return first, length, size


def _message(payload: bytes | bytearray, *, text: bool) -> str | bytes | None:
    """The message a frame's payload carries, as websockets' recv gives it; None for invalid UTF-8 (websockets
    then closes with 1007 as it always did)."""
    if text:
        try:
            return payload.decode()
        except UnicodeDecodeError:
            return None
    return bytes(payload)


def _at_frame_boundary(connection: ServerConnection) -> bool:
    """Whether websockets' parser waits for a new frame with nothing buffered: its innermost generator is
    `StreamReader.at_eof`, where it waits between frames."""
    protocol = connection.protocol
    if protocol.reader.buffer:
        return False
    generator: Any = protocol.parser
    while getattr(generator, "gi_yieldfrom", None) is not None:
        generator = generator.gi_yieldfrom
    return getattr(generator, "gi_code", None) is _AT_EOF
