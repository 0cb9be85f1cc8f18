"""``mltrail monitor``: production monitoring — create, ingest, labels, reports — on the database directly or
on a team server (``CliContext.connection()``), through the SDK's ``MonitorClient``."""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import pyarrow as pa
import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from mltrail.cli.context import services
from mltrail.cli.monitoring import alerts as monitor_alerts
from mltrail.cli.monitoring.calibrate import calibrate
from mltrail.cli.monitoring.common import (
    MonitorArg,
    alerts_of_period,
    echo_report_json,
    granularity_of,
    monitoring,
    open_data,
    period,
)
from mltrail.cli.monitoring.report_views import render_report
from mltrail.cli.monitoring.views import monitor_panel, monitors_table, rules_table, schema_table
from mltrail.cli.registry.common import JsonOpt, UserOpt, registry
from mltrail.cli.render import echo_json, json_safe, stderr_console, stdout_console
from mltrail.entities import Monitor
from mltrail.errors import InvalidInputError
from mltrail.render.html_report import render_report_html
from mltrail.sdk.monitoring.client import IngestOutcome
from mltrail.services.monitoring.baseline import launch_day
from mltrail.services.monitoring.estimation import calibration_from_table, probability_columns
from mltrail.services.monitoring.segments import profile_reference
from mltrail.stats.profile import profile_batches

__all__ = ["app"]

app = typer.Typer(
    help="Production monitoring: drift, missing values, validation and performance of a model version.",
    no_args_is_help=True,
)
FileArg = Annotated[Path, typer.Argument(metavar="FILE", help="A Parquet or CSV file.")]


@app.command("create")
def create(
    ctx: typer.Context,
    name: MonitorArg,
    model: Annotated[
        str,
        typer.Option(
            "--model",
            help="The version to watch: NAME:VERSION, or NAME@ALIAS or NAME@STAGE (followed as it moves).",
        ),
    ],
    reference: Annotated[
        Path | None,
        typer.Option(help="Parquet or CSV of the reference data (default: the run's training dataset)."),
    ] = None,
    segment: Annotated[
        list[str] | None,
        typer.Option("--segment", help="A column (one segment per value) or a condition; repeatable."),
    ] = None,
    granularity: Annotated[str, typer.Option(help="Window size: day or hour.")] = "day",
    task: Annotated[str, typer.Option(help="classification or regression.")] = "classification",
    feature: Annotated[
        list[str] | None,
        typer.Option("--feature", "-f", help="A watched input column; repeatable (default: the signature)."),
    ] = None,
    prediction: Annotated[str, typer.Option(help="The column holding the model's output.")] = "prediction",
    label: Annotated[
        str | None,
        typer.Option(
            help="The reference's column of true classes: calibrate performance estimation on it and the"
            " reference's probabilities (score or score_<class>), as `monitor calibrate` does."
        ),
    ] = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a monitor of a registered model version against its training data."""
    client = monitoring(ctx, user)
    version = registry(ctx, user).resolve(model)
    features = list(feature or [])
    ref_profile = None
    calibration = None
    if label is not None and reference is None:
        raise InvalidInputError("--label needs a --reference file with labels", field="label")
    if reference is not None:
        data = open_data(reference, field="reference")
        wanted = features or _signature_inputs(version.signature)
        columns = [c for c in [*wanted, prediction] if c in data.columns] if wanted else None
        if label is not None:
            table = pa.Table.from_batches(list(data.batches()))
            inputs = wanted or [c for c in data.columns if c not in (label, prediction)]
            calibration = calibration_from_table(
                table, label=label, prediction=prediction, task=task, features=inputs
            )
            skip = {label, *probability_columns(data.columns)}
            columns = [c for c in (columns or data.columns) if c not in skip]
        ref_profile = profile_batches(data.batches(columns), columns=columns)
    monitor = client.create(
        name,
        model,
        reference=ref_profile,
        features=features or None,
        prediction=prediction,
        task=task,
        granularity=granularity,
        segments=list(segment or []),
        drift=None,
        reference_source=None if reference is None else f"file {reference.name}",
        calibration=calibration,
    )
    if as_json:
        echo_json({"monitor": _monitor_json(monitor)})
        return
    console = stdout_console()
    console.print(monitor_panel(monitor))
    rules = len(dict(monitor.schema.get("columns") or {}))
    console.print(
        f"Watching {len(monitor.features)} features of {version.ref} against {monitor.reference_source};"
        f" {rules} validation rules inferred from the reference."
    )
    if monitor.alias:
        console.print(f"It follows {monitor.model}@{monitor.alias} to whichever version that names.")


def _signature_inputs(signature: Mapping[str, Any] | None) -> list[str]:
    inputs = (signature or {}).get("inputs")
    fields = inputs.get("fields") if isinstance(inputs, Mapping) else None
    return [f["name"] for f in fields or [] if isinstance(f, Mapping) and isinstance(f.get("name"), str)]


def _monitor_json(monitor: Monitor) -> dict[str, Any]:
    data: dict[str, Any] = json_safe(monitor)
    data.pop("reference", None)  # the profile's bytes
    return data


@app.command("set-reference")
def set_reference(
    ctx: typer.Context,
    name: MonitorArg,
    file: Annotated[
        Path | None,
        typer.Argument(metavar="[FILE]", help="A Parquet or CSV file of reference rows (or --from-run)."),
    ] = None,
    from_run: Annotated[
        str | None,
        typer.Option(
            "--from-run",
            help="A run (id, prefix or name) whose logged dataset becomes the reference; one holding the"
            " model's output is taken first.",
        ),
    ] = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Replace a monitor's reference at any time and compute its kept figures again: give the model's
    output column in it, so the output is no longer compared with the first day of traffic."""
    if (file is None) == (from_run is None):
        raise InvalidInputError("give a FILE or --from-run RUN (one of them)", field="reference")
    client = monitoring(ctx, user)
    monitor = client.get(name)
    if from_run is not None:
        updated = client.set_reference(monitor.name, run=from_run)
    else:
        assert file is not None
        data = open_data(file, field="reference")
        table = pa.Table.from_batches(list(data.batches()))
        profile = profile_reference(table, monitor.segments)
        source = f"file {file.name}"
        updated = client.set_reference(monitor.name, reference=profile, reference_source=source)
    if as_json:
        echo_json({"monitor": _monitor_json(updated)})
        return
    console = stdout_console()
    console.print(f"{updated.name} is now compared with {updated.reference_source}; kept figures recomputed.")
    day = launch_day(updated)
    if day is not None:  # the new reference has no output column
        console.print(
            Text(
                f"It has no {updated.prediction} column: the output is compared with its first whole day of"
                f" traffic, {day} (a model wrong from day one looks normal).",
                style="yellow",
            )
        )


@app.command("list")
def list_monitors(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """List monitors with their model version, last window and open alerts."""
    summaries = monitoring(ctx).summaries()
    monitors = [s.monitor for s in summaries]
    last = {s.monitor.id: s.last_window for s in summaries}
    open_alerts = {s.monitor.id: s.open_alerts for s in summaries}
    if as_json:
        echo_json(
            {
                "monitors": [
                    {**_monitor_json(m), "last_window": last[m.id], "open_alerts": open_alerts[m.id]}
                    for m in monitors
                ]
            }
        )
        return
    console = stdout_console()
    if not monitors:
        console.print("No monitors. Create one with `mltrail monitor create NAME --model REF`.")
        return
    console.print(monitors_table(monitors, last, open_alerts))


@app.command("show")
def show(ctx: typer.Context, name: MonitorArg, as_json: JsonOpt = False) -> None:
    """Show a monitor's configuration, validation schema and alert rules."""
    client = monitoring(ctx)
    monitor = client.get(name)
    rules = client.rules(monitor)
    if as_json:
        echo_json({"monitor": _monitor_json(monitor), "rules": rules})
        return
    console = stdout_console()
    console.print(monitor_panel(monitor, rules=len(rules)))
    console.print(schema_table(monitor.schema))
    console.print(Text(""))
    if rules:
        console.print(rules_table(rules))
    else:
        console.print(Text("No alert rules; add one with `mltrail monitor alerts add`.", style="dim"))


@app.command("delete")
def delete(
    ctx: typer.Context,
    name: MonitorArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Delete a monitor with its windows, rules and alerts (the registry's model is not touched)."""
    client = monitoring(ctx)
    monitor = client.get(name)
    if not yes:
        typer.confirm(
            f"Delete monitor {monitor.name} of {monitor.model or '-'} with its windows, rules and alerts?",
            abort=True,
            err=True,
        )
    client.delete(monitor.name)
    if as_json:
        echo_json({"monitor": monitor.name, "deleted": True})
        return
    stdout_console().print(f"Deleted monitor {monitor.name}.")


@app.command("ingest")
def ingest(ctx: typer.Context, name: MonitorArg, file: FileArg, as_json: JsonOpt = False) -> None:
    """Ingest a file of predictions (features, prediction, optional timestamp, id and score columns); to a
    server each batch goes as one Arrow upload under its own idempotency key, so a retry lands once."""
    client = monitoring(ctx)
    monitor = client.get(name)
    data = open_data(file)
    open_before = {a.id for a in client.list_alerts(monitor, "open", 1000)}
    started = time.perf_counter()
    done = IngestOutcome(0)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=stderr_console(), transient=True) as progress:
        task = progress.add_task(f"ingesting {file.name}", total=data.rows)
        for batch in data.batches():
            table = pa.Table.from_batches([batch])
            done += client.ingest_batch(monitor.name, table, key=f"cli-{uuid.uuid4().hex}")
            progress.update(task, advance=batch.num_rows)
    rows, windows, violations = done.rows, done.windows, done.violations
    elapsed = max(time.perf_counter() - started, 1e-9)
    client.flush()  # embedded: the notifications of the alerts this command opened go out before it exits
    opened = [a for a in client.list_alerts(monitor, "open", 1000) if a.id not in open_before]
    if as_json:
        echo_json(
            {
                "monitor": monitor.name,
                "rows": rows,
                "seconds": elapsed,
                "windows": sorted(windows),
                "violations": violations,
                "alerts_opened": opened,
            }
        )
        return
    console = stdout_console()
    console.print(
        f"Ingested {rows:,} rows into {monitor.name} in {elapsed:.2f}s ({rows / elapsed:,.0f} rows/s),"
        f" {len(windows)} {monitor.granularity} window{'s' if len(windows) != 1 else ''}."
    )
    if violations:
        table = Table(title="Violations", title_justify="left", title_style="bold", box=None)
        table.add_column("rule")
        table.add_column("rows", justify="right")
        for rule, n in sorted(violations.items(), key=lambda kv: -kv[1]):
            table.add_row(Text(rule), f"{n:,}")
        console.print(table)
    else:
        console.print(Text("No validation violations.", style="green"))
    for alert in opened:
        where = f" on {alert.feature}" if alert.feature else ""
        console.print(
            Text(f"Alert {alert.id} opened: {alert.metric}{where} = {alert.value:.4g}", style="bold red")
        )


@app.command("labels")
def labels(
    ctx: typer.Context,
    name: MonitorArg,
    file: FileArg,
    id_column: Annotated[str, typer.Option("--id-column", help="The request id column.")] = "id",
    label_column: Annotated[str, typer.Option("--label-column", help="The ground truth column.")] = "label",
    as_json: JsonOpt = False,
) -> None:
    """Log delayed labels (ground truth), joined to earlier predictions by request id."""
    client = monitoring(ctx)
    monitor = client.get(name)
    data = open_data(file)
    for column in (id_column, label_column):
        if column not in data.columns:
            raise InvalidInputError(f"{file} has no column {column!r}", field=column)
    matched = unknown = 0
    for batch in data.batches([id_column, label_column]):
        ids = batch.column(id_column).to_pylist()
        values = batch.column(label_column).to_pylist()
        m, u = client.log_labels(monitor.name, ids, values)
        matched, unknown = matched + m, unknown + u
    client.flush()
    if as_json:
        echo_json({"monitor": monitor.name, "matched": matched, "unknown": unknown})
        return
    stdout_console().print(
        f"{matched:,} labels matched a prediction; {unknown:,} ids were unknown"
        + (" (counted on the monitor)." if unknown else ".")
    )


@app.command("report")
def report(
    ctx: typer.Context,
    name: MonitorArg,
    window: Annotated[str | None, typer.Option(help="1d or 1h (default: the monitor's).")] = None,
    last: Annotated[str, typer.Option(help="The period back from --until (or now): 30d, 12h…")] = "30d",
    since: Annotated[str | None, typer.Option(help="Start: epoch seconds, ISO time or 7d.")] = None,
    until: Annotated[str | None, typer.Option(help="End (exclusive), as --since.")] = None,
    html: Annotated[Path | None, typer.Option(help="Also write the self-contained HTML report here.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Drift, missing values, validation and performance per window, per feature and per segment."""
    client = monitoring(ctx)
    monitor = client.get(name)
    start, end = period(last, since, until)
    granularity = granularity_of(window)
    data = client.report(monitor.name, granularity=granularity, since=start, until=end)
    alerts = alerts_of_period(client, monitor, start, end)
    if html is not None:
        if services(ctx).connection().embedded:
            page = render_report_html(data)
        else:  # rendered by the server, from the same report
            page = client.report_html(monitor.name, granularity=granularity, since=start, until=end)
        target = html.expanduser()
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(page, encoding="utf-8")
    if as_json:
        echo_report_json(data)
        return
    console = stdout_console()
    console.print(render_report(data, alerts, monitor))
    if html is not None:
        console.print(f"HTML report written to {html.expanduser().resolve()}")


app.command("calibrate")(calibrate)
app.add_typer(monitor_alerts.app, name="alerts")
