"""``step_bars``: one rich progress bar per kind of thing a long CLI command moves (runs, models…), on
stderr, fed by the ``progress(what, done, total)`` callback the importer and exporter call."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from mltrail.cli.render import stderr_console

__all__ = ["StepProgress", "step_bars"]

StepProgress = Callable[[str, int, int], None]


@contextmanager
def step_bars(verb: str) -> Iterator[StepProgress]:
    """Bars titled ``"{verb} {what}"``, one per ``what``, added when it is first reported."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=stderr_console(), transient=False) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(what: str, done: int, total: int) -> None:
            if what not in tasks:
                tasks[what] = bar.add_task(f"{verb} {what}", total=total)
            bar.update(tasks[what], completed=done)

        yield progress
