"""How an MLflow route is declared: its arguments (query string or JSON body, as MLflow's client sends them)
read into ``Args``, the handler run in a worker thread with the request's ``Call``, the answer as JSON."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from mltrail.api.access import Access, AccessDep
from mltrail.api.registry.access import RegistryAccess, RegistryAccessDep
from mltrail.errors import InvalidInputError
from mltrail.json_floats import encode_floats
from mltrail.services.mlflow.logged_models import MlflowLoggedModels
from mltrail.services.mlflow.models import MlflowModels
from mltrail.services.mlflow.tracking import MlflowTracking

__all__ = ["Args", "Call", "JsonResponse", "endpoint"]

MAX_TEXT = 1 << 20


class JsonResponse(Response):
    """JSON as MLflow's server writes it (protobuf's JSON mapping): NaN and ±Infinity as the strings
    ``"NaN"``, ``"Infinity"``, ``"-Infinity"``. Bare literals are not JSON, and the MLflow client's protobuf
    parser refuses them ("Couldn't parse NaN, use quoted "NaN" instead")."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json.dumps(
            encode_floats(content), ensure_ascii=False, allow_nan=False, separators=(",", ":")
        ).encode()


class Args:
    """A request's arguments, checked as they are read: a wrong type is a 400 naming the field."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def text(self, name: str, *, required: bool = False, default: str | None = None) -> str | None:
        value = self.data.get(name)
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        if value is None or value == "":
            if required:
                raise InvalidInputError(f"{name} is required", field=name)
            return default
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise InvalidInputError(f"{name} must be a string", field=name)
        out = str(value)
        if len(out) > MAX_TEXT:
            raise InvalidInputError(f"{name} is longer than {MAX_TEXT} characters", field=name)
        return out

    def need(self, name: str) -> str:
        value = self.text(name, required=True)
        assert value is not None
        return value

    def integer(self, name: str, default: int | None = None) -> int | None:
        value = self.data.get(name)
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        if value is None or value == "":
            return default
        try:
            number = int(value)
        except (TypeError, ValueError) as exc:
            raise InvalidInputError(f"{name} must be an integer", field=name) from exc
        if not -(2**63) <= number < 2**63:
            raise InvalidInputError(f"{name} must be a 64-bit integer", field=name)
        return number

    def number(self, name: str) -> float:
        value = self.data.get(name)
        if isinstance(value, bool) or value is None:
            raise InvalidInputError(f"{name} must be a number", field=name)
        try:
            return float(value)
        except (TypeError, ValueError) as exc:
            raise InvalidInputError(f"{name} must be a number", field=name) from exc

    def texts(self, name: str) -> list[str]:
        value = self.data.get(name)
        if value is None:
            return []
        items = value if isinstance(value, list) else [value]
        if not all(isinstance(v, str | int) and not isinstance(v, bool) for v in items):
            raise InvalidInputError(f"{name} must be a list of strings", field=name)
        return [str(v) for v in items]

    def objects(self, name: str) -> list[dict[str, Any]]:
        value = self.data.get(name)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise InvalidInputError(f"{name} must be a list of objects", field=name)
        return value

    def tags(self, name: str = "tags") -> dict[str, str]:
        """``[{"key": …, "value": …}]`` as a dict."""
        out: dict[str, str] = {}
        for item in self.objects(name):
            key, value = item.get("key"), item.get("value")
            if not isinstance(key, str) or not key:
                raise InvalidInputError(f"every item of {name} needs a key", field=name)
            out[key] = "" if value is None else str(value)
        return out


@dataclass
class Call:
    """One MLflow request: its arguments, who sends it, and the services it may use."""

    args: Args
    access: Access
    registry_access: RegistryAccess
    tracking: MlflowTracking
    models: MlflowModels
    logged_models: MlflowLoggedModels
    request: Request


async def _read_args(request: Request) -> dict[str, Any]:
    data: dict[str, Any] = dict(request.path_params)
    for key in request.query_params:
        values = request.query_params.getlist(key)
        data[key] = values if len(values) > 1 or key.endswith("_ids") else values[0]
    if request.method in ("POST", "PATCH", "DELETE", "PUT"):
        raw = await request.body()
        if raw.strip():
            try:
                body = json.loads(raw)
            except ValueError as exc:
                raise InvalidInputError(f"the body is not JSON: {exc}", field="body") from exc
            if not isinstance(body, dict):
                raise InvalidInputError("the body must be a JSON object", field="body")
            data.update(body)
    return data


def endpoint(
    router: APIRouter, path: str, methods: Sequence[str] = ("POST",), *, read_only: bool = False
) -> Callable[[Callable[[Call], dict[str, Any]]], Callable[[Call], dict[str, Any]]]:
    """Register ``handler(call) -> dict`` at ``path`` as route ``mlflow_<name>`` (the audit's action).

    ``read_only`` marks a POST that only reads (a search), so the audit does not record it."""

    def register(handler: Callable[[Call], dict[str, Any]]) -> Callable[[Call], dict[str, Any]]:
        async def route(request: Request, access: AccessDep, registry_access: RegistryAccessDep) -> Response:
            if read_only and access.note is not None:
                access.note.read_only = True
            args = Args(await _read_args(request))
            state = request.app.state
            call = Call(
                args,
                access,
                registry_access,
                state.mlflow_tracking,
                state.mlflow_models,
                state.mlflow_logged_models,
                request,
            )
            result = await run_in_threadpool(handler, call)
            return JsonResponse(result)

        name = "mlflow_" + handler.__name__
        router.add_api_route(
            path, route, methods=list(methods), name=name, include_in_schema=False, response_model=None
        )
        return handler

    return register
