"""``/api/v1/runs/{run}/tables``: evaluation tables (Parquet bodies in, pages out), and
``/api/v1/samples``: which samples got worse between two runs (not under ``/runs``, where ``samples`` would
be read as a run's name)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status
from starlette.concurrency import run_in_threadpool

from mltrail.api.access import AccessDep, ProjectQuery, RunMember, RunViewer
from mltrail.api.bodies import UPLOAD_ADVICE, read_body
from mltrail.api.deps import MaxUploadDep, from_state
from mltrail.api.tracking.table_schemas import TablePagePublic, TablePublic, TableSummaryPublic
from mltrail.entities import TABLE_KINDS, Role
from mltrail.errors import InvalidInputError
from mltrail.json_floats import encode_floats
from mltrail.services.tracking.samples import SampleService
from mltrail.services.tracking.table_pages import MAX_PAGE_ROWS
from mltrail.services.tracking.tables import TableService

__all__ = ["router", "samples_router"]

router = APIRouter(prefix="/runs", tags=["tables"])
samples_router = APIRouter(tags=["tables"])


TablesDep = Annotated[TableService, from_state("tables")]
SamplesDep = Annotated[SampleService, from_state("samples")]
StepQuery = Annotated[
    int | None, Query(ge=0, le=2**63 - 1, description="the table's step; default: its last")
]


@samples_router.get("/samples")
def compare_samples(
    access: AccessDep,
    samples: SamplesDep,
    a: Annotated[str, Query(description="the earlier run: id, unique prefix or name")],
    b: Annotated[str, Query(description="the later run")],
    table: Annotated[str, Query(description="the predictions table both runs logged")],
    project: ProjectQuery = None,
    step_a: StepQuery = None,
    step_b: StepQuery = None,
    offset: Annotated[int, Query(ge=0, le=2**31)] = 0,
    limit: Annotated[int, Query(ge=0, le=MAX_PAGE_ROWS)] = 20,
    slices: Annotated[list[str] | None, Query(description="feature columns to slice by")] = None,
    bins: Annotated[int, Query(ge=2, le=100)] = 10,
    min_rows: Annotated[int, Query(ge=1)] = 10,
    pairs: bool = True,
    top: Annotated[int, Query(ge=0, le=1000)] = 20,
) -> dict[str, Any]:
    """Rows of ``table`` joined by id: right→wrong and wrong→right (counts, and a page of each), the largest
    rises in loss, the confusion matrix's change, and the slices where the error rose most, ranked by the
    lower bound of the rise (docs/TABLES.md). Ids in one table only are counted (``only_a``, ``only_b``).
    Needs the viewer role on both runs' projects."""
    run_a = access.resolve_run(a, Role.VIEWER, project)
    run_b = access.resolve_run(b, Role.VIEWER, project)
    found = samples.compare(
        run_a,
        run_b,
        table,
        step_a=step_a,
        step_b=step_b,
        offset=offset,
        limit=limit,
        slices=slices,
        bins=bins,
        min_rows=min_rows,
        pairs=pairs,
        top=top,
    )
    result: dict[str, Any] = encode_floats(found)
    return result


@router.get("/{run_id}/tables")
def list_tables(run_id: RunViewer, tables: TablesDep) -> list[TableSummaryPublic]:
    """The run's tables, by name and step."""
    return [TableSummaryPublic.of(t) for t in tables.list(run_id)]


@router.put(
    "/{run_id}/tables/{name}",
    status_code=status.HTTP_201_CREATED,
    openapi_extra={"requestBody": {"required": True, "content": {"application/octet-stream": {}}}},
)
async def log_table(
    run_id: RunMember,
    name: str,
    request: Request,
    tables: TablesDep,
    max_bytes: MaxUploadDep,
    step: StepQuery = None,
    kind: Annotated[str, Query(description=" or ".join(TABLE_KINDS))] = "table",
) -> TablePublic:
    """Store the body (a Parquet file) as the table ``name`` at ``step`` (default: one past its last step).

    ``kind=predictions`` needs columns ``id`` (unique), ``y_true``, ``y_pred``, optional ``proba`` or
    ``proba.<class>``, and features; its figures are computed and kept. Needs the member role."""
    body = await read_body(request, max_bytes, what="a table", advice=UPLOAD_ADVICE, inflate=False)
    if not body:
        raise InvalidInputError("the body must be a Parquet file", field="body")
    logged = await run_in_threadpool(tables.log, run_id, name, body, step=step, kind=kind)
    return TablePublic.full(logged)


@router.get("/{run_id}/tables/{name}")
def get_table(run_id: RunViewer, name: str, tables: TablesDep, step: StepQuery = None) -> TablePublic:
    """The table's columns, row count and (for predictions) its figures."""
    return TablePublic.full(tables.get(run_id, name, step))


@router.get("/{run_id}/tables/{name}/rows")
def table_rows(
    run_id: RunViewer,
    name: str,
    tables: TablesDep,
    step: StepQuery = None,
    filter: Annotated[str | None, Query(description="the filter language over the table's columns")] = None,
    sort: Annotated[list[str] | None, Query(description="columns to sort by, '-' for descending")] = None,
    offset: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=0, le=MAX_PAGE_ROWS)] = 50,
    columns: Annotated[list[str] | None, Query(description="the columns to return (default: all)")] = None,
) -> TablePagePublic:
    """A page of the table's rows, filtered and sorted on the server; only the row groups of the page and
    the columns the filter and sort name are read."""
    page = tables.page(
        run_id, name, step=step, filter=filter, sort=sort or [], offset=offset, limit=limit, columns=columns
    )
    return TablePagePublic.of(page)
