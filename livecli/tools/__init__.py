"""Tools that really run: function declarations and the handlers that answer the model's calls.

Sources (`--tools FILE.json|FILE.py`, `--tool-exec CMD`, `--mcp CMD`, `--mcp-url URL`) each implement
`livecli.tools.base.ToolSource`; the registry joins them (one owner per function name) and the client's tool-call
dispatcher runs their calls. Nothing here is imported at start-up.
"""
