"""MLflow's tracking API: ``/api/2.0/mlflow/experiments/…``, ``runs/…`` and ``metrics/get-history``.

Experiments are projects and runs are runs; each route checks the caller's role on the project as
mltrail's own routes do (viewers read, members write, maintainers delete).
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter

from mltrail.api.mlflow.endpoint import Call, endpoint
from mltrail.api.mlflow.shapes import experiment_json, history_json, run_info_json, run_json
from mltrail.entities import Role, Run
from mltrail.errors import InvalidInputError
from mltrail.services.mlflow.tracking import experiment_id_of

__all__ = ["router"]

router = APIRouter()
_GET = ("GET",)


def _run(call: Call, minimum: Role) -> Run:
    run_id = call.args.text("run_id") or call.args.need("run_uuid")
    call.access.run(run_id, minimum)
    return call.tracking.get_run(run_id)


def _experiment_id(call: Call, run: Run) -> str:
    return call.tracking.experiment_id(run.project)


def _offset(call: Call) -> int:
    token = call.args.text("page_token")
    if not token:
        return 0
    if not re.fullmatch(r"[0-9]{1,18}", token):
        raise InvalidInputError("page_token is not one this server gave", field="page_token")
    return int(token)


# -- experiments -----------------------------------------------------------------------------------------
@endpoint(router, "/experiments/create")
def create_experiment(call: Call) -> dict[str, Any]:
    name = call.args.need("name")
    call.access.project(name, Role.MEMBER)
    if call.args.text("artifact_location"):
        raise InvalidInputError(
            "artifact_location is not supported: mltrail keeps artifacts in its own blob store",
            field="artifact_location",
        )
    return {"experiment_id": experiment_id_of(call.tracking.create_experiment(name))}


@endpoint(router, "/experiments/get", _GET)
def get_experiment(call: Call) -> dict[str, Any]:
    project = call.tracking.project_of(call.args.need("experiment_id"))
    call.access.project(project.name, Role.VIEWER)
    return {"experiment": experiment_json(project)}


@endpoint(router, "/experiments/get-by-name", _GET)
def get_experiment_by_name(call: Call) -> dict[str, Any]:
    name = call.args.need("experiment_name")
    call.access.project(name, Role.VIEWER)
    return {"experiment": experiment_json(call.tracking.get_experiment_by_name(name))}


def _search_experiments(call: Call) -> dict[str, Any]:
    view = (call.args.text("view_type") or "ACTIVE_ONLY").upper()
    visible = call.access.visible(call.tracking.projects())
    found = (
        [] if view == "DELETED_ONLY" else call.tracking.search_experiments(visible, call.args.text("filter"))
    )
    offset = _offset(call)
    limit = call.args.integer("max_results", 1000) or 1000
    page = found[offset : offset + limit]
    answer: dict[str, Any] = {"experiments": [experiment_json(p) for p in page]}
    if offset + len(page) < len(found):
        answer["next_page_token"] = str(offset + len(page))
    return answer


endpoint(router, "/experiments/search", read_only=True)(_search_experiments)
endpoint(router, "/experiments/search", _GET)(_search_experiments)


# -- runs ------------------------------------------------------------------------------------------------
@endpoint(router, "/runs/create")
def create_run(call: Call) -> dict[str, Any]:
    project = call.tracking.project_of(call.args.text("experiment_id") or "0")
    call.access.project(project.name, Role.MEMBER)
    principal = call.access.principal
    tags = call.args.tags()
    user = call.args.text("user_id") or tags.get("mlflow.user") if principal.anonymous else principal.name
    run = call.tracking.create_run(
        project=project.name,
        user=user,
        run_name=call.args.text("run_name"),
        start_time_ms=call.args.integer("start_time"),
        tags={k: v for k, v in tags.items() if k != "mlflow.user"},
    )
    if call.access.note is not None:
        call.access.note.run_id = run.id
    return {"run": run_json(run, experiment_id_of(project))}


@endpoint(router, "/runs/get", _GET)
def get_run(call: Call) -> dict[str, Any]:
    run = _run(call, Role.VIEWER)
    return {"run": run_json(run, _experiment_id(call, run))}


@endpoint(router, "/runs/update")
def update_run(call: Call) -> dict[str, Any]:
    run = _run(call, Role.MEMBER)
    updated = call.tracking.update_run(
        run.id,
        status=call.args.text("status"),
        end_time_ms=call.args.integer("end_time"),
        run_name=call.args.text("run_name"),
    )
    return {"run_info": run_info_json(updated, _experiment_id(call, run))}


@endpoint(router, "/runs/delete")
def delete_run(call: Call) -> dict[str, Any]:
    run = _run(call, Role.MAINTAINER)
    call.tracking.delete_run(run.id)
    return {}


@endpoint(router, "/runs/restore")
def restore_run(call: Call) -> dict[str, Any]:
    run = _run(call, Role.MAINTAINER)
    call.tracking.restore_run(run.id)
    return {}


def _run_id(call: Call, minimum: Role) -> str:
    run_id = call.args.text("run_id") or call.args.need("run_uuid")
    return call.access.run(run_id, minimum)


@endpoint(router, "/runs/log-metric")
def log_metric(call: Call) -> dict[str, Any]:
    run_id = _run_id(call, Role.MEMBER)
    metric = (
        call.args.need("key"),
        call.args.number("value"),
        call.args.integer("timestamp") or 0,
        call.args.integer("step", 0) or 0,
    )
    call.tracking.log_batch(run_id, metrics=[metric])
    return {}


@endpoint(router, "/runs/log-parameter")
def log_param(call: Call) -> dict[str, Any]:
    run_id = _run_id(call, Role.MEMBER)
    call.tracking.log_batch(run_id, params={call.args.need("key"): call.args.text("value", default="") or ""})
    return {}


@endpoint(router, "/runs/set-tag")
def set_tag(call: Call) -> dict[str, Any]:
    run_id = _run_id(call, Role.MEMBER)
    call.tracking.log_batch(run_id, tags={call.args.need("key"): call.args.text("value", default="") or ""})
    return {}


@endpoint(router, "/runs/delete-tag")
def delete_tag(call: Call) -> dict[str, Any]:
    run_id = _run_id(call, Role.MEMBER)
    call.tracking.delete_tag(run_id, call.args.need("key"))
    return {}


@endpoint(router, "/runs/log-batch")
def log_batch(call: Call) -> dict[str, Any]:
    run_id = _run_id(call, Role.MEMBER)
    metrics = []
    for item in call.args.objects("metrics"):
        one = type(call.args)(item)
        metrics.append(
            (one.need("key"), one.number("value"), one.integer("timestamp") or 0, one.integer("step", 0) or 0)
        )
    params = {}
    for item in call.args.objects("params"):
        one = type(call.args)(item)
        params[one.need("key")] = one.text("value", default="") or ""
    call.tracking.log_batch(run_id, metrics=metrics, params=params, tags=call.args.tags())
    return {}


@endpoint(router, "/runs/log-inputs")
def log_inputs(call: Call) -> dict[str, Any]:
    run_id = _run_id(call, Role.MEMBER)
    call.tracking.log_inputs(run_id, call.args.objects("datasets"))
    return {}


@endpoint(router, "/runs/search", read_only=True)
def search_runs(call: Call) -> dict[str, Any]:
    ids = call.args.texts("experiment_ids")
    if not ids:
        raise InvalidInputError("experiment_ids must name at least one experiment", field="experiment_ids")
    projects = []
    for experiment_id in ids:
        project = call.tracking.project_of(experiment_id)
        call.access.project(project.name, Role.VIEWER)
        projects.append(project)
    by_name = {p.name: experiment_id_of(p) for p in projects}
    page = call.tracking.search_runs(
        [p.name for p in projects],
        filter=call.args.text("filter"),
        view=call.args.text("run_view_type") or "ACTIVE_ONLY",
        order_by=call.args.texts("order_by"),
        offset=_offset(call),
        max_results=call.args.integer("max_results", 1000) or 1000,
    )
    answer: dict[str, Any] = {"runs": [run_json(r, by_name[r.project]) for r in page.runs]}
    if page.next_offset is not None:
        answer["next_page_token"] = str(page.next_offset)
    return answer


@endpoint(router, "/metrics/get-history", _GET)
def get_metric_history(call: Call) -> dict[str, Any]:
    run_id = _run_id(call, Role.VIEWER)
    limit = call.args.integer("max_results")
    history, more = call.tracking.metric_history(run_id, call.args.need("metric_key"), _offset(call), limit)
    answer: dict[str, Any] = {"metrics": history_json(history)}
    if more is not None:
        answer["next_page_token"] = str(more)
    return answer
