"""``mltrail import``: bring another tracker's history into mltrail (MLflow's file store)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mltrail.cli.context import services

__all__ = ["app"]

app = typer.Typer(help="Bring another tracker's history into mltrail (MLflow).", no_args_is_help=True)


@app.callback()
def imports() -> None:
    """Bring another tracker's history into mltrail (MLflow)."""


@app.command("mlflow")
def import_mlflow(
    ctx: typer.Context,
    source: Annotated[
        str,
        typer.Option(
            "--from",
            help="an MLflow file store (./mlruns), tracking server (http://host:5000) or database"
            " (sqlite:///mlflow.db; the last two read with MLflow's client, which must be installed)",
        ),
    ],
) -> None:
    """Import experiments, runs (params, metric histories, tags, times, users, artifacts) and registered
    models (versions, stages, aliases) from MLflow. Runs imported before are skipped."""
    from mltrail.cli.progress import step_bars
    from mltrail.sdk.imports.mlflow_client import MlflowClientSource
    from mltrail.services.mlflow.file_store import MlflowFileStore
    from mltrail.services.mlflow.importer import MlflowImporter

    container = services(ctx).container(must_exist=False)
    importer = MlflowImporter(
        container.store, container.tracking, container.artifacts, container.mlflow_models
    )
    with step_bars("importing") as progress:
        if source.startswith(("http://", "https://", "sqlite:", "postgresql", "mysql", "mssql")):
            report = importer.import_from(MlflowClientSource(source), progress)
        else:
            report = importer.import_from(
                MlflowFileStore(Path(source.removeprefix("file://")).expanduser()), progress
            )
    typer.echo(
        f"{report.experiments} experiments; runs: {report.runs_imported} imported,"
        f" {report.runs_skipped} already there; {report.metric_points} metric points;"
        f" {report.artifacts} artifact files; models:"
        f" {report.models}, versions: {report.versions_imported} imported, {report.versions_skipped} already"
        f" there; {report.aliases} aliases"
    )
    for problem in report.problems:
        typer.echo(f"note: {problem}", err=True)
