"""MLflow's artifact proxy, ``/api/2.0/mlflow-artifacts/artifacts/<experiment>/<run>/artifacts/<path>``
(upload, list, download), and ``/api/2.0/mlflow/artifacts/list``, over a run's artifacts.

Uploads and downloads go through the same code as mltrail's own artifact routes: bodies streamed into the
blob store, bytes verified against their sha256 on the way out, and a file of a registered model version
audited as that version's download.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from mltrail.api.access import AccessDep
from mltrail.api.deps import ArtifactsDep, AuditDep, CurrentUser, MaxUploadDep, RegistryDep
from mltrail.api.mlflow.endpoint import Call, JsonResponse, endpoint
from mltrail.api.mlflow.errors import UnsupportedError
from mltrail.api.tracking import artifacts as run_artifacts
from mltrail.entities import Artifact, Role
from mltrail.errors import InvalidInputError, NotFoundError
from mltrail.services.tracking.artifacts import ArtifactService

__all__ = ["list_router", "proxy_router"]

proxy_router = APIRouter()
list_router = APIRouter()
_PATH = re.compile(r"^(?P<exp>[^/]+)/(?P<run>[^/]+)/artifacts(?:/(?P<rest>.*))?$")


def _split(path: str) -> tuple[str, str]:
    """(run id, path inside the run) of a proxy path ``<experiment>/<run>/artifacts/<path>``."""
    match = _PATH.match(path.strip("/"))
    if match is None:
        raise NotFoundError(
            f"{path!r} is not an artifact of a run (mltrail serves <experiment>/<run>/artifacts/<path>)"
        )
    return match.group("run"), (match.group("rest") or "").strip("/")


def _children(artifacts: list[Artifact], prefix: str) -> list[dict[str, Any]]:
    """The direct children of folder ``prefix`` (``""``: the run's root), as MLflow lists them."""
    files: dict[str, dict[str, Any]] = {}
    base = f"{prefix}/" if prefix else ""
    for artifact in artifacts:
        if not artifact.path.startswith(base):
            continue
        head, slash, _ = artifact.path[len(base) :].partition("/")
        if slash:
            files.setdefault(head, {"path": head, "is_dir": True})
        else:
            files[head] = {"path": head, "is_dir": False, "file_size": artifact.size}
    return [files[k] for k in sorted(files)]


def _listing(service: ArtifactService, run_id: str, prefix: str) -> list[dict[str, Any]]:
    found = service.list(run_id, (prefix + "/") if prefix else None)
    if prefix and any(a.path == prefix for a in service.list(run_id, prefix)):
        return []  # a file, not a folder: MLflow lists nothing under it
    return _children(found, prefix)


@proxy_router.get("/artifacts", include_in_schema=False, name="mlflow_list_proxy_artifacts")
def list_proxy_artifacts(
    access: AccessDep, artifacts: ArtifactsDep, path: Annotated[str | None, Query()] = None
) -> Response:
    if not path:
        return JsonResponse({})  # the root above the experiments: nothing to list for a run
    run_id, inner = _split(path)
    access.run(run_id, Role.VIEWER)
    return JsonResponse({"files": _listing(artifacts, run_id, inner)})  # base names, as MLflow's server


@proxy_router.put("/artifacts/{path:path}", include_in_schema=False, name="mlflow_upload_artifact")
async def upload_proxy_artifact(
    path: str,
    request: Request,
    access: AccessDep,
    artifacts: ArtifactsDep,
    max_bytes: MaxUploadDep,
    content_length: Annotated[int | None, Header()] = None,
) -> Response:
    run_id, inner = _split(path)
    if not inner:
        raise InvalidInputError("the upload needs a file path inside the run", field="path")
    await run_in_threadpool(access.run, run_id, Role.MEMBER)
    await run_artifacts.upload_artifact(run_id, inner, request, artifacts, max_bytes, None, content_length)
    return JsonResponse({})


@proxy_router.get("/artifacts/{path:path}", include_in_schema=False, name="mlflow_download_artifact")
def download_proxy_artifact(
    path: str,
    request: Request,
    access: AccessDep,
    artifacts: ArtifactsDep,
    registry: RegistryDep,
    audit: AuditDep,
    principal: CurrentUser,
    range_header: Annotated[str | None, Header(alias="Range")] = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    run_id, inner = _split(path)
    access.run(run_id, Role.VIEWER)
    return run_artifacts.download_artifact(
        run_id, inner, artifacts, registry, audit, principal, request, range_header, if_none_match
    )


@proxy_router.api_route(
    "/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False
)
def unsupported_proxy(rest: str, request: Request) -> Response:
    raise UnsupportedError(
        f"{request.method} /api/2.0/mlflow-artifacts/{rest} is not supported by mltrail (artifacts are"
        " uploaded, listed and downloaded; never deleted, and not in multipart uploads)"
    )


@endpoint(list_router, "/artifacts/list", ("GET",))
def list_artifacts(call: Call) -> dict[str, Any]:
    run_id = call.access.run(call.args.text("run_id") or call.args.need("run_uuid"), Role.VIEWER)
    experiment = call.tracking.experiment_id_of_run(run_id)
    inner = (call.args.text("path") or "").strip("/")
    service: ArtifactService = call.request.app.state.artifacts
    files = _listing(service, run_id, inner)
    prefix = f"{inner}/" if inner else ""
    return {
        "root_uri": f"mlflow-artifacts:/{experiment}/{run_id}/artifacts",
        "files": [{**f, "path": prefix + f["path"]} for f in files],
    }
