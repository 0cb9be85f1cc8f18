"""``/api/v1/projects/{project}/reports``: create, list, read (panels evaluated live for the caller), export
as one HTML file, update with a version check, delete.

Viewers of the project read; members write (audited as every write is, by the middleware). A panel pointing
at a project the caller may not see is returned ``hidden``, with no data: the service asks ``can_read``
for each panel's project. Each route checks the role, calls one ``ReportService`` method and returns.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import HTMLResponse

from mltrail.api.access import Access, AccessDep
from mltrail.api.deps import from_state
from mltrail.api.reports.schemas import ReportCreate, ReportPagePublic, ReportPublic, ReportUpdate
from mltrail.entities import Role
from mltrail.services.reports.panels import ReportReader
from mltrail.services.reports.service import EVERYONE, ReportService

__all__ = ["router"]

REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"

router = APIRouter(prefix="/projects/{project}/reports", tags=["reports"])
Offset = Annotated[int, Query(ge=0, le=2**31)]
Limit = Annotated[int, Query(ge=1, le=1000)]


ReportsDep = Annotated[ReportService, from_state("reports")]


def _reader(access: Access) -> ReportReader:
    """The caller as a report reader: may they see a project (each asked once per request)?"""
    if access.unrestricted:
        return EVERYONE
    seen: dict[str, bool] = {}

    def can_read(project: str) -> bool:
        if project not in seen:
            seen[project] = access.accounts.project_role(access.principal, project).at_least(Role.VIEWER)
        return seen[project]

    return ReportReader(access.principal.name, can_read)


def _actor(access: Access, user: str | None) -> str | None:
    if access.principal.anonymous and user:
        if access.note is not None:
            access.note.user = user
        return user
    return access.principal.name


@router.get("")
def list_reports(
    project: str, access: AccessDep, reports: ReportsDep, offset: Offset = 0, limit: Limit = 100
) -> ReportPagePublic:
    """The project's reports by name (definitions only; read one to evaluate its panels)."""
    access.project(project, Role.VIEWER)
    found, total = reports.list_reports(project, offset=offset, limit=limit)
    return ReportPagePublic(reports=[ReportPublic.of(r) for r in found], total=total)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_report(project: str, body: ReportCreate, access: AccessDep, reports: ReportsDep) -> ReportPublic:
    """A new report (member), from its markdown ``source`` or its ``blocks``."""
    access.project(project, Role.MEMBER)
    blocks = None if body.blocks is None else [b.block() for b in body.blocks]
    made = reports.create(
        project,
        body.name,
        source=body.source,
        blocks=blocks,
        title=body.title,
        user=_actor(access, body.user),
    )
    return ReportPublic.of(made)


@router.get("/{name}")
def read_report(
    project: str,
    name: str,
    access: AccessDep,
    reports: ReportsDep,
    evaluate: Annotated[
        bool, Query(description="evaluate the panels now (false: the definition only)")
    ] = True,
) -> dict[str, object]:
    """The report; with ``evaluate`` (default) each panel carries ``status`` (ok, hidden, error) and its
    current ``data``, and each markdown block its ``html`` (no raw HTML, no images)."""
    from mltrail.render.report_document import render_markdown

    access.project(project, Role.VIEWER)
    if not evaluate:
        return ReportPublic.of(reports.get(project, name)).model_dump()
    found = reports.read(project, name, _reader(access))
    for block in found["blocks"]:
        if block["type"] == "markdown":  # rendered here, so the web UI ships no markdown parser
            block["html"] = render_markdown(block["text"])
    return found


@router.get("/{name}/html", response_class=HTMLResponse)
def export_report_html(
    project: str,
    name: str,
    access: AccessDep,
    reports: ReportsDep,
    download: Annotated[bool, Query(description="as an attachment")] = False,
) -> HTMLResponse:
    """The report evaluated now, as one self-contained HTML file (inline CSS and SVG, no network needed)."""
    from mltrail.render.report_document import render_report_document

    access.project(project, Role.VIEWER)
    html = render_report_document(reports.read(project, name, _reader(access)))
    # The file is self-contained (inline CSS and SVG, no script): served from the API's origin, it may load
    # nothing and run nothing, whatever a report's author typed.
    headers = {"Content-Security-Policy": REPORT_CSP, "X-Content-Type-Options": "nosniff"}
    if download:
        headers["Content-Disposition"] = f'attachment; filename="{name}.html"'
    return HTMLResponse(html, headers=headers)


@router.put("/{name}")
def update_report(
    project: str, name: str, body: ReportUpdate, access: AccessDep, reports: ReportsDep
) -> ReportPublic:
    """A new version of the report (member); ``expected_version`` makes it a compare-and-set (409)."""
    access.project(project, Role.MEMBER)
    blocks = None if body.blocks is None else [b.block() for b in body.blocks]
    saved = reports.update(
        project,
        name,
        source=body.source,
        blocks=blocks,
        title=body.title,
        user=_actor(access, body.user),
        expected_version=body.expected_version,
    )
    return ReportPublic.of(saved)


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
def delete_report(project: str, name: str, access: AccessDep, reports: ReportsDep) -> Response:
    """Delete the report (member)."""
    access.project(project, Role.MEMBER)
    reports.delete(project, name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
