"""livecli: a command-line client for the Gemini Live API, with a local Live-compatible server."""

__version__ = "0.1.0"
