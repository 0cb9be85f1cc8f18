"""``mltrail runs tables``, ``runs table`` and ``runs samples``: a run's evaluation tables, a page of one
(filtered and sorted where it lives), and which samples got worse between two runs."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from mltrail.cli.context import services
from mltrail.cli.render import echo_json, format_bytes, format_number, format_value, stdout_console
from mltrail.entities import RunTable

__all__ = ["register"]

ProjectOpt = Annotated[str | None, typer.Option("--project", "-p", help="Look runs up in this project only.")]
JsonOpt = Annotated[
    bool, typer.Option("--json", help='Print JSON on stdout (non-finite numbers as "NaN", "Infinity"…).')
]
StepOpt = Annotated[int | None, typer.Option("--step", help="The table's step (default: its last).")]


def register(app: typer.Typer) -> None:
    app.command("tables")(list_tables)
    app.command("table")(show_table)
    app.command("samples")(compare_samples)


def list_tables(
    ctx: typer.Context,
    run: Annotated[str, typer.Argument(help="A run id, a unique id prefix, or a unique run name.")],
    project: ProjectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List a run's evaluation tables: name, step, kind, rows and size."""
    runs = services(ctx).runs()
    found = runs.get(run, project)
    tables = runs.tables(found.id)
    if as_json:
        echo_json({"run_id": found.id, "tables": [dataclasses.asdict(t) for t in tables]})
        return
    console = stdout_console()
    if not tables:
        console.print(f"Run {found.id[:8]} ({found.name}) has no tables.")
        return
    out = Table(box=None, header_style="bold")
    for name, justify in (
        ("name", "left"),
        ("step", "right"),
        ("kind", "left"),
        ("rows", "right"),
        ("size", "right"),
    ):
        out.add_column(name, justify=justify)  # type: ignore[arg-type]
    for t in tables:
        out.add_row(t.name, str(t.step), t.kind, format_number(t.rows), format_bytes(t.size))
    console.print(out)


def show_table(
    ctx: typer.Context,
    run: Annotated[str, typer.Argument(help="A run id, a unique id prefix, or a unique run name.")],
    name: Annotated[str, typer.Argument(help="The table's name.")],
    step: StepOpt = None,
    filter_text: Annotated[
        str | None,
        typer.Option("--filter", "-f", help="A filter over the columns, e.g. 'y_true = 1 and proba < 0.5'."),
    ] = None,
    sort: Annotated[
        list[str] | None,
        typer.Option("--sort", "-s", help="A column to sort by, -col for descending; repeatable."),
    ] = None,
    columns: Annotated[
        str | None, typer.Option("--columns", "-c", help="Comma-separated columns to show.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="Rows per page (0-1000).")] = 20,
    offset: Annotated[int, typer.Option("--offset", help="Skip this many rows first.")] = 0,
    project: ProjectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show a table: its figures (for predictions: accuracy, per-class metrics and the confusion matrix, or
    the residuals of a regression) and a page of its rows, filtered and sorted on the server."""
    runs = services(ctx).runs()
    found = runs.get(run, project)
    table = runs.table(found.id, name, step)
    chosen = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
    page = runs.table_rows(
        found.id,
        name,
        step=table.step,
        filter=filter_text,
        sort=sort or [],
        offset=offset,
        limit=limit,
        columns=chosen,
    )
    if as_json:
        echo_json({"table": dataclasses.asdict(table), "page": dataclasses.asdict(page)})
        return
    console = stdout_console()
    console.print(
        Text(f"{name} of run {found.id[:8]} ({found.name}), step {table.step}: ", style="bold")
        + Text(f"{table.kind}, {format_number(table.rows)} rows, {len(table.columns)} columns")
    )
    _print_figures(table)
    out = Table(box=None, header_style="bold")
    for column in page.columns:
        out.add_column(column.name, overflow="fold", max_width=40)
    for row in page.rows:
        out.add_row(*(format_value(v) for v in row))
    console.print(out)
    last = page.offset + len(page.rows)
    console.print(
        Text(f"rows {page.offset + 1 if page.rows else 0}–{last} of {format_number(page.total)}", style="dim")
    )


def _print_figures(table: RunTable) -> None:
    summary = table.summary
    console = stdout_console()
    if summary.get("task") == "regression":
        figures = ("mae", "rmse", "bias", "r2")
        console.print("  ".join(f"{k} {format_number(summary.get(k))}" for k in figures))
        return
    if summary.get("task") != "classification":
        return
    accuracy, macro_f1 = format_number(summary.get("accuracy")), format_number(summary.get("macro_f1"))
    line = f"accuracy {accuracy}  macro F1 {macro_f1}"
    if summary.get("log_loss") is not None:
        line += f"  log loss {format_number(summary['log_loss'])}"
    console.print(line)
    per_class = Table(box=None, header_style="bold")
    for column in ("class", "precision", "recall", "F1", "support", "AUC"):
        per_class.add_column(column, justify="left" if column == "class" else "right")
    roc = summary.get("roc") or {}
    for label, figures in (summary.get("per_class") or {}).items():
        auc = (roc.get(label) or {}).get("auc")
        per_class.add_row(
            label,
            format_number(figures.get("precision")),
            format_number(figures.get("recall")),
            format_number(figures.get("f1")),
            format_number(figures.get("support")),
            format_number(auc) if auc is not None else "",
        )
    console.print(per_class)
    classes = summary.get("classes") or []
    if 0 < len(classes) <= 20:
        console.print(_matrix("confusion (rows: truth, columns: prediction)", classes, summary["confusion"]))


def _matrix(title: str, classes: list[str], cells: list[list[int]], signed: bool = False) -> Table:
    out = Table(title=title, title_justify="left", box=None, header_style="bold")
    out.add_column("")
    for label in classes:
        out.add_column(label, justify="right")
    for label, row in zip(classes, cells, strict=True):
        out.add_row(label, *((f"{v:+d}" if signed and v else str(v)) for v in row))
    return out


def compare_samples(
    ctx: typer.Context,
    run_a: Annotated[str, typer.Argument(help="The earlier run (id, unique prefix or name).")],
    run_b: Annotated[str, typer.Argument(help="The later run.")],
    table: Annotated[str, typer.Option("--table", "-t", help="The predictions table both runs logged.")],
    step_a: Annotated[int | None, typer.Option("--step-a", help="Run a's step of the table.")] = None,
    step_b: Annotated[int | None, typer.Option("--step-b", help="Run b's step of the table.")] = None,
    slices: Annotated[
        list[str] | None,
        typer.Option("--slice", help="A feature column to slice by; repeatable (default: features)."),
    ] = None,
    bins: Annotated[int, typer.Option("--bins", help="Quantile bins of a numeric feature.")] = 10,
    min_rows: Annotated[int, typer.Option("--min-rows", help="Smallest slice listed.")] = 10,
    pairs: Annotated[
        bool, typer.Option("--pairs/--no-pairs", help="Also slice by pairs of features.")
    ] = True,
    top: Annotated[int, typer.Option("--top", help="How many slices to list.")] = 10,
    limit: Annotated[int, typer.Option("--limit", "-n", help="Samples listed per group.")] = 10,
    offset: Annotated[int, typer.Option("--offset", help="Skip this many samples of each list first.")] = 0,
    project: ProjectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Which samples got worse from run A to run B: rows joined by id, right→wrong and back, the largest
    rises in loss, the change of the confusion matrix, and the slices where the error rose most (ranked by a
    95% lower bound of the rise, so a slice of five rows does not top the list; see docs/TABLES.md)."""
    _system_allocator()
    runs = services(ctx).runs()
    found = runs.samples(
        run_a,
        run_b,
        table,
        project=project,
        step_a=step_a,
        step_b=step_b,
        offset=offset,
        limit=limit,
        slices=slices,
        bins=bins,
        min_rows=min_rows,
        pairs=pairs,
        top=top,
    )
    if as_json:
        echo_json(found)
        return
    _print_samples(found)


def _system_allocator() -> None:
    """Arrow's buffers from the C library's allocator for this short process. pyarrow's default, mimalloc,
    hands freed pages back to the system within milliseconds and takes them again on the next table: two
    1,000,000-row tables cost 0.6–0.7 s of system time that way, 0.3 s with malloc (measured with
    ``benchmarks/samples_speed.py``). A long-lived server keeps the default."""
    import pyarrow as pa

    pa.set_memory_pool(pa.system_memory_pool())


def _print_samples(found: dict[str, Any]) -> None:
    console = stdout_console()
    a, b = found["a"], found["b"]
    console.print(
        Text(
            f"{found['table']}: run a {a['run_id'][:8]} (step {a['step']}) → run b {b['run_id'][:8]} "
            f"(step {b['step']}), {found['task']}",
            style="bold",
        )
    )
    console.print(
        f"{format_number(found['matched'])} samples in both; {format_number(found['only_a'])} only in a, "
        f"{format_number(found['only_b'])} only in b"
    )
    what = "error rate" if found["task"] == "classification" else "mean absolute error"
    console.print(f"{what}: {format_number(found['error_a'])} → {format_number(found['error_b'])}")
    for key, title in (("right_to_wrong", "right → wrong"), ("wrong_to_right", "wrong → right")):
        group = found.get(key)
        if group is None:
            continue
        console.print(Text(f"{title}: {format_number(group['count'])}", style="bold"))
        if group["rows"]:
            out = Table(box=None, header_style="bold")
            for column in ("id", "y_true", "y_pred a", "y_pred b"):
                out.add_column(column)
            for row in group["rows"]:
                out.add_row(*(format_value(row[k]) for k in ("id", "y_true", "y_pred_a", "y_pred_b")))
            console.print(out)
    if found["largest_changes"]:
        console.print(Text(f"largest rises in {found['loss'].replace('_', ' ')}", style="bold"))
        out = Table(box=None, header_style="bold")
        for column in ("id", "a", "b", "change"):
            out.add_column(column, justify="left" if column == "id" else "right")
        for row in found["largest_changes"]:
            out.add_row(
                format_value(row["id"]),
                format_number(row["loss_a"]),
                format_number(row["loss_b"]),
                f"+{format_number(row['change'])}",
            )
        console.print(out)
    confusion = found.get("confusion")
    if confusion and 0 < len(confusion["classes"]) <= 20:
        console.print(
            _matrix("confusion change (b − a; rows: truth)", confusion["classes"], confusion["change"], True)
        )
    if found["slices"]:
        console.print(Text("slices where the error rose most", style="bold"))
        out = Table(box=None, header_style="bold")
        for column in ("slice", "rows", "a", "b", "rise", "lower 95%", "z", "p"):
            out.add_column(column, justify="left" if column == "slice" else "right")
        for s in found["slices"]:
            out.add_row(
                ", ".join(f"{k}={v}" for k, v in s["slice"].items()),
                format_number(s["rows"]),
                format_number(s["error_a"]),
                format_number(s["error_b"]),
                f"{s['rise']:+.4g}",
                f"{s['lower']:+.4g}",
                format_number(s["z"]),
                format_number(s["p"]),
            )
        console.print(out)
    elif found["slice_columns"]:
        console.print("No slice of at least --min-rows rows got worse.")
