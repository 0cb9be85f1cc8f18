"""``mltrail monitor calibrate``: fit performance estimation's calibration on a labelled reference file and
keep it on the monitor (the database directly or a team server)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pyarrow as pa
import typer

from mltrail.cli.monitoring.common import MonitorArg, monitoring, open_data
from mltrail.cli.registry.common import JsonOpt, UserOpt
from mltrail.cli.render import echo_json, json_safe, stdout_console
from mltrail.services.monitoring.estimation import calibration_from_table

__all__ = ["calibrate"]


def calibrate(
    ctx: typer.Context,
    name: MonitorArg,
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE",
            help="Parquet or CSV of labelled reference rows with the predicted class and probabilities"
            " (score, or one score_<class> column per class).",
        ),
    ],
    label: Annotated[
        str, typer.Option("--label", help="The column of true classes (true values for regression).")
    ],
    prediction: Annotated[
        str | None, typer.Option(help="The column of predicted classes (default: the monitor's).")
    ] = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Calibrate performance estimation before labels (CBPE; DLE for regression) on a labelled file."""
    client = monitoring(ctx, user)
    monitor = client.get(name)
    data = open_data(file, field="file")
    table = pa.Table.from_batches(list(data.batches()))
    doc = calibration_from_table(
        table,
        label=label,
        prediction=prediction or monitor.prediction,
        task=monitor.task,
        features=monitor.features,
    )
    monitor = client.calibrate(name, doc)
    regression = doc["method"] == "dle"
    columns = doc["inputs"] if regression else [c["column"] for c in doc["classes"]]
    summary = {
        "monitor": monitor.name,
        "method": doc["method"],
        "kind": "regression" if regression else doc["kind"],
        "rows": doc["rows"],
        "columns": columns,
    }
    if as_json:
        echo_json({"calibration": json_safe(summary)})
        return
    if regression:
        stdout_console().print(
            f"Fitted the loss models of {monitor.name} on {doc['rows']:,} labelled rows (inputs"
            f" {', '.join(columns)}): batches ingested from now on get MAE and RMSE estimated before labels."
        )
        return
    stdout_console().print(
        f"Calibrated {monitor.name} on {doc['rows']:,} labelled rows ({doc['kind']},"
        f" probabilities from {', '.join(columns)}): its reports now estimate accuracy,"
        " precision, recall, F1 and ROC AUC per window before labels arrive."
    )
