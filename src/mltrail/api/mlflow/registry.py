"""MLflow's model registry API: ``/api/2.0/mlflow/registered-models/…`` and ``model-versions/…`` over
mltrail's registry. A version is registered from an MLflow model folder logged to a run (see
``services/mlflow/models.py``); roles, protected aliases and approvals apply as to mltrail's own routes.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any

from fastapi import APIRouter

from mltrail.api.mlflow.endpoint import Call, endpoint
from mltrail.api.mlflow.shapes import model_json, version_json
from mltrail.entities import ModelVersion, RegisteredModel, Role, Stage
from mltrail.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from mltrail.query_ast import And, Comparison, Expr, FieldRef
from mltrail.services.mlflow.filters import parse_mlflow_filter
from mltrail.services.registry.checks import validate_model_name

__all__ = ["router"]

router = APIRouter()
_GET = ("GET",)
PROJECT_TAG = "mltrail.project"


def _version_json(call: Call, version: ModelVersion) -> dict[str, Any]:
    return version_json(version, call.tracking.experiment_id_of_run(version.run_id))


def _latest(call: Call, model: RegisteredModel) -> list[dict[str, Any]]:
    versions, _ = call.registry_access.registry.list_versions(model.name, limit=1)
    return [_version_json(call, v) for v in versions]


def _number(call: Call) -> int:
    text = call.args.need("version")
    if not re.fullmatch(r"[0-9]{1,19}", text) or not 1 <= int(text) < 2**63:
        raise InvalidInputError(f"version {text!r} is not a version number", field="version")
    return int(text)


def _conditions(text: str | None, allowed: dict[str, FieldRef]) -> list[Comparison]:
    """The conditions of a registry search filter (``name = 'x'``, ``name LIKE '%x%'``, ``run_id = '…'``,
    ``tags.k != 'v'``). MLflow 3's client adds ``tag.`mlflow.prompt.is_prompt` != 'true'`` to every
    registered-model search, so tag conditions must be understood for a plain ``search_registered_models``."""
    expr: Expr | None = parse_mlflow_filter(text)
    items = [] if expr is None else list(expr.items) if isinstance(expr, And) else [expr]
    out = []
    for item in items:
        if not isinstance(item, Comparison) or not (
            item.field in allowed.values() or item.field.namespace == "tags"
        ):
            raise InvalidInputError(
                f"registry searches filter by {', '.join(allowed)} and tags only (=, !=, IN, LIKE '%x%')",
                field="filter",
            )
        out.append(item)
    return out


def _value(condition: Comparison, values: dict[FieldRef, str], tags: dict[str, str]) -> str | None:
    """The value a condition compares: an attribute, or a tag (None when the tag is not set)."""
    if condition.field.namespace == "tags":
        return tags.get(condition.field.key)
    return values[condition.field]


def _meets(value: str | None, condition: Comparison) -> bool:
    """MLflow's semantics: a tag that is not set equals nothing and differs from every value."""
    wanted = condition.value
    if condition.op == "=":
        return value == wanted
    if condition.op == "!=":
        return value != wanted
    if condition.op == "contains":
        return value is not None and isinstance(wanted, str) and wanted in value
    if condition.op in ("in", "not_in") and isinstance(wanted, tuple):
        return (value in wanted) == (condition.op == "in")
    raise InvalidInputError(
        f"operator {condition.op!r} is not supported in registry searches", field="filter"
    )


def _page(call: Call, items: list[Any], key: str, shape: Any) -> dict[str, Any]:
    token = call.args.text("page_token") or "0"
    if not re.fullmatch(r"[0-9]{1,18}", token):
        raise InvalidInputError("page_token is not one this server gave", field="page_token")
    offset, limit = int(token), call.args.integer("max_results", 100) or 100
    page = items[offset : offset + limit]
    answer: dict[str, Any] = {key: [shape(i) for i in page]}
    if offset + len(page) < len(items):
        answer["next_page_token"] = str(offset + len(page))
    return answer


# -- registered models -------------------------------------------------------------------------------------
@endpoint(router, "/registered-models/create")
def create_registered_model(call: Call) -> dict[str, Any]:
    """A model is created in the project named by the tag ``mltrail.project``; without it, in the project of
    the run its first version comes from (then nothing is stored until that version)."""
    name = call.args.need("name")
    ra = call.registry_access
    if ra.model_if_exists(name, Role.VIEWER) is not None:
        raise ConflictError(f"registered model {name!r} already exists")
    tags = call.args.tags()
    project = tags.pop(PROJECT_TAG, None)
    if project is None:
        validate_model_name(name)
        now = call.registry_access.registry.clock()
        return {
            "registered_model": {
                "name": name,
                "creation_timestamp": round(now * 1000),
                "last_updated_timestamp": round(now * 1000),
                "description": call.args.text("description") or "",
                "tags": [],
                "aliases": [],
                "latest_versions": [],
            }
        }
    ra.project(project, Role.MEMBER)
    model = ra.registry.create_model(
        name,
        project=project,
        principal=ra.principal,
        description=call.args.text("description"),
        tags=tags,
        origin=ra.origin,
    )
    return {"registered_model": model_json(model)}


@endpoint(router, "/registered-models/get", _GET)
def get_registered_model(call: Call) -> dict[str, Any]:
    model = call.registry_access.model(call.args.need("name"), Role.VIEWER)
    return {"registered_model": model_json(model, _latest(call, model))}


def _search_registered_models(call: Call) -> dict[str, Any]:
    conditions = _conditions(call.args.text("filter"), {"name": FieldRef("attr", "name")})
    ra = call.registry_access
    models, _ = ra.registry.list_models(projects=ra.visible_projects(), limit=1000)
    name = FieldRef("attr", "name")
    found = [m for m in models if all(_meets(_value(c, {name: m.name}, m.tags), c) for c in conditions)]
    found.sort(key=lambda m: m.name)
    return _page(call, found, "registered_models", lambda m: model_json(m, _latest(call, m)))


endpoint(router, "/registered-models/search", _GET)(_search_registered_models)
endpoint(router, "/registered-models/search", read_only=True)(_search_registered_models)


@endpoint(router, "/registered-models/get-latest-versions", ("GET", "POST"), read_only=True)
def get_latest_versions(call: Call) -> dict[str, Any]:
    name = call.args.need("name")
    call.registry_access.model(name, Role.VIEWER)
    stages = [s.lower() for s in call.args.texts("stages")] or [s.value for s in Stage]
    out: list[dict[str, Any]] = []
    for stage in stages:
        try:
            versions, _ = call.registry_access.registry.list_versions(name, stage=Stage(stage), limit=1)
        except ValueError as exc:
            raise InvalidInputError(
                f"stage {stage!r} is not one of None, Staging, Production, Archived", "stages"
            ) from exc
        out.extend(_version_json(call, v) for v in versions)
    return {"model_versions": out}


@endpoint(router, "/registered-models/alias")
def set_registered_model_alias(call: Call) -> dict[str, Any]:
    name, alias = call.args.need("name"), call.args.need("alias")
    ra = call.registry_access
    ra.model(name, Role.MEMBER)
    moved = ra.registry.set_alias(name, alias, _number(call), principal=ra.principal, origin=ra.origin)
    if moved.request is not None:
        raise PermissionDeniedError(
            f"alias {alias!r} of {name!r} is protected: transition request {moved.request.id} was opened and"
            " waits for approval (mltrail models requests)"
        )
    return {}


@endpoint(router, "/registered-models/alias", ("DELETE",))
def delete_registered_model_alias(call: Call) -> dict[str, Any]:
    name, alias = call.args.need("name"), call.args.need("alias")
    ra = call.registry_access
    ra.model(name, Role.MEMBER)
    ra.registry.delete_alias(name, alias, principal=ra.principal, origin=ra.origin)
    return {}


@endpoint(router, "/registered-models/alias", _GET)
def get_model_version_by_alias(call: Call) -> dict[str, Any]:
    name, alias = call.args.need("name"), call.args.need("alias")
    call.registry_access.model(name, Role.VIEWER)
    version = call.registry_access.registry.resolve(f"{name}@{alias}")
    return {"model_version": _version_json(call, version)}


# -- model versions --------------------------------------------------------------------------------------
@endpoint(router, "/model-versions/create")
def create_model_version(call: Call) -> dict[str, Any]:
    name, source = call.args.need("name"), call.args.need("source")
    ra = call.registry_access
    ra.model_if_exists(name, Role.MEMBER)
    run_id = call.args.text("run_id")
    if run_id:
        ra.run(run_id, Role.MEMBER)
    version = call.models.create_version(
        name,
        source=source,
        run_id=run_id,
        principal=ra.principal,
        description=call.args.text("description"),
        tags=call.args.tags(),
        origin=ra.origin,
        check_run=lambda found: ra.run(found, Role.MEMBER),
    )
    return {"model_version": _version_json(call, version)}


@endpoint(router, "/model-versions/get", _GET)
def get_model_version(call: Call) -> dict[str, Any]:
    name = call.args.need("name")
    call.registry_access.model(name, Role.VIEWER)
    return {
        "model_version": _version_json(call, call.registry_access.registry.get_version(name, _number(call)))
    }


@endpoint(router, "/model-versions/get-download-uri", _GET)
def get_model_version_download_uri(call: Call) -> dict[str, Any]:
    name = call.args.need("name")
    call.registry_access.model(name, Role.VIEWER)
    version = call.registry_access.registry.get_version(name, _number(call))
    experiment = call.tracking.experiment_id_of_run(version.run_id)
    if experiment is None:
        raise NotFoundError(f"{version.ref} has no run to download it from")
    return {"artifact_uri": call.models.download_uri(version, experiment)}


def _search_model_versions(call: Call) -> dict[str, Any]:
    fields = {"name": FieldRef("attr", "name"), "run_id": FieldRef("attr", "id")}
    conditions = _conditions(call.args.text("filter"), fields)
    ra = call.registry_access
    names = [
        str(c.value)
        for c in conditions
        if c.field == fields["name"] and c.op == "=" and isinstance(c.value, str)
    ]
    if names:
        models = []
        with contextlib.suppress(NotFoundError):  # a missing (or hidden) model has no versions to show
            models.append(ra.model(names[0], Role.VIEWER))
    else:
        models, _ = ra.registry.list_models(projects=ra.visible_projects(), limit=1000)
    found: list[ModelVersion] = []
    for model in models:
        versions, _ = ra.registry.list_versions(model.name, limit=1000)
        for version in versions:
            values = {fields["name"]: version.model, fields["run_id"]: version.run_id or ""}
            if all(_meets(_value(c, values, version.tags), c) for c in conditions):
                found.append(version)
    found.sort(key=lambda v: (v.model, -v.version))
    return _page(call, found, "model_versions", lambda v: _version_json(call, v))


endpoint(router, "/model-versions/search", _GET)(_search_model_versions)
endpoint(router, "/model-versions/search", read_only=True)(_search_model_versions)


@endpoint(router, "/model-versions/transition-stage")
def transition_model_version_stage(call: Call) -> dict[str, Any]:
    name = call.args.need("name")
    ra = call.registry_access
    ra.model(name, Role.MEMBER)
    stage = call.args.need("stage").lower()
    moved = ra.registry.transition(name, _number(call), principal=ra.principal, stage=stage, origin=ra.origin)
    if moved.request is not None:
        raise PermissionDeniedError(
            f"stage {stage!r} of {name!r} is protected: transition request {moved.request.id} was opened and"
            " waits for approval (mltrail models requests)"
        )
    return {"model_version": _version_json(call, moved.version)}
