"""`livecli talk`: a live conversation through the microphone and the speaker (issue 14).

`request` (TalkRequest), `run` (the use case: devices, the session, resumption, the exit), `loop` (the one task
that drives the conversation: the captured audio out, keys, half duplex), `playback` (the reply into the speaker
as it arrives: a forwarding Reporter that `send`/`text --play` and `chat` use too), `keys` (space and Enter from
the terminal), `view` (the Rich live view and the line mode).
"""
