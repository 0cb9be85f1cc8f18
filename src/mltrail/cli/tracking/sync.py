"""``mltrail sync``: upload what runs journaled and did not deliver (server down, offline, killed)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from mltrail.cli.context import CliContext, services
from mltrail.cli.render import echo_json, stderr_console, stdout_console
from mltrail.sdk.tracking.journal import Journal
from mltrail.sdk.tracking.journal_replay import JournalResult, open_free_journals, sync_journal
from mltrail.sdk.tracking.transport import Transport

__all__ = ["sync"]


def sync(
    ctx: typer.Context,
    server: Annotated[
        str | None,
        typer.Option(
            "--server",
            help="Server URL (default: MLTRAIL_SERVER); without one, the store of the global --dir/--db.",
        ),
    ] = None,
    journal_dir: Annotated[
        Path | None,
        typer.Option(
            "--journal-dir", help="Journal folder (default: MLTRAIL_JOURNAL_DIR, ~/.mltrail/journal)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
) -> None:
    """Replay every journal whose process has gone into the server (or store), then remove it.

    A run whose process died before finishing it is finished as crashed. Exits 1 when anything is left.
    """
    state = services(ctx)
    folder = (journal_dir or state.settings.journal_dir).expanduser()
    url = (server or state.settings.server or "").strip()
    target, where = _target(state, url)
    try:
        results = _sync_all(folder, target, show_progress=not as_json)
    finally:
        close = getattr(target, "close", None)
        if url and callable(close):
            close()
    if as_json:
        echo_json(
            {
                "journal_dir": str(folder),
                "target": where,
                "runs": [{**dataclasses.asdict(r), "done": r.done} for r in results],
            }
        )
    else:
        _print(results, folder, where)
    if any(not r.done and not r.in_use for r in results):
        raise typer.Exit(1)


def _target(state: CliContext, url: str) -> tuple[Transport, str]:
    if url:
        from mltrail.sdk.tracking.http import HttpTransport

        settings = state.settings.with_server(url, source="--server")
        return HttpTransport(settings.server, api_key=settings.api_key), settings.server
    from mltrail.sdk.tracking.embedded import InProcessTransport  # the store: only when syncing into it

    return InProcessTransport(state.container(must_exist=False)), state.settings.db_url


def _sync_all(folder: Path, target: Transport, *, show_progress: bool) -> list[JournalResult]:
    found = list(open_free_journals(folder))
    journals = [j for j in found if isinstance(j, Journal)]
    results: list[JournalResult] = []
    total = sum(j.pending()[1] for j in journals)
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn())
    progress = Progress(*columns, console=stderr_console(), transient=True, disable=not show_progress)
    stop: str | None = None
    with progress:
        task = progress.add_task("syncing", total=total)
        for journal in journals:
            if stop is not None:  # the target is down or refuses us: the others would fail the same way
                left = journal.pending()[0]
                journal.release()
                results.append(_result_of(journal, left=left, error=f"not tried: {stop}"))
                continue
            progress.update(task, description=f"{journal.meta.get('name') or journal.run_id[:12]}")
            result = sync_journal(journal, target, lambda record: progress.advance(task, record.size))
            results.append(result)
            if result.error is not None:
                stop = result.error
    for entry in found:
        if isinstance(entry, Path):
            results.append(dataclasses.replace(_result_of_path(entry), in_use=True))
    return results


def _result_of(journal: Journal, *, left: int, error: str) -> JournalResult:
    meta = journal.meta
    return JournalResult(
        run_id=journal.run_id,
        project=meta.get("project"),
        name=meta.get("name"),
        folder=str(journal.folder),
        left=left,
        error=error,
    )


def _result_of_path(folder: Path) -> JournalResult:
    from mltrail.sdk.tracking.journal import read_meta

    meta = read_meta(folder)
    return JournalResult(folder.name, meta.get("project"), meta.get("name"), str(folder))


def _print(results: list[JournalResult], folder: Path, where: str) -> None:
    console = stdout_console()
    if not results:
        console.print(f"Nothing to sync in {folder}.")
        return
    table = Table(box=None, header_style="bold")
    for column in ("run", "project", "name", "sent", "points", "rejected", "left", "result"):
        table.add_column(
            column, justify="right" if column in ("sent", "points", "rejected", "left") else "left"
        )
    for r in results:
        table.add_row(
            r.run_id[:12],
            r.project or "-",
            r.name or "-",
            str(r.sent),
            str(r.points),
            str(r.rejected),
            str(r.left),
            _outcome(r),
        )
    console.print(f"Journals in {folder} → {where}")
    console.print(table)
    for r in results:
        if r.moved_to:
            console.print(
                f"Records of {r.run_id[:12]} that were refused are kept in {r.moved_to}/rejected.jsonl"
            )


def _outcome(r: JournalResult) -> Text:
    if r.in_use:
        return Text("in use (its process is running)", style="cyan")
    if r.error is not None:
        return Text(f"left: {r.error}", style="red")
    if r.crashed:
        return Text("done, finished as crashed", style="magenta")
    return Text("done", style="green")
