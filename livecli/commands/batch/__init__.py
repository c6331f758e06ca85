"""`livecli batch`: a suite of send/text cases with expectations, run concurrently on one event loop.

`manifest` reads the cases, `case` runs one through send/text's own steps, `expectations` judges it, `runner`
schedules them (AIMD concurrency, quota retries, Ctrl-C), `results` and `junit` write what happened, `progress`
shows it. The manifest's schema is the options of `send`/`text`, so it is checked in livecli.cli.batch.
"""
