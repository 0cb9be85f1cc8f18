"""Rows of the monitoring tables as entities: monitors (with their version history) and windows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mltrail.entities import Monitor, MonitorVersion, MonitorWindow
from mltrail.store.sql.codec import dump_json, load_json

__all__ = ["CONFIG_KEYS", "dump_history", "monitor_of", "window_of"]

# What the JSON ``config`` column of ``monitors`` holds.
CONFIG_KEYS = (
    "features",
    "prediction",
    "task",
    "granularity",
    "segments",
    "schema",
    "drift",
    "training_metrics",
    "calibration",
)


def dump_history(entries: Sequence[MonitorVersion]) -> str:
    return dump_json(
        [
            {
                "version": e.version,
                "run_id": e.run_id,
                "since": e.since,
                "reference_source": e.reference_source,
            }
            for e in entries
        ]
    )


def _history(text: str | None) -> tuple[MonitorVersion, ...]:
    return tuple(
        MonitorVersion(
            version=int(e["version"]),
            run_id=e.get("run_id"),
            since=float(e["since"]),
            reference_source=str(e.get("reference_source") or ""),
        )
        for e in load_json(text) or []
    )


def monitor_of(row: Any) -> Monitor:
    m = row._mapping
    config = load_json(m["config"]) or {}
    return Monitor(
        id=int(m["id"]),
        name=m["name"],
        project=m["project"],
        model=m["model"],
        version=m["version"],
        run_id=m["run_id"],
        features=tuple(config.get("features", ())),
        prediction=config.get("prediction", "prediction"),
        task=config.get("task", "classification"),
        granularity=config.get("granularity", "day"),
        segments=tuple(config.get("segments", ())),
        schema=config.get("schema", {}),
        drift=config.get("drift", {}),
        training_metrics=config.get("training_metrics", {}),
        reference=bytes(m["reference"]),
        reference_source=m["reference_source"],
        created_at=float(m["created_at"]),
        created_by=m["created_by"],
        unmatched_labels=int(m["unmatched_labels"]),
        alias=m["alias"],
        versions=_history(m["versions"]),
        calibration=config.get("calibration") or None,
    )


def window_of(row: Any) -> MonitorWindow:
    m = row._mapping
    return MonitorWindow(
        monitor_id=int(m["monitor_id"]),
        segment=m["segment"],
        granularity=m["granularity"],
        start=float(m["start"]),
        rows=int(m["rows"]),
        profile=bytes(m["profile"]) if "profile" in m else b"",  # left out by list_windows(profiles=False)
        violations=load_json(m["violations"]) or {},
        performance=load_json(m["performance"]) or {},
        estimation=load_json(m["estimation"]) or {},
        updated_at=float(m["updated_at"]),
        figures=load_json(m["figures"]),
        figures_at=None if m["figures_at"] is None else float(m["figures_at"]),
    )
