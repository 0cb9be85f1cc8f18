"""A window's drift figures: computed from its profile once after it changes, kept on the window, and read
by reports and alert rules alike.

All traffic is compared with the whole reference. A segment is compared with the same segment of the
reference when the monitor keeps one (built from reference rows at creation: ``References``); a segment
the reference was split by but had no row of is **new** and gets no drift figures; a monitor whose
reference has no per-segment profiles (a training dataset's profile from lineage) compares its segments
with the whole reference. Either way the column a segment is defined by is never tested: within
``country=DE`` every country is DE, within ``age < 25`` every age is below 25."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from mltrail.entities import Monitor, MonitorWindow
from mltrail.errors import InvalidInputError
from mltrail.services.monitoring.segments import parse_segment, segment_spec
from mltrail.stats.drift import compare_profiles
from mltrail.stats.drift_model import ColumnTest, DriftOptions, DriftResult
from mltrail.stats.profile import DatasetProfile

if TYPE_CHECKING:
    from mltrail.store.monitoring import MonitorStore, SegmentReferences

__all__ = [
    "NEW_SEGMENT",
    "SEGMENT",
    "WHOLE",
    "References",
    "drift_options",
    "figures_for",
    "new_segment_figures",
    "refresh_figures",
    "window_figures",
]

# What a window was compared with (``figures["reference"]``).
WHOLE = "whole"  # the whole reference (all traffic; segments of a monitor without segment references)
SEGMENT = "segment"  # the same segment of the reference
NEW_SEGMENT = "new"  # nothing: a segment the reference had no row of


def drift_options(config: Mapping[str, Any]) -> DriftOptions:
    """``DriftOptions`` from a monitor's JSON drift settings (``InvalidInputError`` naming the field)."""
    try:
        columns = {name: ColumnTest(**dict(spec)) for name, spec in dict(config.get("columns") or {}).items()}
        rest = {k: v for k, v in config.items() if k != "columns"}
        return DriftOptions(columns=columns, **rest)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"drift options: {exc}", field="drift") from exc


def _finite(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None


def window_figures(result: DriftResult) -> dict[str, Any]:
    """What a report and the alert rules read of one window's drift."""
    scores: dict[str, Any] = {}
    missing: dict[str, float | None] = {}
    for col in result.columns:
        scores[col.column] = {
            "test": col.test,
            "statistic": _finite(col.statistic),
            "p_value": _finite(col.p_value),
            "threshold": col.threshold,
            "drifted": col.drifted,
            "scores": {k: _finite(v) for k, v in col.scores.items()},
            "missing_delta": _finite(col.missing_delta),
        }
        missing[col.column] = _finite(col.missing_rate_cur)
    return {
        "share_drifted": result.share_drifted,
        "drifted": list(result.drifted_columns),
        "dataset_drifted": result.dataset_drifted,
        "missing_drifted": list(result.missing_drifted_columns),
        "scores": scores,
        "missing_rate": missing,
    }


class References:
    """What each window of a monitor is compared with, and how (``for_segment``); segment references are
    read from the store once, when a segment window first needs them."""

    def __init__(
        self,
        store: MonitorStore,
        monitor: Monitor,
        whole: DatasetProfile | None = None,
        options: DriftOptions | None = None,
    ) -> None:
        self.store = store
        self.monitor = monitor
        self.whole = whole if whole is not None else DatasetProfile.from_bytes(monitor.reference)
        self.options = options if options is not None else drift_options(monitor.drift)
        self._kept: SegmentReferences | None = None
        self._only: list[str] | None = None
        self._seen: dict[str, tuple[str, DatasetProfile | None, DriftOptions]] = {}

    def only(self, segments: Sequence[str]) -> References:
        """Read the profiles of these segments only (the windows of one batch), not all the monitor's."""
        self._only = [s for s in segments if s]
        return self

    @property
    def kept(self) -> SegmentReferences:
        if self._kept is None:
            self._kept = self.store.get_segment_references(self.monitor.id, self._only)
        return self._kept

    @property
    def per_segment(self) -> bool:
        """Whether every segment spec of the monitor has the reference's own segment profiles."""
        specs = self.kept.specs
        return bool(self.monitor.segments) and all(
            parse_segment(s).spec in specs for s in self.monitor.segments
        )

    def for_segment(self, segment: str) -> tuple[str, DatasetProfile | None, DriftOptions]:
        """(WHOLE | SEGMENT | NEW_SEGMENT, the reference profile or None, the options: the segment's own
        column skipped)."""
        if segment == "":
            return WHOLE, self.whole, self.options
        found = self._seen.get(segment)
        if found is not None:
            return found
        spec = segment_spec(segment, self.monitor.segments)
        column = spec.column if spec is not None else segment.split("=", 1)[0].split("<")[0].strip()
        options = replace(self.options, columns={**self.options.columns, column: ColumnTest(skip=True)})
        found = (WHOLE, self.whole, options)
        if spec is not None and spec.spec in self.kept.specs:
            if segment not in self.kept.profiles:
                found = (NEW_SEGMENT, None, options)
            elif (kept := self.kept.profiles[segment]) is not None:
                found = (SEGMENT, DatasetProfile.from_bytes(kept), options)
        self._seen[segment] = found
        return found

    def compare(self, segment: str, current: DatasetProfile) -> dict[str, Any]:
        """The figures of ``current`` (a window's or a period's profile of ``segment``)."""
        how, reference, options = self.for_segment(segment)
        if reference is None:
            return new_segment_figures()
        return {**window_figures(compare_profiles(reference, current, options)), "reference": how}


def new_segment_figures() -> dict[str, Any]:
    """A segment the reference had no row of: reported as new, with no drift figures."""
    return {
        "share_drifted": None,
        "drifted": [],
        "dataset_drifted": False,
        "missing_drifted": [],
        "scores": {},
        "missing_rate": {},
        "reference": NEW_SEGMENT,
    }


def figures_for(
    store: MonitorStore,
    monitor: Monitor,
    windows: Sequence[MonitorWindow],
    reference: DatasetProfile | None = None,
    options: DriftOptions | None = None,
    *,
    keep: bool = True,
    force: bool = False,
) -> list[dict[str, Any]]:
    """Each window's figures: the kept ones while fresh, else computed (and kept, with ``keep``);
    ``force`` computes them all (the reference changed)."""
    out: list[dict[str, Any]] = []
    references: References | None = None
    for window in windows:
        figures = None if force else window.fresh_figures
        if figures is not None and "reference" not in figures:
            figures = None  # kept before segments had their own reference: compared again, once
        if figures is None:
            if references is None:
                references = References(store, monitor, reference, options).only(
                    sorted({w.segment for w in windows})
                )
            figures = references.compare(window.segment, DatasetProfile.from_bytes(window.profile))
            if keep:
                store.set_window_figures(
                    monitor.id,
                    window.granularity,
                    window.segment,
                    window.start,
                    figures,
                    computed_for=window.updated_at,
                )
        out.append(figures)
    return out


def refresh_figures(store: MonitorStore, monitor: Monitor, starts: Sequence[float]) -> None:
    """Compute the figures of the monitor's windows (every segment) starting at ``starts``."""
    if not starts:
        return
    windows = store.list_windows(
        monitor.id, monitor.granularity, segment=None, since=min(starts), until=max(starts) + 1e-6
    )
    figures_for(store, monitor, [w for w in windows if w.start in set(starts)])
