"""Monitoring reports from stored window profiles: drift per window and overall, per segment, missing
values, validation, performance against the training run, distributions, alerts. Reads no raw rows."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from datasketches import kll_doubles_sketch

from mltrail.entities import GRANULARITIES, Monitor
from mltrail.services.monitoring.alerts import report_alert
from mltrail.services.monitoring.baseline import output_reference
from mltrail.services.monitoring.estimation import estimation_section, window_estimate
from mltrail.services.monitoring.figures import (
    drift_options,
    figures_for,
)
from mltrail.services.monitoring.inputs import training_reference
from mltrail.services.monitoring.kinds import kind_changes, merge_all_profiles
from mltrail.services.monitoring.performance import merge_accumulators, metrics_from
from mltrail.services.monitoring.segment_report import segments_section
from mltrail.stats.drift import compare_profiles
from mltrail.stats.drift_model import DriftOptions
from mltrail.stats.profile import DEFAULT_KLL_K, ColumnProfile, DatasetProfile

if TYPE_CHECKING:
    from mltrail.store.monitoring import MonitorStore

__all__ = ["build_report", "distribution", "sketch_error", "summarize"]

_TOP_CATEGORIES = 12


def _merge_all(profiles: Sequence[DatasetProfile]) -> DatasetProfile | None:
    """The period's profile, the same on every read of the same windows (``DatasetProfile.merge_all``:
    sketches pooled in window order with a fixed seed)."""
    return merge_all_profiles(profiles)  # a column whose kind changed is kept beside, never a failure


def sketch_error(profile: DatasetProfile) -> dict[str, Any]:
    """How far a sketch-based value may be from the exact one: KLL's normalized rank error (99 %
    confidence) for the smallest ``k`` the numeric columns use, for one rank and for a PMF or CDF."""
    ks = [c.numeric.kll.k for c in profile.columns.values() if c.numeric is not None]
    k = min(ks, default=DEFAULT_KLL_K)
    return {
        "kll_k": k,
        "rank_error": float(kll_doubles_sketch.get_normalized_rank_error(k, False)),
        "pmf_error": float(kll_doubles_sketch.get_normalized_rank_error(k, True)),
    }


def _finite(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None


def distribution(ref: ColumnProfile, cur: ColumnProfile | None) -> dict[str, Any] | None:
    if ref.kind == "numeric" and ref.numeric is not None and ref.numeric.count:
        ref_kll = ref.numeric.kll
        edges = sorted({float(q) for q in ref_kll.get_quantiles(np.linspace(0.0, 1.0, 11).tolist())})
        if len(edges) < 2:
            return None
        inner = edges[1:-1]

        def masses(col: ColumnProfile | None) -> list[float] | None:
            if col is None or col.numeric is None or not col.numeric.count:
                return None
            if not inner:
                return [1.0]
            return [float(x) for x in col.numeric.kll.get_pmf(inner)]

        return {"kind": "numeric", "edges": edges, "reference": masses(ref), "current": masses(cur)}
    if ref.kind == "categorical" and ref.categories is not None:
        ref_counts, _ = ref.categories.frequencies()
        cur_counts = cur.categories.frequencies()[0] if cur is not None and cur.categories is not None else {}
        union = sorted(
            set(ref_counts) | set(cur_counts), key=lambda c: -(ref_counts.get(c, 0) + cur_counts.get(c, 0))
        )
        top = union[:_TOP_CATEGORIES]
        ref_total = sum(ref_counts.values()) or 1
        cur_total = sum(cur_counts.values()) or 1
        return {
            "kind": "categorical",
            "categories": top,
            "reference": [ref_counts.get(c, 0) / ref_total for c in top],
            "current": [cur_counts.get(c, 0) / cur_total for c in top],
        }
    return None


def build_report(
    store: MonitorStore,
    monitor: Monitor,
    *,
    granularity: str | None = None,
    since: float | None = None,
    until: float | None = None,
    include_segments: bool = True,
    distributions: bool = True,
) -> dict[str, Any]:
    """The report of ``monitor`` over [since, until) in windows of ``granularity`` (its own by default)."""
    gran = granularity or monitor.granularity
    width = GRANULARITIES[gran]
    options: DriftOptions = drift_options(monitor.drift)
    reference = DatasetProfile.from_bytes(monitor.reference)
    windows = store.list_windows(monitor.id, gran, segment="", since=since, until=until)
    profiles = [DatasetProfile.from_bytes(w.profile) for w in windows]
    rows_out: list[dict[str, Any]] = []
    performance_acc: dict[str, Any] = {}
    totals: dict[str, int] = {}
    for window, figures in zip(
        windows, figures_for(store, monitor, windows, reference, options), strict=True
    ):
        performance = metrics_from(window.performance, monitor.task)
        performance_acc = merge_accumulators(performance_acc, window.performance)
        for rule, n in window.violations.items():
            totals[rule] = totals.get(rule, 0) + n
        rows_out.append(
            {
                "start": window.start,
                "end": window.start + width,
                "rows": window.rows,
                **figures,
                "violations": dict(window.violations),
                "performance": performance,
                "estimated": window_estimate(window, monitor),  # before labels (estimation.py)
            }
        )
    current = _merge_all(profiles)
    overall = compare_profiles(reference, current, options) if current is not None else None
    report: dict[str, Any] = {
        "monitor": {
            "name": monitor.name,
            "model": monitor.model,
            "version": monitor.version,
            "project": monitor.project,
            "run_id": monitor.run_id,
            "alias": monitor.alias,
            "versions": [
                {
                    "version": v.version,
                    "run_id": v.run_id,
                    "since": v.since,
                    "reference_source": v.reference_source,
                }
                for v in monitor.versions
            ],
            "granularity": gran,
            "features": list(monitor.features),
            "prediction": monitor.prediction,
            "segments": list(monitor.segments),
        },
        "period": {
            "start": windows[0].start if windows else since,
            "end": windows[-1].start + width if windows else until,
            "windows": len(windows),
        },
        "reference": {
            "rows": reference.rows,
            "source": monitor.reference_source,
            "output": output_reference(monitor, reference),  # launch day or a given reference, said plainly
        },
        "sketch": sketch_error(reference),
        "current_rows": sum(w.rows for w in windows),
        "overall": overall.to_dict() if overall is not None else None,
        "windows": rows_out,
        "validation": {"rules": sorted(_rule_names(monitor.schema)), "totals": totals},
        # columns a window holds in two kinds (monitoring/kinds.py): the other kind's rows, by window
        "kind_changes": kind_changes([(w.start, p) for w, p in zip(windows, profiles, strict=True)]),
        "performance": _performance(monitor, performance_acc),
        "estimation": estimation_section(monitor, windows, rows_out),
        "unmatched_labels": monitor.unmatched_labels,
        "alerts": [report_alert(a, monitor) for a in store.list_alerts(monitor_id=monitor.id, limit=100)],
    }
    report["summary"] = summarize(rows_out, report["alerts"], options, [*reference.columns])
    if distributions and current is not None:
        report["distributions"] = {
            name: d
            for name, col in reference.columns.items()
            if (d := distribution(col, current.columns.get(name))) is not None
        }
    if include_segments and monitor.segments:
        report["segments"], report["segment_reference"] = segments_section(
            store, monitor, reference, options, gran, since, until
        )
    return report


_MISSING_METRICS = ("missing_rate", "missing_rate.delta")


def summarize(
    windows: Sequence[Mapping[str, Any]],
    alerts: Sequence[Mapping[str, Any]],
    options: DriftOptions,
    columns: Sequence[str],
) -> dict[str, Any]:
    """What the summary cards say, counted from the per-window figures the charts draw and the alert rules
    read (never from a second comparison of the merged period, which can disagree with every window):
    the windows whose data set drifted, each column's drifted and missing-rate-changed windows, and the
    columns whose missing rate an unresolved alert is about."""
    features: dict[str, dict[str, Any]] = {}
    tested: set[str] = set()
    for name in columns:
        drifted = [w["start"] for w in windows if name in w.get("drifted", ())]
        missing = [w["start"] for w in windows if name in w.get("missing_drifted", ())]
        scores = [w.get("scores", {}).get(name) or {} for w in windows]
        if any(score.get("test") is not None for score in scores):
            tested.add(name)
        features[name] = {
            "windows_drifted": len(drifted),
            "first_drifted": drifted[0] if drifted else None,
            "latest_drifted": bool(windows) and name in windows[-1].get("drifted", ()),
            "windows_missing_changed": len(missing),
        }
    dataset = [w["start"] for w in windows if w.get("dataset_drifted")]
    unresolved = [a for a in alerts if a.get("state") in ("open", "acknowledged")]
    missing_alerts = {str(a["feature"]) for a in unresolved if a.get("metric") in _MISSING_METRICS}
    return {
        "windows": len(windows),
        "drift": {
            "dataset_drifted": bool(dataset),
            "windows_drifted": len(dataset),
            "first_drifted": dataset[0] if dataset else None,
            "latest_drifted": bool(windows) and bool(windows[-1].get("dataset_drifted")),
            "drift_share": options.drift_share,
        },
        "tested": len(tested),
        "features": features,
        "drifted_features": [n for n in columns if features[n]["windows_drifted"]],
        "missing_changed": [
            n for n in columns if features[n]["windows_missing_changed"] or n in missing_alerts
        ],
        "missing_alerts": sorted(missing_alerts),
        "open_alerts": sum(a.get("state") == "open" for a in alerts),
        "unresolved_alerts": len(unresolved),
    }


def _performance(monitor: Monitor, acc: Mapping[str, Any]) -> dict[str, Any]:
    overall = metrics_from(acc, monitor.task)
    training = {
        name: value
        for name in ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss", "mae", "rmse", "r2")
        if (value := training_reference(monitor.training_metrics, name)) is not None
    }
    return {"task": monitor.task, "training": training, "overall": overall}


def _rule_names(schema: Mapping[str, Any]) -> list[str]:
    names = []
    for column, rule in dict(schema.get("columns") or {}).items():
        names.append(f"{column}: missing column")
        if rule.get("not_null"):
            names.append(f"{column}: null")
        if rule.get("min") is not None:
            names.append(f"{column}: below min")
        if rule.get("max") is not None:
            names.append(f"{column}: above max")
        if rule.get("allowed") is not None:
            names.append(f"{column}: unknown category")
    return names
