"""JSON ↔ entities for the HTTP transport: runs, artifacts and dataset versions, and non-finite floats.

JSON has no NaN or infinity: such values travel as the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from mltrail.entities import (
    Artifact,
    DatasetVersion,
    MediaFile,
    MediaName,
    MetricSummary,
    Run,
    RunMedia,
    RunStatus,
    RunTable,
    TableColumn,
    TablePage,
)
from mltrail.json_floats import decode_float, encode_float

__all__ = [
    "artifact_from_json",
    "dataset_from_json",
    "decode_float",
    "encode_float",
    "encode_values",
    "media_name_from_json",
    "run_from_json",
    "run_media_from_json",
    "run_table_from_json",
    "table_page_from_json",
]


def encode_values(values: list[float]) -> list[float] | list[float | str]:
    """Metric values for JSON; all finite (the common case) is checked without a per-value Python loop."""
    # An overflowing sum (inf from finite values) only sends the list down the slow, exact path.
    if math.isfinite(sum(values)):
        return values
    return [encode_float(v) for v in values]


def _optional_float(value: Any) -> float | None:
    return None if value is None else decode_float(value)


def run_from_json(data: Mapping[str, Any]) -> Run:
    metrics = {
        key: MetricSummary(
            key=key,
            last=decode_float(m["last"]),
            last_step=int(m["last_step"]),
            min=_optional_float(m["min"]),
            max=_optional_float(m["max"]),
            count=int(m["count"]),
        )
        for key, m in data["metrics"].items()
    }
    return Run(
        id=data["id"],
        project=data["project"],
        name=data["name"],
        status=RunStatus(data["status"]),
        user=data["user"],
        start_time=float(data["start_time"]),
        end_time=_optional_float(data["end_time"]),
        heartbeat_at=_optional_float(data["heartbeat_at"]),
        notes=data["notes"],
        error=data["error"],
        params=data["params"],
        tags=data["tags"],
        summary=data["summary"],
        metrics=metrics,
        context=data.get("context") or {},
    )


def artifact_from_json(data: Mapping[str, Any]) -> Artifact:
    return Artifact(
        run_id=data["run_id"],
        path=data["path"],
        digest=data["digest"],
        size=int(data["size"]),
        created_at=float(data["created_at"]),
    )


def dataset_from_json(data: Mapping[str, Any]) -> DatasetVersion:
    return DatasetVersion(
        id=int(data["id"]),
        project=data["project"],
        name=data["name"],
        version=int(data["version"]),
        digest=data["digest"],
        source=data["source"],
        kind=data["kind"],
        num_rows=data["num_rows"],
        num_bytes=data["num_bytes"],
        schema=data["schema"],
        summary=data["summary"],
        created_at=float(data["created_at"]),
    )


def run_table_from_json(data: Mapping[str, Any]) -> RunTable:
    return RunTable(
        run_id=str(data["run_id"]),
        name=str(data["name"]),
        step=int(data["step"]),
        kind=str(data["kind"]),
        digest=str(data["digest"]),
        size=int(data["size"]),
        rows=int(data["rows"]),
        columns=[TableColumn(str(c["name"]), str(c["type"])) for c in data.get("columns") or []],
        summary=dict(data.get("summary") or {}),
        created_at=float(data["created_at"]),
    )


def table_page_from_json(data: Mapping[str, Any]) -> TablePage:
    """A page of rows; floats that JSON cannot hold stay as the strings the API sends (``"NaN"``…)."""
    return TablePage(
        columns=[TableColumn(str(c["name"]), str(c["type"])) for c in data["columns"]],
        rows=[list(r) for r in data["rows"]],
        total=int(data["total"]),
        offset=int(data["offset"]),
        limit=int(data["limit"]),
    )


def run_media_from_json(data: Mapping[str, Any]) -> RunMedia:
    return RunMedia(
        run_id=str(data["run_id"]),
        name=str(data["name"]),
        step=int(data["step"]),
        kind=str(data["kind"]),
        files=[
            MediaFile(str(f["role"]), str(f["digest"]), int(f["size"]), str(f["mime"])) for f in data["files"]
        ],
        meta=dict(data.get("meta") or {}),
        created_at=float(data["created_at"]),
    )


def media_name_from_json(data: Mapping[str, Any]) -> MediaName:
    return MediaName(name=str(data["name"]), kind=str(data["kind"]), steps=[int(s) for s in data["steps"]])
