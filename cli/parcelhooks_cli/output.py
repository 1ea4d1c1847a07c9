"""How commands speak: rich tables and progress for people, bare JSON on stdout with --json.

Progress bars and notes go to stderr, so stdout holds only the answer (and with --json,
only JSON): a script can always pipe stdout into `jq`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from parcelhooks_cli.errors import Problem

# Piped output is not folded at 80 columns: ids stay whole for grep and cut.
PIPE_WIDTH = 240
EMPTY_CELL = "-"

Advance = Callable[[int], None]


def _console(*, stderr: bool) -> Console:
    # markup off: a receiver's error text like "[Errno 111]" is data, not a style.
    console = Console(stderr=stderr, markup=False, highlight=False, soft_wrap=True)
    if not console.is_terminal:
        console.width = PIPE_WIDTH
    return console


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def cell(value: object) -> str:
    if value is None:
        return EMPTY_CELL
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return str(value)


class Output:
    def __init__(self, *, json_mode: bool) -> None:
        self.json_mode = json_mode
        self._out = _console(stderr=False)
        self._err = _console(stderr=True)

    def data(self, value: Any) -> None:
        """The command's answer as JSON on stdout (only with --json)."""
        print(json.dumps(value, indent=2, ensure_ascii=False, default=_json_default))

    def line(self, text: str) -> None:
        self._out.print(Text(text))

    def note(self, text: str) -> None:
        """Something for the person at the terminal, never for a script: stderr."""
        self._err.print(Text(text))

    def table(
        self, columns: Sequence[str], rows: Iterable[Sequence[object]], title: str | None = None
    ) -> None:
        table = Table(
            title=title, box=box.SIMPLE_HEAD, title_justify="left", show_edge=False, pad_edge=False
        )
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*(Text(cell(value)) for value in row))
        self._out.print(table)

    @contextmanager
    def progress(self, description: str, total: int) -> Iterator[Advance]:
        """A progress bar on stderr, filled to the end when the block ends; none with --json."""
        if self.json_mode:
            yield lambda _count: None
            return
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=self._err) as bar:
            task = bar.add_task(description, total=total)
            yield lambda count: bar.advance(task, count)
            # Fewer matched than the bound it started with: the work is done all the same.
            bar.update(task, total=bar.tasks[0].completed)

    def problem(self, problem: Problem, body: Any = None) -> None:
        """A failure: the sentence and details on stderr; with --json, `body` or the shape."""
        if self.json_mode:
            self.data(body if body is not None else problem.as_json())
        lines = [f"parcelhooks: {problem.message}", *(f"  - {d}" for d in problem.details)]
        print("\n".join(lines), file=sys.stderr)
