"""The segments of a monitoring report: each segment over the period and per window, from the window
figures kept at ingestion — the very figures the segment charts draw and segment alert rules read.

A segment's period figures are counted from its windows, as the report's summary counts all traffic: the
columns that drifted in some window of the period, the largest share of drifted columns of any window, the
windows whose data set drifted; its performance merges its windows' label accumulators. No window profile
is decoded or merged, so ten segments cost about what their window rows do to read (issue 13: a 30-day
report with 10 segments in ≤ 300 ms; merging and testing each segment's period took ~80 % of it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mltrail.entities import Monitor, MonitorWindow
from mltrail.services.monitoring.figures import NEW_SEGMENT, SEGMENT, WHOLE, References, figures_for
from mltrail.services.monitoring.performance import merge_accumulators, metrics_from
from mltrail.services.monitoring.segments import segment_spec
from mltrail.stats.drift_model import DriftOptions
from mltrail.stats.profile import DatasetProfile

if TYPE_CHECKING:
    from mltrail.store.monitoring import MonitorStore

__all__ = ["segments_section"]


def segments_section(
    store: MonitorStore,
    monitor: Monitor,
    reference: DatasetProfile,
    options: DriftOptions,
    gran: str,
    since: float | None,
    until: float | None,
) -> tuple[dict[str, Any], str]:
    """Each segment over the period and per window, compared with the same segment of the reference
    (``figures.References``); and how segments were compared: ``segment`` (each with its own reference),
    ``whole`` (the reference has no per-segment profiles) or ``mixed``."""
    references = References(store, monitor, reference, options)
    # Without their profiles (most of the bytes): a window whose kept figures are stale is read again whole.
    listed = store.list_windows(monitor.id, gran, segment=None, since=since, until=until, profiles=False)
    if any(w.segment and (w.fresh_figures is None or "reference" not in w.fresh_figures) for w in listed):
        listed = store.list_windows(monitor.id, gran, segment=None, since=since, until=until)
    by_segment: dict[str, list[MonitorWindow]] = {}
    for window in listed:
        if window.segment:
            by_segment.setdefault(window.segment, []).append(window)
    out: dict[str, Any] = {}
    for segment, windows in sorted(by_segment.items()):
        figures = figures_for(store, monitor, windows, reference, options)  # kept; computed if stale
        how, _, _ = references.for_segment(segment)
        labeled: dict[str, Any] = {}
        for w in windows:
            labeled = merge_accumulators(labeled, w.performance)
        spec = segment_spec(segment, monitor.segments)
        out[segment] = {
            "rows": sum(w.rows for w in windows),
            "reference": how,
            "new": how == NEW_SEGMENT,
            "not_tested": None if spec is None else spec.column,  # the column the segment is defined by
            **_period(figures, [*reference.columns]),
            # from the labels of this segment's predictions (``monitoring/labels.py``)
            "performance": metrics_from(labeled, monitor.task),
            "windows": [
                {
                    "start": w.start,
                    "rows": w.rows,
                    "drifted": f["drifted"],
                    "share_drifted": f["share_drifted"],
                    "performance": metrics_from(w.performance, monitor.task),
                }
                for w, f in zip(windows, figures, strict=True)
            ],
        }
    hows = {seg["reference"] for seg in out.values() if not seg["new"]}
    if not hows:
        hows = {SEGMENT if references.per_segment else WHOLE}
    return out, hows.pop() if len(hows) == 1 else "mixed"


def _period(figures: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> dict[str, Any]:
    """A segment's period counted from its windows' figures: the columns drifted in some window (in the
    reference's order), the largest share of drifted columns of a window (None when no window was
    compared: a new segment), and the windows whose data set drifted."""
    drifted = {name for f in figures for name in f.get("drifted", ())}
    shares = [float(f["share_drifted"]) for f in figures if f.get("share_drifted") is not None]
    return {
        "drifted_columns": [c for c in columns if c in drifted],
        "share_drifted": max(shares) if shares else None,
        "windows_drifted": sum(bool(f.get("dataset_drifted")) for f in figures),
    }
