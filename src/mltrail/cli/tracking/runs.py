"""``mltrail runs``: list, show, diff, reproduce, delete runs and print a metric's history."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from mltrail.cli.context import services
from mltrail.cli.render import (
    echo_json,
    format_number,
    format_timestamp,
    sparkline,
    stderr_console,
    stdout_console,
)
from mltrail.cli.tracking.run_views import (
    fit_columns,
    parse_columns,
    render_diff,
    render_run,
    runs_table,
    varying_columns,
)
from mltrail.entities import Run
from mltrail.query import parse_filter, parse_sorts
from mltrail.services.tracking.run_diff import compare_runs

__all__ = ["app", "run_to_dict"]

JSON_NOTE = 'Non-finite numbers are written as the strings "NaN", "Infinity" and "-Infinity".'

app = typer.Typer(help="Runs: list, inspect, compare, reproduce and delete them.", no_args_is_help=True)

RunArg = Annotated[str, typer.Argument(help="A run id, a unique id prefix, or a unique run name.")]
ProjectOpt = Annotated[
    str | None, typer.Option("--project", "-p", help="Look the run up in this project only.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help=f"Print JSON on stdout. {JSON_NOTE}")]


def run_to_dict(run: Run, context: bool = True) -> dict[str, Any]:
    """A run as plain data, with its duration; ``context`` (git, command, environment) is optional."""
    out = {f.name: getattr(run, f.name) for f in dataclasses.fields(run)}
    out["duration"] = run.duration
    if not context:
        del out["context"]
    return out


@app.command("list")
def list_runs(
    ctx: typer.Context,
    project: Annotated[str, typer.Argument(help="The project to list.")],
    filter_text: Annotated[
        str | None,
        typer.Option("--filter", "-f", help="A filter, e.g. 'metrics.acc > 0.9 and params.opt = \"adam\"'."),
    ] = None,
    sort: Annotated[
        list[str] | None,
        typer.Option("--sort", "-s", help="Sort key, e.g. -metrics.acc or 'params.lr desc'; repeatable."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many runs to show (1-1000).")] = 50,
    offset: Annotated[int, typer.Option("--offset", help="Skip this many runs first.")] = 0,
    columns: Annotated[
        list[str] | None,
        typer.Option(
            "--columns",
            "-c",
            help="Comma-separated extra columns: params.KEY, metrics.KEY, min(metrics.KEY), "
            "max(metrics.KEY), tags.KEY, summary.KEY. Default: params and metrics that differ between "
            "the listed runs.",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help=f"Print the page as JSON (without run context). {JSON_NOTE}")
    ] = False,
) -> None:
    """List a project's runs, filtered and sorted, newest first by default."""
    expr = parse_filter(filter_text) if filter_text else None
    sort_keys = parse_sorts(list(sort or []))
    chosen = parse_columns(columns) if columns else None
    page = services(ctx).tracking.search_runs(
        project, filter=expr, sort=sort_keys, offset=offset, limit=limit
    )
    if as_json:
        echo_json(
            {
                "project": project,
                "total": page.total,
                "offset": page.offset,
                "limit": page.limit,
                "runs": [run_to_dict(r, context=False) for r in page.runs],
            }
        )
        return
    console = stdout_console()
    if not page.runs:
        console.print(f"No runs in {project}" + (" match the filter." if expr else "."))
        return
    hidden = 0
    if chosen is None:
        sort_columns = [k.field if k.agg == "last" else f"{k.agg}({k.field})" for k in sort_keys]
        automatic = varying_columns(page.runs)
        automatic += [c for c in sort_columns if "." in c and c not in automatic]
        chosen, hidden = fit_columns(page.runs, automatic, console.width, keep=sort_columns)
    console.print(runs_table(page.runs, chosen))
    shown = f"{page.offset + 1}-{page.offset + len(page.runs)}"
    note = f"; {hidden} more columns fit a wider terminal, or pick them with --columns" if hidden else ""
    console.print(Text(f"{shown} of {page.total} runs{note}", style="dim"))


@app.command("show")
def show_run(ctx: typer.Context, run: RunArg, project: ProjectOpt = None, as_json: JsonOpt = False) -> None:
    """Show one run: overview, params, metrics, tags, summary, datasets, artifacts, code and environment."""
    state = services(ctx)
    found = state.tracking.get_run(run, project)
    datasets = state.datasets.for_run(found.id)
    artifacts = state.artifacts.list(found.id)
    if as_json:
        echo_json({"run": run_to_dict(found), "datasets": datasets, "artifacts": artifacts})
        return
    stdout_console().print(render_run(found, datasets, artifacts))


@app.command("diff")
def diff_runs(
    ctx: typer.Context,
    run_a: Annotated[str, typer.Argument(help="Run A: id, id prefix or name.")],
    run_b: Annotated[str, typer.Argument(help="Run B: id, id prefix or name.")],
    project: ProjectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Compare two runs: params, metrics, code (commit and uncommitted changes), packages, datasets and
    environment."""
    state = services(ctx)
    diff = compare_runs(state.tracking, state.datasets, state.artifacts, run_a, run_b, project)
    if as_json:
        echo_json(diff.to_dict())
        return
    render_diff(diff, stdout_console())


@app.command("reproduce")
def reproduce_run(
    ctx: typer.Context,
    run: RunArg,
    into: Annotated[Path, typer.Option("--into", help="A new or empty folder to rebuild the run in.")],
    project: ProjectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Rebuild a run's code (commit + uncommitted diff + entry script), run.sh, requirements.txt,
    config.json and REPRODUCE.md in a folder."""
    result = services(ctx).reproduce.reproduce(run, into, project)
    if as_json:
        echo_json(result)
        return
    console = stdout_console()
    console.print(Text(f"Reproduced run {result.run_id[:8]} ({result.name}) in {result.into}", style="bold"))
    if result.git == "cloned":
        console.print(f"  code:          commit {str(result.commit)[:12]} from {result.code_source}")
    else:
        console.print(f"  code:          {result.git}")
    console.print(f"  uncommitted:   {result.patch}")
    console.print(f"  entry script:  {result.entry_script or '-'} ({result.entry_script_action})")
    console.print(f"  files:         {', '.join(result.files)}")
    for dataset in result.datasets:
        console.print(f"  dataset (not copied): {dataset}")
    errors = stderr_console()
    for warning in result.warnings:
        errors.print(Text(f"Warning: {warning}", style="yellow"), soft_wrap=True)
    console.print(f"Run it with: {result.into / 'run.sh'}  (see REPRODUCE.md)")


@app.command("delete")
def delete_run(
    ctx: typer.Context,
    run: RunArg,
    project: ProjectOpt = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a run with its params, metrics, dataset links and artifact records (blobs are kept, as other
    runs may share them)."""
    tracking = services(ctx).tracking
    found = tracking.get_run(run, project)
    if not yes:
        typer.confirm(
            f"Delete run {found.id[:8]} ({found.name}) of project {found.project}?", abort=True, err=True
        )
    tracking.delete_run(found.id)
    stdout_console().print(f"Deleted run {found.id[:8]} ({found.name}).")


@app.command("history")
def metric_history(
    ctx: typer.Context,
    run: RunArg,
    key: Annotated[str, typer.Argument(help="The metric, e.g. val/loss.")],
    project: ProjectOpt = None,
    max_points: Annotated[
        int | None,
        typer.Option(
            "--max-points", help="Downsample to about this many points, keeping each bucket's min and max."
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Print a metric's points (step, value, time) with a sparkline."""
    tracking = services(ctx).tracking
    run_id = tracking.resolve_run(run, project)
    history = tracking.metric_history(run_id, key, max_points=max_points)
    if as_json:
        points = [
            {"step": s, "value": v, "wall_time": w}
            for s, v, w in zip(history.steps, history.values, history.wall_times, strict=True)
        ]
        echo_json(
            {
                "run_id": history.run_id,
                "key": history.key,
                "total_points": history.total_points,
                "downsampled": history.downsampled,
                "points": points,
            }
        )
        return
    console = stdout_console()
    shown = (
        f"{len(history.steps)} of {history.total_points} points"
        if history.downsampled
        else (f"{history.total_points} points")
    )
    console.print(Text(f"{key} — run {run_id[:8]}, {shown}", style="bold"))
    console.print(sparkline(history.values))
    table = Table(box=None, header_style="bold")
    table.add_column("step", justify="right")
    table.add_column("value", justify="right")
    table.add_column("time")
    for step, value, wall in zip(history.steps, history.values, history.wall_times, strict=True):
        table.add_row(str(step), format_number(value), format_timestamp(wall))
    console.print(table)
