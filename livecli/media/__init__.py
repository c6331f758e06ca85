"""Images and video in (`--image`, `--video`): Pillow and PyAV, the optional `livecli[media]` extra.

Imported only when those options are used (livecli.extras.import_extra), never at start-up.
"""
