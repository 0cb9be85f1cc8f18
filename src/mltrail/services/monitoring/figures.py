"""A window's drift figures: computed from its profile once after it changes, kept on the window, and read
by reports and alert rules alike."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mltrail.entities import Monitor, MonitorWindow
from mltrail.errors import InvalidInputError
from mltrail.stats.drift import compare_profiles
from mltrail.stats.drift_model import ColumnTest, DriftOptions, DriftResult
from mltrail.stats.profile import DatasetProfile

if TYPE_CHECKING:
    from mltrail.store.monitoring import MonitorStore

__all__ = ["drift_options", "figures_for", "refresh_figures", "window_figures"]


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
    for window in windows:
        figures = None if force else window.fresh_figures
        if figures is None:
            reference = reference or DatasetProfile.from_bytes(monitor.reference)
            options = options or drift_options(monitor.drift)
            figures = window_figures(
                compare_profiles(reference, DatasetProfile.from_bytes(window.profile), options)
            )
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
