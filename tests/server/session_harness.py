"""A ServerSession on a fake clock, for the server's sans-I/O tests: frames in, (time, kind, message) out."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Iterator, Mapping
from typing import Any

from livecli.server.resumption import HandleStore
from livecli.server.scenarios import BUILTIN, Scenario
from livecli.server.session import Send, ServerSession, SessionLimits

__all__ = ["MODEL", "NO_VAD", "Harness"]

MODEL = "models/gemini-3.8-live"


class FreshCopies(Mapping[str, Any]):
    """A shared setup fragment that hands out a deep copy of each value, so `{**NO_VAD}` (or `**NO_VAD` into a
    call) gives the test its own nested dicts: a test that edits its setup cannot change another test's."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = copy.deepcopy(dict(data))

    def __getitem__(self, key: str) -> Any:
        return copy.deepcopy(self._data[key])

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


NO_VAD = FreshCopies({"realtimeInputConfig": {"automaticActivityDetection": {"disabled": True}}})


class Harness:
    """A session, its fake clock, and everything it sent as (time, kind, message)."""

    def __init__(self, scenario: str | Scenario = "echo", store: HandleStore | None = None, **limits: Any) -> None:
        self.now = 0.0
        self.store = store if store is not None else HandleStore(7200)
        chosen = BUILTIN[scenario] if isinstance(scenario, str) else scenario
        self.session = ServerSession(chosen, self.store, self.now, SessionLimits(**limits))
        self.sent: list[tuple[float, str, Any]] = []

    def send(self, message: dict[str, Any] | str) -> None:
        self.session.receive(message if isinstance(message, str) else json.dumps(message), self.now)
        self.run_until(self.now)

    def run_until(self, until: float) -> None:
        while True:
            for action in self.session.tick(self.now):
                if isinstance(action, Send):
                    self.sent.append((self.now, action.kind, json.loads(action.frame)))
                else:
                    self.sent.append((self.now, type(action).__name__, action))
            due = self.session.deadline()
            if due is None or due > until:
                self.now = max(self.now, until)
                return
            self.now = max(self.now, due)

    def kinds(self) -> list[str]:
        return [kind for _, kind, _ in self.sent]

    def take(self) -> list[tuple[float, str, Any]]:
        out, self.sent = self.sent, []
        return out

    def audio(self, pcm: bytes, mime: str = "audio/pcm") -> None:
        self.send({"realtimeInput": {"audio": {"data": base64.b64encode(pcm).decode(), "mimeType": mime}}})

    def messages(self, kind: str) -> list[Any]:
        return [message for _, k, message in self.sent if k == kind]

    def transcripts(self) -> list[str]:
        return [m["serverContent"]["outputTranscription"]["text"] for m in self.messages("outputTranscription")]

    def stream(self, pcm: bytes, chunk_s: float = 0.04) -> None:
        step = int(32000 * chunk_s)
        for offset in range(0, len(pcm), step):
            self.audio(pcm[offset : offset + step])
            self.run_until(self.now + chunk_s)

    def activity_turn(self, pcm: bytes) -> None:
        self.send({"realtimeInput": {"activityStart": {}}})
        self.audio(pcm)
        self.send({"realtimeInput": {"activityEnd": {}}})
