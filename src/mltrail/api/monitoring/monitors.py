"""``/api/v1/monitors``: monitors of registered model versions, their reports and raw rows.

Ingestion and labels are in ``monitor_ingest.py``, alert rules and alerts in ``monitor_alerts.py``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response, status

from mltrail.api.monitoring.access import MonitorAccess, MonitorAccessDep
from mltrail.api.monitoring.report_views import SECTIONS, parse_include, shaped_report
from mltrail.api.monitoring.schemas import (
    CalibrationIn,
    MonitorCreate,
    MonitorListItemPublic,
    MonitorListPublic,
    MonitorPatch,
    MonitorPublic,
    RawRowsPublic,
    ReferenceIn,
    ReportPublic,
    json_safe,
)
from mltrail.entities import Alert, Monitor, Role
from mltrail.errors import InvalidInputError
from mltrail.render.html_report import render_report_html
from mltrail.services.accounts.audit import parse_time
from mltrail.services.monitoring.alerts import report_alert
from mltrail.services.monitoring.alias import followed_alias
from mltrail.services.registry.checks import parse_model_ref

__all__ = ["MAX_RAW_ROWS", "router"]

router = APIRouter(prefix="/monitors", tags=["monitoring"])
MAX_RAW_ROWS = 10_000
_TIME = "epoch seconds, an ISO 8601 time (UTC unless it says otherwise) or a duration back, e.g. 7d"
_GRANULARITY = {"1d": "day", "day": "day", "1h": "hour", "hour": "hour"}

Since = Annotated[str | None, Query(max_length=100, description=f"from this time on; {_TIME}")]
Until = Annotated[str | None, Query(max_length=100, description=f"before this time; {_TIME}")]
Window = Annotated[Literal["1d", "1h", "day", "hour"] | None, Query(description="default: the monitor's")]
Last = Annotated[
    str | None, Query(max_length=100, description="the period back from `until` (or now) without `since`")
]
_REPORT: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/json": {"schema": {"type": "object"}}, "text/html": {}}}
}


def _period(
    since: str | None, until: str | None, last: str | None, now: float
) -> tuple[float | None, float | None]:
    """[since, until) in epoch seconds; ``since`` wins over ``last``."""
    end = parse_time(until, now, field="until")
    start = parse_time(since, now, field="since")
    if start is None and last:
        start = parse_time(last, now if end is None else end, field="last")
    if start is not None and end is not None and start >= end:
        raise InvalidInputError("since must be before until", field="since")
    return start, end


@router.post("", status_code=status.HTTP_201_CREATED)
def create_monitor(body: MonitorCreate, ma: MonitorAccessDep) -> MonitorPublic:
    """A monitor of a registered version, against the training dataset its run recorded (member on the
    model's project); a version whose run recorded none is a 400 naming ``reference``. A monitor of
    ``churn@production`` or ``churn@champion`` follows that stage or alias to the version it names."""
    ref = parse_model_ref(body.model)
    model = ma.model(ref.model, Role.MEMBER)
    version = ma.registry.resolve(body.model)
    monitor = ma.monitoring.create_for_version(
        body.name,
        model=version.model,
        version=version.version,
        run_id=version.run_id,
        signature=version.signature,
        reference=body.reference_profile(),
        alias=followed_alias(body.model),
        project=model.project,
        features=body.features or None,
        prediction=body.prediction,
        task=body.task,
        granularity=body.granularity,
        segments=body.segments,
        drift=body.drift,
        created_by=ma.actor(body.user),
        calibration=body.calibration,
    )
    if body.reference is not None and body.reference_source:
        monitor = ma.monitoring.update(monitor.name, reference_source=body.reference_source)
    return MonitorPublic.of(monitor)


@router.get("")
def list_monitors(
    ma: MonitorAccessDep, project: Annotated[str | None, Query(max_length=500)] = None
) -> MonitorListPublic:
    """The monitors of the projects you may view (of ``project`` when given), by name, each with the start
    of its last window that received traffic and its number of open alerts."""
    projects = ma.visible_projects()
    if project is not None:
        projects = [project] if projects is None or project in projects else []
    return MonitorListPublic(
        monitors=[_listed(m, ma) for m in ma.monitoring.list_monitors(projects=projects)]
    )


def _listed(monitor: Monitor, ma: MonitorAccess) -> MonitorListItemPublic:
    return MonitorListItemPublic(
        **MonitorPublic.of(monitor).model_dump(by_alias=True),
        last_window=ma.monitoring.last_window(monitor),
        open_alerts=len(ma.alerts.list(monitor, state="open", limit=1000)),
    )


@router.get("/{name}")
def get_monitor(name: str, ma: MonitorAccessDep) -> MonitorPublic:
    """The monitor's configuration: features, segments, validation rules, drift options, reference source."""
    return MonitorPublic.of(ma.monitor(name, Role.VIEWER))


@router.patch("/{name}")
def update_monitor(name: str, body: MonitorPatch, ma: MonitorAccessDep) -> MonitorPublic:
    """Replace the validation rules, drift options or segments (maintainer)."""
    ma.monitor(name, Role.MAINTAINER)
    updated = ma.monitoring.update(name, schema=body.schema_, drift=body.drift, segments=body.segments)
    return MonitorPublic.of(updated)


@router.put("/{name}/calibration")
def calibrate_monitor(name: str, body: CalibrationIn, ma: MonitorAccessDep) -> MonitorPublic:
    """Keep a calibration for performance estimation before labels (maintainer): it replaces the one kept,
    and every stored window is estimated under it from its probability histograms (a regression's loss
    model: the batches ingested after it). The SDK and the CLI fit it from labelled reference rows
    (``monitor.calibrate``, ``mltrail monitor calibrate``); a malformed one, or one of the other task's
    kind, is a 400 naming ``calibration``."""
    ma.monitor(name, Role.MAINTAINER)
    return MonitorPublic.of(ma.monitoring.calibrate(name, body.calibration))


@router.post("/{name}/reference")
def set_monitor_reference(name: str, body: ReferenceIn, ma: MonitorAccessDep) -> MonitorPublic:
    """Replace the monitor's reference (maintainer; also viewer on a run's project) with a given profile
    or the profile of a dataset a run logged, and compute every kept window figure again against it.
    The output's reference is the first day of traffic again when the new one has no output column."""
    if (body.reference is None) == (body.run is None):
        raise InvalidInputError("give exactly one of reference and run", field="reference")
    run_id = None if body.run is None else ma.access.resolve_run(body.run, Role.VIEWER)
    ma.monitor(name, Role.MAINTAINER)  # last: the audit event names the monitor's project
    if run_id is not None:
        updated = ma.monitoring.set_reference(name, run_id=run_id)
    else:
        source = body.reference_source or f"given by {ma.actor(body.user) or 'a client'}"
        updated = ma.monitoring.set_reference(name, reference=body.reference_profile(), source=source)
    return MonitorPublic.of(updated)


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
def delete_monitor(name: str, ma: MonitorAccessDep) -> Response:
    """Delete the monitor with its windows, kept predictions, raw-batch index, rules and alerts
    (maintainer); the raw batches' blobs are kept, as the blob store shares content."""
    ma.monitor(name, Role.MAINTAINER)
    ma.monitoring.delete(name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _alerts_of_period(alerts: list[Alert], since: float | None, until: float | None) -> list[Alert]:
    """The alerts still open or acknowledged, and the resolved ones of a window in the period."""
    return [
        a
        for a in alerts
        if a.state.value != "resolved"
        or ((since is None or a.window_start >= since) and (until is None or a.window_start < until))
    ]


@router.get("/{name}/report", responses=_REPORT)
def monitor_report(
    name: str,
    ma: MonitorAccessDep,
    window: Window = None,
    since: Since = None,
    until: Until = None,
    last: Last = "30d",
    format: Annotated[Literal["json", "html"], Query()] = "json",
    include: Annotated[
        str | None,
        Query(
            max_length=200,
            description=f"JSON only: the optional sections wanted, comma-separated, of {', '.join(SECTIONS)} "
            "(default: all)",
        ),
    ] = None,
    detail: Annotated[
        Literal["full", "summary"],
        Query(
            description="JSON only: `summary` keeps of each window's column tests only test, statistic, "
            "threshold and drifted"
        ),
    ] = "full",
) -> Response:
    """Drift, missing values, validation and performance per window of the period, and its alerts; as JSON
    (non-finite floats as strings) or as one self-contained HTML page. ``include`` and ``detail`` make the
    JSON lighter for a page that shows less (30 days of hourly windows: 7 MB in full)."""
    monitor: Monitor = ma.monitor(name, Role.VIEWER)
    start, end = _period(since, until, last, ma.monitoring.clock())
    sections = parse_include(None if format == "html" else include)
    granularity = None if window is None else _GRANULARITY[window]
    report = ma.monitoring.report(
        monitor,
        granularity=granularity,
        since=start,
        until=end,
        segments="segments" in sections,
        distributions="distributions" in sections,
    )
    if "alerts" in sections:
        found = _alerts_of_period(ma.alerts.list(monitor, limit=1000), start, end)
        report["alerts"] = [report_alert(a, monitor) for a in found]
    if format == "html":
        return Response(render_report_html(report), media_type="text/html; charset=utf-8")
    shaped = shaped_report(report, sections, detail)
    return Response(ReportPublic.of(shaped).model_dump_json(), media_type="application/json", status_code=200)


@router.get("/{name}/raw")
def monitor_raw_rows(
    name: str,
    ma: MonitorAccessDep,
    since: Since = None,
    until: Until = None,
    limit: Annotated[int, Query(ge=1, le=MAX_RAW_ROWS)] = 1000,
) -> RawRowsPublic:
    """The raw predictions kept for the period (drill-down), oldest first, at most ``limit`` rows."""
    ma.monitor(name, Role.VIEWER)
    start, end = _period(since, until, None, ma.monitoring.clock())
    rows = ma.monitoring.raw_rows(name, since=start, until=end, limit=limit + 1)
    return RawRowsPublic(rows=json_safe(rows[:limit]), truncated=len(rows) > limit)
