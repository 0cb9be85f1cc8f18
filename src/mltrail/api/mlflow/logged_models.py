"""MLflow 3's logged models: ``/api/2.0/mlflow/logged-models…`` (create, get, finalize, tags, search) and
``runs/outputs``. What ``mlflow.<flavor>.log_model`` calls; the files go to the run through the proxy."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from mltrail.api.mlflow.endpoint import Call, endpoint
from mltrail.entities import Role
from mltrail.errors import InvalidInputError
from mltrail.query_ast import And, Comparison, FieldRef
from mltrail.services.mlflow.filters import parse_mlflow_filter
from mltrail.services.mlflow.logged_models import LoggedModel, run_of_model

__all__ = ["router"]

router = APIRouter()


def logged_model_json(call: Call, model: LoggedModel) -> dict[str, Any]:
    experiment = call.tracking.experiment_id(model.run.project)
    params = [{"key": k, "value": str(v)} for k, v in sorted(model.run.params.items())]
    return {
        "info": {
            "model_id": model.model_id,
            "experiment_id": experiment,
            "name": model.name,
            "artifact_uri": f"mlflow-artifacts:/{experiment}/{model.run.id}/artifacts/{model.path}",
            "creation_timestamp_ms": model.created_ms,
            "last_updated_timestamp_ms": model.updated_ms,
            "model_type": model.model_type,
            "source_run_id": model.run.id,
            "status": model.status,
            "tags": [{"key": k, "value": v} for k, v in sorted(model.tags.items())],
        },
        "data": {"params": params, "metrics": []},
    }


def _model(call: Call, minimum: Role) -> LoggedModel:
    model_id = call.args.need("model_id")
    call.access.run(run_of_model(model_id), minimum)
    return call.logged_models.get(model_id)


@endpoint(router, "/logged-models")
def create_logged_model(call: Call) -> dict[str, Any]:
    run_id = call.args.text("source_run_id")
    if not run_id:
        raise InvalidInputError(
            "mltrail keeps a logged model in the run that logs it: start a run first (source_run_id)",
            field="source_run_id",
        )
    call.access.run(run_id, Role.MEMBER)
    model = call.logged_models.create(
        run_id, name=call.args.text("name"), model_type=call.args.text("model_type"), tags=call.args.tags()
    )
    return {"model": logged_model_json(call, model)}


@endpoint(router, "/logged-models/{model_id}", ("GET",))
def get_logged_model(call: Call) -> dict[str, Any]:
    return {"model": logged_model_json(call, _model(call, Role.VIEWER))}


@endpoint(router, "/logged-models/{model_id}", ("PATCH",))
def finalize_logged_model(call: Call) -> dict[str, Any]:
    model = _model(call, Role.MEMBER)
    return {
        "model": logged_model_json(
            call, call.logged_models.finalize(model.model_id, call.args.need("status"))
        )
    }


@endpoint(router, "/logged-models/{model_id}/tags", ("PATCH",))
def set_logged_model_tags(call: Call) -> dict[str, Any]:
    model = _model(call, Role.MEMBER)
    call.logged_models.set_tags(model.model_id, call.args.tags())
    return {}


@endpoint(router, "/logged-models/{model_id}/tags/{tag_key}", ("DELETE",))
def delete_logged_model_tag(call: Call) -> dict[str, Any]:
    model = _model(call, Role.MEMBER)
    call.logged_models.delete_tag(model.model_id, call.args.need("tag_key"))
    return {}


@endpoint(router, "/logged-models/search", read_only=True)
def search_logged_models(call: Call) -> dict[str, Any]:
    projects = []
    for experiment_id in call.args.texts("experiment_ids"):
        project = call.tracking.project_of(experiment_id)
        call.access.project(project.name, Role.VIEWER)
        projects.append(project.name)
    expr = parse_mlflow_filter(call.args.text("filter"))
    conditions = [] if expr is None else list(expr.items) if isinstance(expr, And) else [expr]
    fields = {FieldRef("attr", "name"): "name", FieldRef("tags", "source_run_id"): "source_run_id"}
    for condition in conditions:
        if not isinstance(condition, Comparison) or condition.op != "=" or condition.field not in fields:
            raise InvalidInputError("logged models are searched by name = '…' only", field="filter")
    found = [
        m
        for m in call.logged_models.in_projects(projects)
        if all(isinstance(c, Comparison) and m.name == c.value for c in conditions)
    ]
    return {"models": [logged_model_json(call, m) for m in found]}


@endpoint(router, "/runs/outputs")
def log_outputs(call: Call) -> dict[str, Any]:
    """The run ↔ logged model link: a model id names its run already, so there is nothing more to keep."""
    run_id = call.access.run(call.args.need("run_id"), Role.MEMBER)
    for output in call.args.objects("models"):
        model_id = str(output.get("model_id", ""))
        if run_of_model(model_id) != run_id:
            raise InvalidInputError(
                f"logged model {model_id!r} was not logged by run {run_id}", field="models"
            )
        call.logged_models.get(model_id)
    return {}
