"""``GET /api/v1/metrics/history``: the histories of several runs and metric keys in one request.

The compare page overlays up to 50 runs' metrics; one request per run and metric (50 × 10 = 500 requests,
six at a time from a browser) cost far more than the reads themselves. Each run is checked like
``GET /runs/{run}/metrics/history`` checks its one run: the viewer role on the run's project.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from mltrail.api.access import AccessDep, ProjectQuery
from mltrail.api.deps import TrackingDep
from mltrail.api.tracking.schemas import HistoriesPublic, HistoryPublic
from mltrail.entities import Role
from mltrail.errors import InvalidInputError

__all__ = ["MAX_KEYS", "MAX_RUNS", "router"]

router = APIRouter(prefix="/metrics", tags=["metrics"])

MAX_RUNS = 50  # what the compare page shows at most
MAX_KEYS = 20


def _distinct(items: list[str]) -> list[str]:
    return list(dict.fromkeys(item.strip() for item in items if item.strip()))


@router.get("/history")
def metric_histories(
    access: AccessDep,
    tracking: TrackingDep,
    run: Annotated[list[str], Query(description="a run (id, unique prefix or name); repeat for each run")],
    key: Annotated[list[str], Query(description="a metric key, e.g. val/loss; repeat for each key")],
    max_points: Annotated[int | None, Query(description="downsample each history to about this many")] = None,
    min_step: Annotated[int | None, Query()] = None,
    max_step: Annotated[int | None, Query()] = None,
    project: ProjectQuery = None,
) -> HistoriesPublic:
    """Each run's history of each key, runs in the order given and keys within a run in the order given.

    A run that never logged a key has no entry for it (a comparison overlays runs with different metrics);
    a run that does not exist, or that the principal may not see, is a 404 like the single-run route's.
    """
    runs, keys = _distinct(run), _distinct(key)
    if not runs:
        raise InvalidInputError("name at least one run: ?run=ID (repeat it for more)", field="run")
    if len(runs) > MAX_RUNS:
        raise InvalidInputError(f"at most {MAX_RUNS} runs per request, got {len(runs)}", field="run")
    if not keys:
        raise InvalidInputError("name at least one metric: ?key=K (repeat it for more)", field="key")
    if len(keys) > MAX_KEYS:
        raise InvalidInputError(f"at most {MAX_KEYS} metric keys per request, got {len(keys)}", field="key")
    run_ids = [access.resolve_run(ref, Role.VIEWER, project) for ref in runs]
    histories = tracking.metric_histories(run_ids, keys, max_points, min_step=min_step, max_step=max_step)
    return HistoriesPublic(histories=[HistoryPublic.of(h) for h in histories])
