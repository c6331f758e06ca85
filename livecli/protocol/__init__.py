"""Sans-I/O Live protocol core: message builders and parsers, the model table, the session state machine.

Nothing in this package imports asyncio, websockets, soundfile, numpy or rich (a test checks it).
"""
