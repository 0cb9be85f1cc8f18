"""JSON of the monitoring API (``api/monitor_schemas.py``) into monitoring's entities, for ``HttpMonitoring``.

Non-finite floats arrive as ``"NaN"``/``"Infinity"``/``"-Infinity"``, as everywhere in the API.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mltrail.entities import Alert, AlertRule, AlertState, Monitor, MonitorVersion
from mltrail.sdk.http_codec import decode_float

__all__ = ["alert_from_json", "monitor_from_json", "rule_from_json"]


def _optional_float(value: Any) -> float | None:
    return None if value is None else decode_float(value)


def monitor_from_json(d: Mapping[str, Any]) -> Monitor:
    """A ``Monitor`` from ``MonitorPublic`` (the API never sends the reference profile: ``reference=b""``)."""
    return Monitor(
        id=int(d["id"]),
        name=d["name"],
        project=d["project"],
        model=d.get("model"),
        version=d.get("version"),
        run_id=d.get("run_id"),
        features=tuple(d.get("features") or ()),
        prediction=d["prediction"],
        task=d["task"],
        granularity=d["granularity"],
        segments=tuple(d.get("segments") or ()),
        schema=dict(d.get("schema") or {}),
        drift=dict(d.get("drift") or {}),
        training_metrics={str(k): decode_float(v) for k, v in (d.get("training_metrics") or {}).items()},
        reference=b"",
        reference_source=d.get("reference_source", ""),
        created_at=decode_float(d["created_at"]),
        created_by=d.get("created_by"),
        unmatched_labels=int(d.get("unmatched_labels") or 0),
        alias=d.get("alias"),
        versions=tuple(
            MonitorVersion(
                version=int(v["version"]),
                run_id=v.get("run_id"),
                since=decode_float(v["since"]),
                reference_source=v.get("reference_source", ""),
            )
            for v in d.get("versions") or ()
        ),
        calibration=d.get("calibration") or None,
    )


def rule_from_json(d: Mapping[str, Any], monitor: Monitor) -> AlertRule:
    """An ``AlertRule`` from ``AlertRulePublic`` (its channels as the server shows them: secrets elided)."""
    return AlertRule(
        id=int(d["id"]),
        monitor_id=monitor.id,
        metric=d["metric"],
        feature=d.get("feature"),
        segment=d.get("segment"),
        comparator=d["comparator"],
        threshold=decode_float(d["threshold"]),
        for_windows=int(d["for_windows"]),
        channels=tuple(d.get("channels") or ()),
        created_at=decode_float(d["created_at"]),
        created_by=d.get("created_by"),
        active=bool(d.get("active", True)),
        action=d.get("action"),
    )


def alert_from_json(d: Mapping[str, Any], monitor: Monitor) -> Alert:
    return Alert(
        id=int(d["id"]),
        rule_id=int(d["rule_id"]),
        monitor_id=monitor.id,
        metric=d["metric"],
        feature=d.get("feature"),
        segment=d.get("segment"),
        state=AlertState(d["state"]),
        value=decode_float(d["value"]),
        threshold=decode_float(d["threshold"]),
        comparator=d["comparator"],
        window_start=decode_float(d["window_start"]),
        opened_at=decode_float(d["opened_at"]),
        updated_at=decode_float(d["updated_at"]),
        acknowledged_by=d.get("acknowledged_by"),
        resolved_at=_optional_float(d.get("resolved_at")),
        detail=d.get("detail"),
    )
