"""``mltrail runs``: list, show, diff, reproduce, delete runs, print a metric's history, list and download
artifacts — on the database or a team server alike (``CliContext.runs``)."""

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
    format_bytes,
    format_number,
    format_timestamp,
    sparkline,
    stderr_console,
    stdout_console,
)
from mltrail.cli.tracking.media_commands import register as register_media_commands
from mltrail.cli.tracking.run_views import (
    fit_columns,
    parse_columns,
    render_diff,
    render_run,
    runs_table,
    varying_columns,
)
from mltrail.cli.tracking.table_commands import register as register_table_commands
from mltrail.entities import Run
from mltrail.query import parse_filter, parse_sorts
from mltrail.sdk.tracking.reader import artifact_path
from mltrail.services.tracking.run_diff import compare_runs_from

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
    expr = parse_filter(filter_text) if filter_text else None  # a bad filter is refused before any request
    sort_keys = parse_sorts(list(sort or []))
    chosen = parse_columns(columns) if columns else None
    page = (
        services(ctx)
        .runs()
        .search(project, filter=filter_text or None, sort=list(sort or []), offset=offset, limit=limit)
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
    runs = services(ctx).runs()
    found = runs.get(run, project)
    datasets = runs.datasets(found.id)
    artifacts = runs.artifacts(found.id)
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
    diff = compare_runs_from(services(ctx).runs(), run_a, run_b, project)
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
    config.json and REPRODUCE.md in a folder (over a server: from the run's context and code/ artifacts)."""
    from mltrail.sdk.capture.git import apply_patch
    from mltrail.services.tracking.reproduce import Reproducer

    result = Reproducer(services(ctx).runs(), apply_patch).reproduce(run, into, project)
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
    runs = services(ctx).runs()
    found = runs.get(run, project)
    if not yes:
        typer.confirm(
            f"Delete run {found.id[:8]} ({found.name}) of project {found.project}?", abort=True, err=True
        )
    runs.delete(found.id)
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
    runs = services(ctx).runs()
    run_id = runs.get(run, project).id
    history = runs.history(run_id, key, max_points=max_points)
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


# Files at least this large get a progress bar while they download.
PROGRESS_BYTES = 8 << 20


@app.command("artifacts")
def list_artifacts(
    ctx: typer.Context,
    run: RunArg,
    prefix: Annotated[str | None, typer.Option("--prefix", help="Only artifacts under this folder.")] = None,
    project: ProjectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List a run's artifacts: path, size and the start of the sha256 they are verified against."""
    runs = services(ctx).runs()
    found = runs.get(run, project)
    artifacts = runs.artifacts(found.id, prefix)
    if as_json:
        echo_json({"run_id": found.id, "artifacts": artifacts})
        return
    console = stdout_console()
    if not artifacts:
        console.print(
            f"Run {found.id[:8]} ({found.name}) has no artifacts" + (f" under {prefix}." if prefix else ".")
        )
        return
    table = Table(box=None, header_style="bold")
    table.add_column("path")
    table.add_column("size", justify="right")
    table.add_column("sha256")
    for artifact in artifacts:
        table.add_row(artifact.path, format_bytes(artifact.size), artifact.digest[:12])
    console.print(table)
    total = sum(a.size for a in artifacts)
    console.print(Text(f"{len(artifacts)} artifacts, {format_bytes(total)}", style="dim"))


@app.command("download")
def download_artifact(
    ctx: typer.Context,
    run: RunArg,
    path: Annotated[str, typer.Argument(help="An artifact path, or a folder of artifacts (e.g. model).")],
    to: Annotated[
        Path, typer.Option("--to", help="The folder to download into (created if missing).")
    ] = Path(),
    project: ProjectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Download an artifact or a folder of them into --to, each file verified against its sha256 (a file
    that does not match is refused and nothing is left of it)."""
    clean = artifact_path(path)  # a path outside the run is refused before anything is asked
    runs = services(ctx).runs()
    found = runs.get(run, project)
    matching = [
        a for a in runs.artifacts(found.id, clean) if a.path == clean or a.path.startswith(clean + "/")
    ]
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    total = sum(a.size for a in matching)
    to.mkdir(parents=True, exist_ok=True)
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn())
    show = not as_json and total >= PROGRESS_BYTES
    progress = Progress(*columns, console=stderr_console(), transient=True, disable=not show)
    with progress:
        task = progress.add_task(clean, total=total)
        written = runs.download(found.id, clean, to, progress=lambda n: progress.advance(task, n))
    if as_json:
        echo_json(
            {"run_id": found.id, "path": clean, "to": str(written), "files": len(matching), "bytes": total}
        )
        return
    what = f"{len(matching)} files" if len(matching) != 1 else "1 file"
    stdout_console().print(f"Downloaded {what} ({format_bytes(total)}, verified) to {written}")


# ``runs tables``, ``runs table`` and ``runs samples`` live in their own module.
register_table_commands(app)
register_media_commands(app)
