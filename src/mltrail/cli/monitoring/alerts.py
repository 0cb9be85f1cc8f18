"""``mltrail monitor alerts``: alert rules of a monitor, and alerts from open to resolved with their trail; on
the database directly or on a team server, through the SDK's ``MonitorClient``."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.text import Text

from mltrail.cli.monitoring.common import MonitorArg, monitoring
from mltrail.cli.monitoring.views import alert_detail, alerts_table, model_ref, rules_table
from mltrail.cli.registry.common import JsonOpt, UserOpt, registry
from mltrail.cli.render import echo_json, stdout_console
from mltrail.entities import ALERT_METRICS, Alert, AlertState, ModelVersion, Monitor
from mltrail.errors import InvalidInputError, NotFoundError
from mltrail.services.monitoring.alerts import report_alert

__all__ = ["app"]

app = typer.Typer(help="Alert rules on monitored figures, and the alerts they raise.", no_args_is_help=True)
AlertArg = Annotated[int, typer.Argument(metavar="ALERT_ID", help="The alert's id.", min=1)]


@app.command("add")
def add(
    ctx: typer.Context,
    name: MonitorArg,
    metric: Annotated[str, typer.Option(help=f"What to watch: {', '.join(ALERT_METRICS)}.")],
    feature: Annotated[
        str | None, typer.Option(help="A monitored column, prediction, or * for each (drift, missing_rate).")
    ] = None,
    above: Annotated[float | None, typer.Option(help="Fire when the figure is above this.")] = None,
    below: Annotated[float | None, typer.Option(help="Fire when the figure is below this.")] = None,
    for_windows: Annotated[
        int, typer.Option("--for", help="…in this many consecutive windows.", min=1, max=1000)
    ] = 1,
    segment: Annotated[str | None, typer.Option(help="Watch one segment instead of all traffic.")] = None,
    notify: Annotated[
        list[str] | None,
        typer.Option(help="slack:URL, webhook:URL or email:ADDR[,ADDR]; repeatable."),
    ] = None,
    action: Annotated[
        str | None,
        typer.Option(
            help="rollback:DEPLOYMENT: roll that deployment back when the alert opens (its spec must say"
            ' "auto_rollback": true).'
        ),
    ] = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Add an alert rule to a monitor (evaluated whenever traffic or labels land)."""
    client = monitoring(ctx, user)
    monitor = client.get(name)
    rule = client.add_rule(
        monitor,
        metric=metric,
        feature=feature,
        segment=segment,
        above=above,
        below=below,
        for_windows=for_windows,
        notify=list(notify or []),
        action=action,
    )
    if as_json:
        echo_json({"rule": rule})
        return
    console = stdout_console()
    console.print(f"Added rule {rule.id} to {monitor.name}.")
    console.print(rules_table([rule], title=None))


@app.command("rules")
def rules(ctx: typer.Context, name: MonitorArg, as_json: JsonOpt = False) -> None:
    """List a monitor's active alert rules."""
    client = monitoring(ctx)
    monitor = client.get(name)
    found = client.rules(monitor)
    if as_json:
        echo_json({"monitor": monitor.name, "rules": found})
        return
    if not found:
        stdout_console().print(f"{monitor.name} has no alert rules.")
        return
    stdout_console().print(rules_table(found, title=None))


@app.command("remove")
def remove(
    ctx: typer.Context,
    rule_id: Annotated[int, typer.Argument(metavar="RULE_ID", help="The rule's id.", min=1)],
    as_json: JsonOpt = False,
) -> None:
    """Deactivate an alert rule; the alerts it raised are kept."""
    monitoring(ctx).delete_rule(rule_id)
    if as_json:
        echo_json({"rule": rule_id, "removed": True})
        return
    stdout_console().print(f"Removed alert rule {rule_id}.")


@app.command("evaluate")
def evaluate(ctx: typer.Context, name: MonitorArg, as_json: JsonOpt = False) -> None:
    """Evaluate the monitor's rules now over the windows already stored (a rule is also evaluated when it
    is added); prints the alerts this opened, which are notified like any other."""
    client = monitoring(ctx)
    monitor = client.get(name)
    opened = client.evaluate_rules(monitor)
    if as_json:
        echo_json({"alerts": [_alert_json(a, monitor) for a in opened]})
        return
    if not opened:
        stdout_console().print("No new alerts: every rule's condition is as its alerts say.")
        return
    stdout_console().print(alerts_table(opened, {monitor.id: monitor}))


@app.command("list")
def list_alerts(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(metavar="[NAME]", help="Only this monitor's alerts.")] = None,
    state: Annotated[str | None, typer.Option(help="open, acknowledged or resolved.")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="At most this many.", min=1, max=1000)] = 100,
    as_json: JsonOpt = False,
) -> None:
    """Alerts newest first, each with its model version and the run that trained it."""
    if state is not None and state not in {s.value for s in AlertState}:
        raise InvalidInputError("--state must be open, acknowledged or resolved", field="state")
    client = monitoring(ctx)
    monitor = client.get(name) if name else None
    found = client.list_alerts(monitor, state, limit)
    monitors = {monitor.id: monitor} if monitor is not None else {m.id: m for m in client.monitors()}
    if as_json:
        echo_json({"alerts": [_alert_json(a, monitors.get(a.monitor_id)) for a in found]})
        return
    if not found:
        stdout_console().print("No alerts" + (f" in state {state}." if state else "."))
        return
    stdout_console().print(alerts_table(found, monitors))


def _alert_json(alert: Alert, monitor: Monitor | None) -> dict[str, Any]:
    if monitor is None:
        return {"id": alert.id, "state": alert.state.value, "monitor_id": alert.monitor_id}
    return report_alert(alert, monitor)


@app.command("ack")
def acknowledge(
    ctx: typer.Context, alert_id: AlertArg, user: UserOpt = None, as_json: JsonOpt = False
) -> None:
    """Acknowledge an open alert (it stays until its figure is back within the threshold)."""
    detail = monitoring(ctx, user).acknowledge(alert_id)
    alert = detail.alert
    if as_json:
        echo_json({"alert": _alert_json(alert, detail.monitor)})
        return
    stdout_console().print(f"Alert {alert.id} acknowledged by {alert.acknowledged_by}.")


@app.command("resolve")
def resolve(ctx: typer.Context, alert_id: AlertArg, as_json: JsonOpt = False) -> None:
    """Resolve an alert by hand."""
    detail = monitoring(ctx).resolve(alert_id)
    alert = detail.alert
    if as_json:
        echo_json({"alert": _alert_json(alert, detail.monitor)})
        return
    stdout_console().print(f"Alert {alert.id} is {alert.state.value}.")


@app.command("show")
def show(ctx: typer.Context, alert_id: AlertArg, as_json: JsonOpt = False) -> None:
    """An alert with its monitor, the model version, its training run and the notifications sent."""
    detail = monitoring(ctx).alert(alert_id)
    alert, monitor, log = detail.alert, detail.monitor, list(detail.notifications)
    version: ModelVersion | None = None
    run: dict[str, Any] | None = None
    number, run_id = monitor.binding_at(alert.opened_at)  # a monitor of an alias may have moved on since
    if monitor.model is not None and number is not None:
        models = registry(ctx)
        try:
            version = models.get_version(monitor.model, number)
            run = models.model_card(version).get("run") or None
        except NotFoundError:
            version = None  # the version was deleted; the monitor still names it
    if as_json:
        echo_json(
            {
                "alert": _alert_json(alert, monitor),
                "monitor": {
                    "name": monitor.name,
                    "model": model_ref(monitor, alert.opened_at),
                    "run_id": run_id,
                    "alias": monitor.alias,
                },
                "version": version,
                "run": run,
                "notifications": log,
            }
        )
        return
    console = stdout_console()
    console.print(alert_detail(alert, monitor, version, run, log))
    if version is None and monitor.model is not None:
        console.print(
            Text(f"{model_ref(monitor, alert.opened_at)} is no longer in the registry.", style="yellow")
        )
