"""Bad input to every MLflow route: always an answer in MLflow's error shape (or a success), never a 5xx."""

from __future__ import annotations

from typing import Any

import pytest
from live_server import TestClient

from mltrail.api.mlflow import artifacts, logged_models, registry, tracking

API = "/api/2.0/mlflow"
pytestmark = pytest.mark.slow


BODIES: list[Any] = [
    {},
    [],
    {"run_id": "nope", "run_uuid": 5, "experiment_id": "²", "name": ["a", "b"]},
    {"experiment_ids": "1", "max_results": "many", "page_token": "²", "filter": "metrics.a >"},
    {"name": "m", "version": "²", "alias": "", "source": "s3://bucket/x", "stage": "gold"},
    {"metrics": [1, "x"], "params": {"a": 1}, "tags": [{"value": "no key"}], "datasets": [{"dataset": {}}]},
    {"key": "k" * 300, "value": {"nested": True}, "timestamp": 1e400, "step": 2**70, "status": "BOGUS"},
    {"experiment_id": "0", "run_name": "\ud800", "start_time": "yesterday", "model_id": "m-x-"},
]


def mlflow_paths() -> list[tuple[str, str]]:
    """Every MLflow route, and paths no route serves (the catch-alls)."""
    found = [("POST", "/api/2.0/mlflow/experiments/delete"), ("PUT", "/api/2.0/mlflow-artifacts/mpu/create")]
    routers = [(API, tracking.router), (API, logged_models.router), (API, registry.router)]
    routers += [(API, artifacts.list_router), ("/api/2.0/mlflow-artifacts", artifacts.proxy_router)]
    for prefix, router in routers:
        for route in router.routes:
            path = str(getattr(route, "path", ""))
            for method in sorted(getattr(route, "methods", set()) - {"HEAD"}):
                concrete = path.replace("{model_id}", "m-1-x").replace("{tag_key}", "k")
                concrete = concrete.replace("{path}", "1/nope/artifacts/x").replace("{rest}", "anything")
                found.append((method, prefix + concrete))
    return sorted(set(found))


@pytest.fixture
def seeded(client: TestClient) -> tuple[TestClient, list[Any]]:
    """The client, and the bodies above plus each naming a real experiment and run (to get past the lookups
    into the handlers' own checks)."""
    experiment = client.post(f"{API}/experiments/create", json={"name": "seed"}).json()["experiment_id"]
    created = client.post(f"{API}/runs/create", json={"experiment_id": experiment}).json()
    real = {
        "run_id": created["run"]["info"]["run_id"],
        "experiment_id": experiment,
        "experiment_ids": [experiment],
    }
    return client, [*BODIES, *({**b, **real} for b in BODIES if isinstance(b, dict))]


def test_no_route_answers_5xx(seeded: tuple[TestClient, list[Any]]) -> None:
    client, bodies = seeded
    paths = mlflow_paths()
    assert len(paths) > 30
    for method, path in paths:
        for body in bodies:
            if method == "GET":
                # a query string cannot carry a lone surrogate: those go in bodies only
                params = (
                    {k: str(v) for k, v in body.items() if "\ud800" not in str(v)}
                    if isinstance(body, dict)
                    else None
                )
                response = client.get(path, params=params)
            else:
                response = client.request(
                    method, path, content=_json(body), headers={"content-type": "application/json"}
                )
            assert response.status_code < 500, (method, path, body, response.text)
            if response.status_code >= 400:
                error = response.json()
                assert set(error) == {"error_code", "message"}, (method, path, error)


def _json(body: Any) -> bytes:
    import json

    return json.dumps(body).encode("utf-8", "surrogatepass")
