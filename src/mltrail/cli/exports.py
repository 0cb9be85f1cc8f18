"""``mltrail export``: write mltrail's history into another tracker (MLflow), so nobody is locked in."""

from __future__ import annotations

from typing import Annotated

import typer

from mltrail.cli.context import services

__all__ = ["app"]

app = typer.Typer(help="Write mltrail's history into another tracker (MLflow).", no_args_is_help=True)


@app.callback()
def exports() -> None:
    """Write mltrail's history into another tracker (MLflow)."""


@app.command("mlflow")
def export_mlflow(
    ctx: typer.Context,
    target: Annotated[
        str,
        typer.Option(
            "--to",
            help="an MLflow file store (./mlruns), database (sqlite:///mlflow.db) or tracking server"
            " (http://host:5000); written with MLflow's client, which must be installed",
        ),
    ],
    projects: Annotated[
        list[str] | None,
        typer.Option("--project", "-p", help="export only this project (repeat for more); default: all"),
    ] = None,
) -> None:
    """Export projects as experiments, runs (params, tags, full metric histories, times, users, artifacts)
    and registered models (versions, stages, aliases) to MLflow. Runs exported before are skipped."""
    from mltrail.cli.progress import step_bars
    from mltrail.sdk.imports.mlflow_export import MlflowExporter, mlflow_uri

    container = services(ctx).container()
    exporter = MlflowExporter(container.tracking, container.artifacts, container.registry, mlflow_uri(target))
    with step_bars("exporting") as progress:
        report = exporter.export(projects or (), progress)
    typer.echo(
        f"{report.experiments} experiments; runs: {report.runs_exported} exported,"
        f" {report.runs_skipped} already there; {report.metric_points} metric points;"
        f" {report.artifacts} artifact files; models: {report.models}, versions:"
        f" {report.versions_exported} exported, {report.versions_skipped} already there;"
        f" {report.aliases} aliases"
    )
    for problem in report.problems:
        typer.echo(f"note: {problem}", err=True)
