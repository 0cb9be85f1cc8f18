"""MLflow's REST API in-process: experiments, runs, logging, search, history, artifacts through the proxy,
the registry over an MLflow model folder, and errors in MLflow's shape."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from live_server import TestClient

API = "/api/2.0/mlflow"
PROXY = "/api/2.0/mlflow-artifacts/artifacts"
MLMODEL = (
    b"artifact_path: model\nflavors:\n  python_function:\n    loader_module: mlflow.sklearn\n"
    b"  sklearn:\n    pickled_model: model.pkl\n"
)


def ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def new_run(client: TestClient, experiment: str = "exp", name: str = "r1") -> tuple[str, str]:
    eid = client.get(f"{API}/experiments/get-by-name", params={"experiment_name": experiment})
    if eid.status_code == 404:
        experiment_id = ok(client.post(f"{API}/experiments/create", json={"name": experiment}))[
            "experiment_id"
        ]
    else:
        experiment_id = eid.json()["experiment"]["experiment_id"]
    run = ok(
        client.post(
            f"{API}/runs/create",
            json={
                "experiment_id": experiment_id,
                "run_name": name,
                "start_time": 1_700_000_000_000,
                "tags": [{"key": "mlflow.user", "value": "ana"}, {"key": "team", "value": "a"}],
            },
        )
    )["run"]
    return experiment_id, run["info"]["run_id"]


def test_experiments(client: TestClient) -> None:
    eid = ok(client.post(f"{API}/experiments/create", json={"name": "churn"}))["experiment_id"]
    got = ok(client.get(f"{API}/experiments/get", params={"experiment_id": eid}))["experiment"]
    assert got["name"] == "churn" and got["lifecycle_stage"] == "active"
    assert (
        ok(client.get(f"{API}/experiments/get-by-name", params={"experiment_name": "churn"}))["experiment"][
            "experiment_id"
        ]
        == eid
    )
    again = client.post(f"{API}/experiments/create", json={"name": "churn"})
    assert again.status_code == 400 and again.json()["error_code"] == "RESOURCE_ALREADY_EXISTS"
    ok(client.post(f"{API}/experiments/create", json={"name": "other"}))
    found = ok(client.post(f"{API}/experiments/search", json={"filter": "name LIKE '%hur%'"}))["experiments"]
    assert [e["name"] for e in found] == ["churn"]
    default = ok(client.get(f"{API}/experiments/get", params={"experiment_id": "0"}))["experiment"]
    assert default == {**default, "experiment_id": "0", "name": "Default"}
    missing = client.get(f"{API}/experiments/get", params={"experiment_id": "999"})
    assert missing.status_code == 404 and missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_run_logging_and_reading(client: TestClient) -> None:
    experiment_id, run_id = new_run(client)
    ok(client.post(f"{API}/runs/log-parameter", json={"run_id": run_id, "key": "lr", "value": "0.01"}))
    ok(client.post(f"{API}/runs/set-tag", json={"run_id": run_id, "key": "stage", "value": "dev"}))
    for step in range(5):
        ok(
            client.post(
                f"{API}/runs/log-metric",
                json={
                    "run_id": run_id,
                    "key": "loss",
                    "value": 1 / (step + 1),
                    "timestamp": 1_700_000_001_000 + step,
                    "step": step,
                },
            )
        )
    ok(
        client.post(
            f"{API}/runs/log-batch",
            json={
                "run_id": run_id,
                "metrics": [
                    {"key": "acc", "value": 0.5, "timestamp": 1_700_000_002_000, "step": 0},
                    {"key": "acc", "value": "NaN", "timestamp": 1_700_000_002_001, "step": 1},
                ],
                "params": [{"key": "depth", "value": "3"}],
                "tags": [{"key": "mlflow.runName", "value": "renamed"}],
            },
        )
    )
    run = ok(client.get(f"{API}/runs/get", params={"run_id": run_id}))["run"]
    info, data = run["info"], run["data"]
    assert (
        info["experiment_id"] == experiment_id
        and info["status"] == "RUNNING"
        and info["run_name"] == "renamed"
    )
    assert info["start_time"] == 1_700_000_000_000 and info["user_id"] == "ana"
    assert info["artifact_uri"] == f"mlflow-artifacts:/{experiment_id}/{run_id}/artifacts"
    assert {p["key"]: p["value"] for p in data["params"]} == {"lr": "0.01", "depth": "3"}
    tags = {t["key"]: t["value"] for t in data["tags"]}
    assert tags["team"] == "a" and tags["stage"] == "dev" and tags["mlflow.runName"] == "renamed"
    metrics = {m["key"]: m for m in data["metrics"]}
    assert metrics["loss"]["value"] == pytest.approx(0.2) and metrics["loss"]["step"] == 4
    assert metrics["acc"]["value"] == "NaN"  # kept, and sent as protobuf's JSON (MLflow's server) writes it
    history = ok(
        client.get(
            f"{API}/metrics/get-history", params={"run_id": run_id, "metric_key": "loss", "max_results": 2}
        )
    )
    assert [p["step"] for p in history["metrics"]] == [0, 1] and history["next_page_token"] == "2"
    assert history["metrics"][0]["timestamp"] == 1_700_000_001_000
    rest = ok(
        client.get(
            f"{API}/metrics/get-history",
            params={"run_id": run_id, "metric_key": "loss", "page_token": history["next_page_token"]},
        )
    )
    assert [p["step"] for p in rest["metrics"]] == [2, 3, 4] and "next_page_token" not in rest
    done = ok(
        client.post(
            f"{API}/runs/update", json={"run_id": run_id, "status": "FINISHED", "end_time": 1_700_000_100_000}
        )
    )
    assert done["run_info"]["status"] == "FINISHED" and done["run_info"]["end_time"] == 1_700_000_100_000
    # mltrail's own API shows the same run
    native = ok(client.get(f"/api/v1/runs/{run_id}"))
    assert native["project"] == "exp" and native["name"] == "renamed" and native["status"] == "finished"
    assert native["params"]["lr"] == "0.01" and native["tags"]["stage"] == "dev"


def test_search_filter_order_paging_and_delete_restore(client: TestClient) -> None:
    experiment_id, first = new_run(client, name="a")
    _, second = new_run(client, name="b")
    _, third = new_run(client, name="c")
    for run_id, acc in ((first, 0.7), (second, 0.9), (third, 0.8)):
        ok(
            client.post(
                f"{API}/runs/log-metric",
                json={"run_id": run_id, "key": "acc", "value": acc, "timestamp": 1, "step": 0},
            )
        )
    body = {
        "experiment_ids": [experiment_id],
        "filter": "metrics.acc > 0.75",
        "order_by": ["metrics.acc DESC"],
    }
    found = ok(client.post(f"{API}/runs/search", json=body))["runs"]
    assert [r["info"]["run_id"] for r in found] == [second, third]
    page = ok(client.post(f"{API}/runs/search", json={**body, "filter": "", "max_results": 2}))
    assert len(page["runs"]) == 2 and page["next_page_token"] == "2"
    ok(client.post(f"{API}/runs/delete", json={"run_id": second}))
    active = ok(client.post(f"{API}/runs/search", json=body))["runs"]
    assert [r["info"]["run_id"] for r in active] == [third]
    deleted = ok(client.post(f"{API}/runs/search", json={**body, "run_view_type": "DELETED_ONLY"}))["runs"]
    assert [r["info"]["lifecycle_stage"] for r in deleted] == ["deleted"]
    ok(client.post(f"{API}/runs/restore", json={"run_id": second}))
    assert len(ok(client.post(f"{API}/runs/search", json=body))["runs"]) == 2
    bad = client.post(f"{API}/runs/search", json={**body, "filter": "metrics.acc > 1 OR metrics.acc < 0"})
    assert bad.status_code == 400 and bad.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "OR" in bad.json()["message"]


def test_errors_in_mlflows_shape(client: TestClient) -> None:
    missing = client.get(f"{API}/runs/get", params={"run_id": "0" * 32})
    assert missing.status_code == 404 and missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    no_field = client.post(f"{API}/runs/log-metric", json={"run_id": "x"})
    assert no_field.status_code in (400, 404) and "error_code" in no_field.json()
    unsupported = client.post(f"{API}/experiments/delete", json={"experiment_id": "1"})
    assert unsupported.status_code == 404
    assert unsupported.json()["error_code"] == "ENDPOINT_NOT_FOUND"
    assert "experiments/delete" in unsupported.json()["message"]
    not_json = client.post(
        f"{API}/runs/create", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert not_json.status_code == 400 and not_json.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    _, run_id = new_run(client)
    bad_value = client.post(
        f"{API}/runs/log-metric", json={"run_id": run_id, "key": "a", "value": "high", "timestamp": 1}
    )
    assert bad_value.status_code == 400 and "value" in bad_value.json()["message"]


def upload(client: TestClient, experiment_id: str, run_id: str, path: str, data: bytes) -> None:
    ok(client.put(f"{PROXY}/{experiment_id}/{run_id}/artifacts/{path}", content=data))


def test_artifact_proxy(client: TestClient) -> None:
    experiment_id, run_id = new_run(client)
    upload(client, experiment_id, run_id, "notes.txt", b"hello")
    upload(client, experiment_id, run_id, "plots/a.png", b"\x89PNG")
    root = ok(client.get(PROXY, params={"path": f"{experiment_id}/{run_id}/artifacts"}))["files"]
    assert root == [{"path": "notes.txt", "is_dir": False, "file_size": 5}, {"path": "plots", "is_dir": True}]
    plots = ok(client.get(PROXY, params={"path": f"{experiment_id}/{run_id}/artifacts/plots"}))["files"]
    assert plots == [{"path": "a.png", "is_dir": False, "file_size": 4}]
    listed = ok(client.get(f"{API}/artifacts/list", params={"run_id": run_id, "path": "plots"}))
    assert listed["files"] == [{"path": "plots/a.png", "is_dir": False, "file_size": 4}]
    got = client.get(f"{PROXY}/{experiment_id}/{run_id}/artifacts/notes.txt")
    assert got.status_code == 200 and got.content == b"hello"
    assert got.headers["x-content-sha256"] == hashlib.sha256(b"hello").hexdigest()
    traversal = client.put(f"{PROXY}/{experiment_id}/{run_id}/artifacts/..%2F..%2Fetc", content=b"x")
    assert traversal.status_code in (400, 404) and "error_code" in traversal.json()
    gone = client.delete(f"{PROXY}/{experiment_id}/{run_id}/artifacts/notes.txt")
    assert gone.status_code == 404 and gone.json()["error_code"] == "ENDPOINT_NOT_FOUND"


def test_registry_over_an_mlflow_model_folder(client: TestClient) -> None:
    experiment_id, run_id = new_run(client, experiment="reg")
    upload(client, experiment_id, run_id, "model/MLmodel", MLMODEL)
    upload(client, experiment_id, run_id, "model/model.pkl", b"pickled bytes")
    ok(client.post(f"{API}/registered-models/create", json={"name": "churn"}))
    source = f"mlflow-artifacts:/{experiment_id}/{run_id}/artifacts/model"
    version = ok(
        client.post(
            f"{API}/model-versions/create", json={"name": "churn", "source": source, "run_id": run_id}
        )
    )["model_version"]
    assert version["version"] == "1" and version["status"] == "READY" and version["source"] == source
    again = client.post(f"{API}/registered-models/create", json={"name": "churn"})
    assert again.json()["error_code"] == "RESOURCE_ALREADY_EXISTS"
    native = ok(client.get("/api/v1/models/churn/versions/1"))
    assert native["flavor"] == "mlflow" and native["format"] == "mlflow:python_function,sklearn"
    assert ok(client.get("/api/v1/models/churn"))["project"] == "reg"  # the run's project
    ok(
        client.post(
            f"{API}/registered-models/alias", json={"name": "churn", "alias": "candidate", "version": "1"}
        )
    )
    by_alias = ok(
        client.get(f"{API}/registered-models/alias", params={"name": "churn", "alias": "candidate"})
    )
    assert by_alias["model_version"]["aliases"] == ["candidate"]
    protected = client.post(
        f"{API}/registered-models/alias", json={"name": "churn", "alias": "champion", "version": "1"}
    )
    assert protected.status_code == 403 and protected.json()["error_code"] == "PERMISSION_DENIED"
    assert "approval" in protected.json()["message"]
    model = ok(client.get(f"{API}/registered-models/get", params={"name": "churn"}))["registered_model"]
    assert (
        model["aliases"] == [{"alias": "candidate", "version": "1"}]
        and model["latest_versions"][0]["version"] == "1"
    )
    assert [
        m["name"]
        for m in ok(client.get(f"{API}/registered-models/search", params={"filter": "name='churn'"}))[
            "registered_models"
        ]
    ] == ["churn"]
    # MLflow 3's client adds this tag condition to every registered-model search (prompts are excluded):
    # a plain MlflowClient().search_registered_models() was refused before.
    prompts_out = "tag.`mlflow.prompt.is_prompt` != 'true'"
    found = ok(client.get(f"{API}/registered-models/search", params={"filter": prompts_out}))
    assert [m["name"] for m in found["registered_models"]] == ["churn"]
    only_prompts = ok(client.get(f"{API}/registered-models/search", params={"filter": "tags.x = 'y'"}))
    assert only_prompts.get("registered_models", []) == []
    by_tag = ok(
        client.post(f"{API}/model-versions/search", json={"filter": f"name = 'churn' AND {prompts_out}"})
    )
    assert [v["version"] for v in by_tag["model_versions"]] == ["1"]
    versions = ok(client.post(f"{API}/model-versions/search", json={"filter": f"run_id = '{run_id}'"}))[
        "model_versions"
    ]
    assert [v["version"] for v in versions] == ["1"]
    uri = ok(client.get(f"{API}/model-versions/get-download-uri", params={"name": "churn", "version": "1"}))
    assert uri["artifact_uri"] == source
    # A model file downloaded through the proxy is verified and audited as the version's download.
    got = client.get(f"{PROXY}/{experiment_id}/{run_id}/artifacts/model/model.pkl")
    assert got.content == b"pickled bytes"
    events = client.get("/api/v1/models/churn/audit", params={"action": "downloaded"}).json()
    assert any(e["action"] == "downloaded" and e["details"].get("path") == "model.pkl" for e in events)


def test_a_folder_without_mlmodel_is_refused(client: TestClient) -> None:
    experiment_id, run_id = new_run(client, experiment="reg2")
    upload(client, experiment_id, run_id, "model/weights.bin", b"x")
    refused = client.post(
        f"{API}/model-versions/create",
        json={"name": "m2", "source": f"runs:/{run_id}/model", "run_id": run_id},
    )
    assert refused.status_code == 400 and "MLmodel" in refused.json()["message"]
