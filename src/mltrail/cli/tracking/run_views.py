"""Rich renderings of runs for the ``runs`` commands: the runs table, one run's page and a diff of two."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from mltrail.cli.render import (
    format_bytes,
    format_duration,
    format_number,
    format_relative,
    format_timestamp,
    format_value,
    status_text,
)
from mltrail.entities import Artifact, DatasetLink, MetricSummary, Run, RunStatus
from mltrail.errors import InvalidInputError
from mltrail.query_ast import NAMESPACES
from mltrail.services.tracking.run_diff import RunDiff, environment_facts

__all__ = ["parse_columns", "render_diff", "render_run", "runs_table", "varying_columns"]

MAX_AUTO_COLUMNS = 6
_DIFF_STYLES = {"+": "green", "-": "red", "@": "cyan"}
_AGG = re.compile(r"^(min|max|last)\((metrics\..+)\)$")


def parse_columns(specs: Sequence[str]) -> list[str]:
    """``params.lr,metrics.acc`` (repeatable) → column names; each must name a param, metric (optionally
    ``min(metrics.loss)``/``max(…)``), tag or summary value."""
    columns = [c.strip() for spec in specs for c in spec.split(",") if c.strip()]
    for column in columns:
        match = _AGG.match(column)
        namespace, _, key = (match.group(2) if match else column).partition(".")
        if namespace not in NAMESPACES or not key:
            raise InvalidInputError(
                f"column {column!r} must look like params.KEY, metrics.KEY, min(metrics.KEY), "
                "max(metrics.KEY), tags.KEY or summary.KEY",
                field="columns",
            )
    return columns


def column_value(run: Run, column: str) -> str:
    match = _AGG.match(column)
    agg = match.group(1) if match else "last"
    namespace, _, key = (match.group(2) if match else column).partition(".")
    if namespace == "metrics":
        summary = run.metrics.get(key)
        if summary is None:
            return ""
        return format_number(summary.last if agg == "last" else summary.min if agg == "min" else summary.max)
    values: Mapping[str, Any] = (
        run.params if namespace == "params" else run.tags if namespace == "tags" else run.summary
    )
    return format_value(values[key]) if key in values else ""


def varying_columns(runs: Sequence[Run]) -> list[str]:
    """Up to six params and six metrics whose values differ across ``runs`` (or all of them, for one run).
    System metrics (``sys/…``) are left out."""
    columns: list[str] = []
    for namespace in ("params", "metrics"):
        keys = sorted({k for r in runs for k in (r.params if namespace == "params" else r.metrics)})
        keys = [k for k in keys if not k.startswith("sys/")]
        if len(runs) > 1:
            keys = [k for k in keys if len({column_value(r, f"{namespace}.{k}") for r in runs}) > 1]
        columns += [f"{namespace}.{k}" for k in keys[:MAX_AUTO_COLUMNS]]
    return columns


def fit_columns(
    runs: Sequence[Run], columns: Sequence[str], width: int, keep: Sequence[str] = ()
) -> tuple[list[str], int]:
    """Drop automatic columns (params first, from the right) until the table fits ``width``.

    Returns the columns kept and how many were hidden; columns in ``keep`` (e.g. the sort key) stay.
    Each column is measured once; the table's width is then a sum (see ``table_width``).
    """
    kept = list(columns)
    hidden = 0
    widths = column_widths(runs, kept)
    while kept and table_width(widths, kept) > width:
        droppable = [c for c in kept if c not in keep]
        if not droppable:
            break
        params = [c for c in droppable if c.startswith("params.")]
        kept.remove((params or droppable)[-1])
        hidden += 1
    return kept, hidden


def column_widths(runs: Sequence[Run], columns: Sequence[str]) -> dict[str | int, int]:
    """The widest cell (header included) of each column of ``runs_table(runs, columns)``, unpadded: the
    fixed columns by position (0…5), the others by name."""
    table = runs_table(runs, columns)
    measure = Console(width=100_000)
    widths: dict[str | int, int] = {}
    names: list[str | int] = [*range(len(table.columns) - len(columns)), *columns]
    for name, column in zip(names, table.columns, strict=True):
        alone = Table(box=None, padding=0, pad_edge=False)
        alone.add_column(column.header, no_wrap=column.no_wrap)
        for cell in column.cells:
            alone.add_row(cell)
        widths[name] = measure.measure(alone).maximum
    return widths


def table_width(widths: Mapping[str | int, int], columns: Sequence[str]) -> int:
    """The width ``runs_table`` needs for ``columns``: every cell's width plus one space each side of every
    column boundary (``box=None``, padding 1, no padding at the outer edges)."""
    fixed = [w for name, w in widths.items() if isinstance(name, int)]
    return sum(fixed) + sum(widths[c] for c in columns) + 2 * (len(fixed) + len(columns) - 1)


NAMESPACE_STYLES = {"params": "cyan", "metrics": "magenta", "tags": "yellow", "summary": "yellow"}


def runs_table(runs: Sequence[Run], columns: Sequence[str]) -> Table:
    table = Table(
        box=None,
        header_style="bold",
        pad_edge=False,
        caption="[cyan]params[/]  [magenta]metrics (last value)[/]  [yellow]tags, summary[/]",
        caption_justify="left",
    )
    for name in ("id", "name", "status", "user", "started", "duration"):
        table.add_column(name, no_wrap=name in ("id", "name", "status"))
    for column in columns:
        # The namespace is shown by colour, so headers stay short enough not to wrap letter by letter.
        namespace, _, key = column.partition(".")
        style = NAMESPACE_STYLES.get(namespace.split("(")[-1], "")
        header = key.rstrip(")") if namespace in NAMESPACE_STYLES else column
        if namespace.startswith(("min(", "max(")):
            header = f"{namespace[:3]}({key.rstrip(')')})"
        table.add_column(
            header, header_style=f"bold {style}", justify="right" if "metrics" in namespace else "left"
        )
    for run in runs:
        table.add_row(
            run.id[:8],
            run.name,
            status_text(run.status.value),
            run.user or "-",
            format_relative(run.start_time),
            format_duration(run.duration),
            *[column_value(run, c) for c in columns],
        )
    return table


def _kv_table(rows: Sequence[tuple[str, RenderableType | str]], title: str | None = None) -> Table:
    table = Table(box=None, show_header=False, title=title, title_justify="left", title_style="bold")
    table.add_column(style="dim", no_wrap=True)
    table.add_column(overflow="fold")
    for key, value in rows:
        table.add_row(key, value)
    return table


def _context_rows(run: Run) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    git = run.context.get("git")
    if isinstance(git, dict) and "skipped" not in git:
        commit = str(git.get("commit") or "no commits")[:12]
        dirty = " (uncommitted changes)" if git.get("dirty") else ""
        rows.append(("git", f"{commit} on {git.get('branch') or 'detached HEAD'}{dirty}"))
        if git.get("remote"):
            rows.append(("remote", str(git["remote"])))
    elif isinstance(git, dict):
        rows.append(("git", f"not captured: {git.get('skipped')}"))
    command = run.context.get("command")
    if isinstance(command, dict):
        argv = [str(a) for a in command.get("argv") or []]
        module = command.get("module")
        line = " ".join(["python", "-m", str(module), *argv[1:]] if module else ["python", *argv])
        rows.append(("command", line))
        if command.get("cwd"):
            rows.append(("cwd", str(command["cwd"])))
    facts = environment_facts(run)
    env = ", ".join(
        f"{label} {facts[key]}"
        for key, label in (("python", "Python"), ("os", "on"), ("hostname", "host"), ("gpu_count", "GPUs:"))
        if facts[key] is not None
    )
    if env:
        rows.append(("environment", env))
    return rows


def render_run(run: Run, datasets: Sequence[DatasetLink], artifacts: Sequence[Artifact]) -> Group:
    """One run's page: overview, params, metrics, tags, summary, datasets, artifacts, context, error."""
    parts: list[RenderableType] = []
    overview: list[tuple[str, RenderableType | str]] = [
        ("id", run.id),
        ("project", run.project),
        ("name", run.name),
        ("status", status_text(run.status.value)),
        ("user", run.user or "-"),
        ("started", f"{format_timestamp(run.start_time)} ({format_relative(run.start_time)})"),
        ("ended", format_timestamp(run.end_time)),
        ("duration", format_duration(run.duration)),
    ]
    if run.notes:
        overview.append(("notes", run.notes))
    parts.append(_kv_table([*overview, *_context_rows(run)]))
    for title, values in (("Params", run.params), ("Summary", run.summary), ("Tags", run.tags)):
        if values:
            parts.append(_kv_table([(k, format_value(v)) for k, v in sorted(values.items())], title=title))
    if run.metrics:
        table = Table(
            title="Metrics", title_justify="left", title_style="bold", box=None, header_style="bold"
        )
        for name in ("key", "last", "step", "min", "max", "points"):
            table.add_column(name, justify="left" if name == "key" else "right")
        for key in sorted(run.metrics, key=lambda k: (k.startswith("sys/"), k)):
            m = run.metrics[key]
            table.add_row(
                key,
                format_number(m.last),
                str(m.last_step),
                format_number(m.min),
                format_number(m.max),
                str(m.count),
            )
        parts.append(table)
    if datasets:
        table = Table(
            title="Datasets", title_justify="left", title_style="bold", box=None, header_style="bold"
        )
        for name in ("role", "name", "version", "digest", "rows", "source"):
            table.add_column(name, overflow="fold")
        for link in datasets:
            ds = link.dataset
            rows = format_number(ds.num_rows) if ds.num_rows is not None else "-"
            table.add_row(link.role, ds.name, f"v{ds.version}", ds.digest[:16], rows, ds.source or "-")
        parts.append(table)
    if artifacts:
        table = Table(
            title="Artifacts", title_justify="left", title_style="bold", box=None, header_style="bold"
        )
        table.add_column("path", overflow="fold")
        table.add_column("size", justify="right")
        for artifact in artifacts:
            table.add_row(artifact.path, format_bytes(artifact.size))
        parts.append(table)
    if run.error and run.status in (RunStatus.FAILED, RunStatus.CRASHED):
        body = run.error.get("traceback") or f"{run.error.get('type')}: {run.error.get('message')}"
        parts.append(
            Panel(Text(body.rstrip(), style="red"), title="Error", title_align="left", border_style="red")
        )
    return Group(*[item for part in parts for item in (part, Text(""))])


def _cell(value: Any) -> str:
    return (
        format_value(value)
        if not isinstance(value, float | int) or isinstance(value, bool)
        else format_number(value)
    )


def _table(*columns: str, right_from: int = 99) -> Table:
    table = Table(box=None, header_style="bold", pad_edge=False)
    for i, name in enumerate(columns):
        table.add_column(name, justify="right" if i >= right_from else "left", overflow="fold")
    return table


def _section(console: Console, title: str, table: Table, empty: str = "nothing differs") -> None:
    """A heading, then the table, or ``empty`` when it has no rows (titles in a narrow table would wrap)."""
    console.print(Text(title, style="bold"))
    console.print(table if table.row_count else Text(f"  {empty}", style="dim"))
    console.print("")


def _summary_cell(summary: MetricSummary | None, attr: str) -> str:
    return "-" if summary is None else format_number(getattr(summary, attr))


def _versions(items: list[dict[str, Any]]) -> str:
    return ", ".join(f"v{e['version']} {str(e['digest'])[:12]}" for e in items) or "-"


def render_diff(diff: RunDiff, console: Console) -> None:
    a, b = diff.run_a, diff.run_b
    console.print(Text(f"A: {a['id'][:8]} {a['name']}   B: {b['id'][:8]} {b['name']}", style="bold"))
    for note in diff.notes:
        console.print(Text(note, style="yellow"))
    console.print("")
    p = diff.params
    table = _table("param", "A", "B")
    for key, (va, vb) in p.changed.items():
        table.add_row(key, _cell(va), Text(_cell(vb), style="yellow"))
    for key, value in p.removed.items():
        table.add_row(key, _cell(value), Text("(missing)", style="red"))
    for key, value in p.added.items():
        table.add_row(key, Text("(missing)", style="dim"), Text(_cell(value), style="green"))
    _section(console, f"Params ({p.same} the same)", table)
    table = _table("metric", "A last", "B last", "delta", "A min", "B min", "A max", "B max", right_from=1)
    for m in diff.metrics:
        delta = "-" if m.delta is None else ("+" if m.delta > 0 else "") + format_number(m.delta)
        table.add_row(
            m.key,
            _summary_cell(m.a, "last"),
            _summary_cell(m.b, "last"),
            delta,
            *[_summary_cell(s, attr) for attr in ("min", "max") for s in (m.a, m.b)],
        )
    _section(console, "Metrics", table, empty="no metrics")
    c = diff.code
    table = _table("", "A", "B")
    table.add_row("commit", str(c.commit_a)[:12], str(c.commit_b)[:12])
    table.add_row("branch", str(c.branch_a), str(c.branch_b))
    table.add_row("dirty", str(c.dirty_a), str(c.dirty_b))
    console.print(Text("Code", style="bold"))
    console.print(table)
    for note in c.notes:
        console.print(Text(f"  {note}", style="yellow"))
    if c.patch_diff:
        # Plain coloured lines rather than rich's Syntax, which crops lines wider than the terminal.
        for line in c.patch_diff.splitlines():
            style = "bold" if line.startswith(("---", "+++")) else _DIFF_STYLES.get(line[:1], "")
            console.print(Text(line, style=style))
    console.print("")
    pk = diff.packages
    table = _table("package", "A", "B")
    for name, (va, vb) in pk.changed.items():
        table.add_row(name, va, Text(vb, style="yellow"))
    for name, version in pk.removed.items():
        table.add_row(name, version, Text("(missing)", style="red"))
    for name, version in pk.added.items():
        table.add_row(name, Text("(missing)", style="dim"), Text(version, style="green"))
    _section(console, f"Packages ({pk.same} the same)", table)
    table = _table("role", "name", "A", "B", "status")
    styles = {"same": "dim", "changed": "yellow", "added": "green", "removed": "red"}
    for d in diff.datasets:
        status = Text(d.status, style=styles[d.status])
        table.add_row(d.role, d.name, _versions(d.versions_a), _versions(d.versions_b), status)
    _section(console, "Datasets", table, empty="no datasets recorded")
    table = _table("", "A", "B")
    for e in diff.environment:
        table.add_row(e.name, _cell(e.a), Text(_cell(e.b), style="yellow" if e.differs else ""))
    console.print(Text("Environment", style="bold"))
    console.print(table)
