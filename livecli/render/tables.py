"""A command's report as a Rich table on stdout: the report is the command's output (`livecli models | grep`
works), so it goes to stdout, at the terminal's width, or at a fixed width without colour codes on a pipe."""

from __future__ import annotations

import io
import shutil
from collections.abc import Sequence

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from livecli.env import Env
from livecli.protocol.redact import printable

__all__ = ["write_table"]

PIPE_WIDTH = 120  # the width of a table written to a pipe or a file
FIRST_COLUMN_MIN_WIDTH = 18  # the first column names the row: it folds last


def write_table(env: Env, title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Write `rows` under `columns` as one table; cells are plain text (no markup, control characters escaped),
    a newline in a cell starts a new line in it."""
    table = Table(title=title, box=box.SIMPLE_HEAD, show_lines=False)
    for number, column in enumerate(columns):
        table.add_column(column, overflow="fold", min_width=None if number else FIRST_COLUMN_MIN_WIDTH)
    for row in rows:
        table.add_row(*(Text("\n".join(printable(line) for line in cell.split("\n"))) for cell in row))
    text = io.StringIO()
    width = shutil.get_terminal_size((PIPE_WIDTH, 24)).columns if env.stdout_isatty else PIPE_WIDTH
    Console(file=text, highlight=False, markup=False, width=width, force_terminal=env.stdout_isatty).print(table)
    env.stdout.write(text.getvalue().encode())
    env.stdout.flush()
