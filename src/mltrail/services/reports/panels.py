"""Live panels evaluated for one reader: each panel reads the current data through the services, and a panel
whose project the reader may not see is ``hidden`` (the same answer as for a missing run or model, so the
report leaks neither data nor existence)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mltrail.entities import ReportBlock, Run
from mltrail.errors import MltrailError, NotFoundError
from mltrail.json_floats import encode_floats
from mltrail.services.reports.source import split_list

if TYPE_CHECKING:
    from mltrail.services.monitoring.service import MonitoringService
    from mltrail.services.registry.service import RegistryService
    from mltrail.services.tracking.samples import SampleService
    from mltrail.services.tracking.service import TrackingService

__all__ = ["HIDDEN_MESSAGE", "PanelSources", "ReportReader", "evaluate_block"]

HIDDEN_MESSAGE = "hidden: this panel shows data you may not see (or that no longer exists)"
_DEFAULT_COLUMNS = 6


@dataclass(frozen=True)
class ReportReader:
    """Who reads: ``can_read(project)`` says whether they may see a project; None means everything (an
    admin, the embedded store, a server without authentication)."""

    name: str | None = None
    can_read: Callable[[str], bool] | None = None

    @property
    def unrestricted(self) -> bool:
        return self.can_read is None

    def sees(self, project: str) -> bool:
        return self.can_read is None or self.can_read(project)


class _HiddenError(Exception):
    """The panel points at something the reader may not see."""


@dataclass
class PanelSources:
    """The services panels read, reached lazily (a report without a monitor panel never builds monitoring)."""

    tracking: Callable[[], TrackingService]
    samples: Callable[[], SampleService]
    registry: Callable[[], RegistryService]
    monitoring: Callable[[], MonitoringService]


def evaluate_block(
    block: ReportBlock, report_project: str, reader: ReportReader, sources: PanelSources
) -> dict[str, Any]:
    """The block as the reader sees it now: markdown as is; a panel with ``status`` ok (and ``data``),
    ``hidden`` or ``error`` (and a ``message``)."""
    if block.type == "markdown":
        return {"type": "markdown", "text": block.text}
    out: dict[str, Any] = {"type": block.type, "options": dict(block.options)}
    out["title"] = block.options.get("title") or _default_title(block)
    project = block.options.get("project") or report_project
    try:
        if not reader.sees(project):
            raise _HiddenError
        data = _EVALUATORS[block.type](block.options, project, reader, sources)
        out.update(status="ok", data=encode_floats(data))
    except _HiddenError:
        out.update(status="hidden", message=HIDDEN_MESSAGE)
    except NotFoundError as exc:
        if reader.unrestricted:
            out.update(status="error", message=str(exc))
        else:  # "no such run" and "not yours" must look alike
            out.update(status="hidden", message=HIDDEN_MESSAGE)
    except MltrailError as exc:
        out.update(status="error", message=str(exc))
    return out


def _default_title(block: ReportBlock) -> str:
    o = block.options
    return {
        "runs": f"Runs{' where ' + o['filter'] if o.get('filter') else ''}",
        "metrics": f"{o.get('keys', '')} of {o.get('runs', '')}",
        "compare": f"Comparison of {o.get('runs', '')}",
        "samples": f"Samples of {o.get('table', '')} that changed between {o.get('runs', '')}",
        "model": f"Model {o.get('model', '')}",
        "monitor": f"Monitor {o.get('monitor', '')}",
    }.get(block.type, block.type)


def _value(value: Any) -> Any:
    return None if isinstance(value, float) and math.isnan(value) else value


def _runs(options: dict[str, str], project: str, reader: ReportReader, src: PanelSources) -> dict[str, Any]:
    from mltrail.query import parse_filter, parse_sorts

    tracking = src.tracking()
    expr = parse_filter(options.get("filter", ""))
    sorts = parse_sorts(split_list(options.get("sort", "")))
    limit = int(options.get("limit", "20"))
    page = tracking.search_runs(project, filter=expr, sort=sorts, limit=limit)
    columns = split_list(options.get("columns", "")) or _columns_of(page.runs)
    rows = [[run.id, run.name, run.status.value, *(_cell(run, c) for c in columns)] for run in page.runs]
    return {"columns": ["id", "name", "status", *columns], "rows": rows, "total": page.total}


def _columns_of(runs: Sequence[Run]) -> list[str]:
    metrics = sorted({k for r in runs for k in r.metrics if not k.startswith("sys/")})
    params = sorted({k for r in runs for k in r.params})
    return [f"metrics.{k}" for k in metrics[:_DEFAULT_COLUMNS]] + [f"params.{k}" for k in params[:3]]


def _cell(run: Run, column: str) -> Any:
    area, _, key = column.partition(".")
    if area == "metrics":
        found = run.metrics.get(key)
        return None if found is None else found.last
    if area == "params":
        return run.params.get(key)
    if area == "summary":
        return run.summary.get(key)
    if area == "tags":
        return run.tags.get(key)
    return {"name": run.name, "user": run.user, "status": run.status.value, "duration": run.duration}.get(
        column
    )


def _resolve(src: PanelSources, project: str, refs: Sequence[str]) -> list[Run]:
    tracking = src.tracking()
    return [tracking.get_run(ref, project) for ref in refs]


def _metrics(
    options: dict[str, str], project: str, reader: ReportReader, src: PanelSources
) -> dict[str, Any]:
    runs = _resolve(src, project, split_list(options["runs"]))
    keys = split_list(options["keys"])
    max_points = int(options.get("max_points", "200"))
    names = {r.id: r.name for r in runs}
    histories = src.tracking().metric_histories([r.id for r in runs], keys, max_points=max_points)
    series = [
        {"run_id": h.run_id, "run": names[h.run_id], "key": h.key, "steps": h.steps, "values": h.values}
        for h in histories
    ]
    return {"keys": keys, "series": series}


def _compare(
    options: dict[str, str], project: str, reader: ReportReader, src: PanelSources
) -> dict[str, Any]:
    a, b = _resolve(src, project, split_list(options["runs"]))
    params = sorted(set(a.params) | set(b.params))
    metrics = sorted(k for k in set(a.metrics) | set(b.metrics) if not k.startswith("sys/"))

    def last(run: Run, key: str) -> Any:
        found = run.metrics.get(key)
        return None if found is None else found.last

    rows = [
        {
            "key": f"params.{k}",
            "a": a.params.get(k),
            "b": b.params.get(k),
            "differs": a.params.get(k) != b.params.get(k),
        }
        for k in params
    ]
    for k in metrics:
        va, vb = last(a, k), last(b, k)
        rows.append({"key": f"metrics.{k}", "a": va, "b": vb, "differs": _value(va) != _value(vb)})
    return {
        "a": {"id": a.id, "name": a.name, "status": a.status.value},
        "b": {"id": b.id, "name": b.name, "status": b.status.value},
        "rows": rows,
    }


def _samples(
    options: dict[str, str], project: str, reader: ReportReader, src: PanelSources
) -> dict[str, Any]:
    a, b = _resolve(src, project, split_list(options["runs"]))
    top = int(options.get("top", "10"))
    found = src.samples().compare(a.id, b.id, options["table"], limit=top, top=top)
    keep = ("table", "task", "matched", "only_a", "only_b", "slice_columns", "slices")
    data = {k: found[k] for k in keep if k in found}
    for k in ("loss", "error_a", "error_b", "worse", "better"):
        if k in found:
            data[k] = found[k]
    for k in ("right_to_wrong", "wrong_to_right"):
        if k in found:
            data[k] = {"count": found[k]["count"], "rows": found[k]["rows"][:top]}
    data["a"] = {"id": a.id, "name": a.name}
    data["b"] = {"id": b.id, "name": b.name}
    return data


def _model(options: dict[str, str], project: str, reader: ReportReader, src: PanelSources) -> dict[str, Any]:
    registry = src.registry()
    version = registry.resolve(options["model"])
    card = registry.model_card(version)
    if not reader.sees(str(card.get("project"))):
        raise _HiddenError
    run = card.get("run")
    if run is not None and not reader.unrestricted:
        owner = src.tracking().get_run(run["id"]).project
        if not reader.sees(owner):
            card["run"], card["metrics"], card["datasets"] = None, {}, []
    requests, _ = registry.list_requests(model=version.model, status=None, limit=50)
    card["approvals"] = [
        {
            "id": r.id,
            "target": r.target,
            "status": str(getattr(r.status, "value", r.status)),
            "requested_by": r.requested_by,
            "created_at": r.created_at,
            "decisions": [
                {"user": d.user, "approve": d.approve, "comment": d.comment, "time": d.time}
                for d in r.decisions
            ],
        }
        for r in requests
        if r.version == version.version
    ]
    return card


def _monitor(
    options: dict[str, str], project: str, reader: ReportReader, src: PanelSources
) -> dict[str, Any]:
    monitoring = src.monitoring()
    monitor = monitoring.get(options["monitor"])
    if not reader.sees(monitor.project or project):
        raise _HiddenError
    granularity = options.get("granularity") or None
    report = monitoring.report(monitor, granularity=granularity, segments=False, distributions=False)
    windows = report.get("windows") or []
    return {
        "monitor": report["monitor"],
        "period": report["period"],
        "current_rows": report["current_rows"],
        "overall": report["overall"],
        "drift": [
            {
                "start": w["start"],
                "rows": w["rows"],
                "dataset_drifted": bool(w.get("dataset_drifted")),
                "drifted": list(w.get("drifted", ())),
            }
            for w in windows
        ],
        "performance": report["performance"],
        "alerts": report["alerts"][:20],
    }


_EVALUATORS: dict[str, Callable[[dict[str, str], str, ReportReader, PanelSources], dict[str, Any]]] = {
    "runs": _runs,
    "metrics": _metrics,
    "compare": _compare,
    "samples": _samples,
    "model": _model,
    "monitor": _monitor,
}
