"""Metric batches in (JSON, optionally gzip-compressed) and metric histories out, downsampled on request."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from mltrail.api.access import RunMember, RunViewer
from mltrail.api.bodies import read_body
from mltrail.api.deps import TrackingDep
from mltrail.api.tracking.schemas import HistoryPublic, MetricsAck, MetricsBatchIn

__all__ = ["MAX_BATCH_BYTES", "router"]

router = APIRouter(prefix="/runs/{run_id}/metrics", tags=["metrics"])

# A batch of the SDK's largest size (100,000 points) is ~4 MB of JSON; this bounds memory per request,
# compressed or not (a small gzip body cannot expand past it).
MAX_BATCH_BYTES = 64 << 20


_BATCH_BODY = {
    "required": True,
    "content": {"application/json": {"schema": MetricsBatchIn.model_json_schema()}},
}


@router.post("", openapi_extra={"requestBody": _BATCH_BODY})
async def log_metrics(run_id: RunMember, request: Request, tracking: TrackingDep) -> MetricsAck:
    """Apply a columnar batch (body: ``MetricsBatchIn``; ``Content-Encoding: gzip`` accepted).

    A batch whose (client_id, seq) was applied before is acknowledged with ``applied: false`` and changes
    nothing, so clients can retry freely. Values may be ``"NaN"``, ``"Infinity"`` or ``"-Infinity"``.
    """
    raw = await read_body(request, MAX_BATCH_BYTES, what="a metric batch")
    try:
        batch = MetricsBatchIn.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from exc
    applied = await run_in_threadpool(tracking.log_metrics, run_id, batch.to_entity())
    return MetricsAck(applied=applied, points=len(batch.keys))


@router.get("/history")
def metric_history(
    run_id: RunViewer,
    tracking: TrackingDep,
    key: Annotated[str, Query(description="the metric key, e.g. val/loss")],
    max_points: Annotated[int | None, Query(description="downsample to about this many points")] = None,
    min_step: Annotated[int | None, Query()] = None,
    max_step: Annotated[int | None, Query()] = None,
) -> HistoryPublic:
    """A metric's points by step; ``max_points`` downsamples keeping each bucket's min and max (spikes)."""
    history = tracking.metric_history(run_id, key, max_points, min_step=min_step, max_step=max_step)
    return HistoryPublic.of(history)
