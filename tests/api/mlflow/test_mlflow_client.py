"""The real MLflow client, unmodified, against a real ``mltrail server --auth`` on 127.0.0.1: a typical
training script (start_run, log_params, log_metric in a loop, log_artifact, sklearn.log_model, search_runs,
register_model, an alias, load by alias) authenticated with ``MLFLOW_TRACKING_TOKEN`` as an API key, then
every value read back through mltrail's own API and CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from live_server import MLTRAIL, LiveServer, start_server

from mltrail.services.accounts.service import AccountService
from mltrail.store.factory import open_store

pytest.importorskip("mlflow", reason="mlflow-skinny is a test dependency (pyproject's dev group)")
pytestmark = pytest.mark.slow
SCRIPT = Path(__file__).with_name("typical_script.py")


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, dict[str, str]]]:
    home = tmp_path_factory.mktemp("mlflow-server") / "mltrail"
    store = open_store(f"sqlite:///{home / 'mltrail.db'}")
    accounts = AccountService(store)
    keys = {
        name: accounts.create_user(name, role)[1].secret
        for name, role in [("ana", "member"), ("vic", "viewer")]
    }
    store.close()
    live = start_server(home, "--auth")
    yield live, keys
    live.stop()


def mlflow_env(url: str, key: str | None, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "MLTRAIL_"))}
    env.update(MLFLOW_TRACKING_URI=url, HOME=str(tmp_path), GIT_PYTHON_REFRESH="quiet")
    if key is not None:
        env["MLFLOW_TRACKING_TOKEN"] = key
    return env


def test_a_typical_mlflow_script_logs_to_mltrail(
    auth_server: tuple[LiveServer, dict[str, str]], tmp_path: Path
) -> None:
    live, keys = auth_server
    done = subprocess.run(
        [sys.executable, str(SCRIPT)],
        env=mlflow_env(live.url, keys["ana"], tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    run_id = result["run_id"]
    assert result["found"] == [run_id] and result["version"] == "1" and result["same_predictions"] is True

    headers = {"Authorization": f"Bearer {keys['ana']}"}
    with httpx.Client(base_url=f"{live.url}/api/v1", headers=headers, timeout=30) as api:
        run = api.get(f"/runs/{run_id}").json()
        assert run["project"] == "mlflow-demo" and run["name"] == "logreg" and run["status"] == "finished"
        assert run["user"] == "ana"  # the key's user, whatever the client said
        assert run["params"] == {"C": "0.5", "solver": "lbfgs"} and run["tags"]["team"] == "fraud"
        history = api.get(f"/runs/{run_id}/metrics/history", params={"key": "loss"}).json()
        assert history["steps"] == list(range(20))
        assert history["values"][-1] == pytest.approx(1 / 20)
        paths = {a["path"] for a in api.get(f"/runs/{run_id}/artifacts").json()}
        assert {"notes.txt", "model/MLmodel", "model/mltrail-model.json"} <= paths
        model_files = {p for p in paths if p.startswith("model/")}
        assert len(model_files) > 2  # the estimator's own file(s), whichever format MLflow chose
        version = api.get("/models/fraud-clf/versions/1").json()
        assert (
            version["run_id"] == run_id
            and version["aliases"] == ["candidate"]
            and version["flavor"] == "mlflow"
        )
        events = api.get("/models/fraud-clf/audit", params={"action": "downloaded"}).json()
        downloaded = {e["details"].get("path") for e in events}
        assert "MLmodel" in downloaded and len(downloaded) > 1  # loading by alias was audited, file by file

    cli_env = {
        **mlflow_env(live.url, None, tmp_path),
        "MLTRAIL_SERVER": live.url,
        "MLTRAIL_API_KEY": keys["ana"],
    }
    cli_env["COLUMNS"] = "200"
    listed = subprocess.run(
        [MLTRAIL, "runs", "list", "mlflow-demo"], env=cli_env, capture_output=True, text=True, timeout=60
    )
    assert listed.returncode == 0, listed.stderr
    assert run_id[:8] in listed.stdout and "logreg" in listed.stdout and "0.93" in listed.stdout


def test_without_a_token_the_client_gets_mlflows_unauthenticated(
    auth_server: tuple[LiveServer, dict[str, str]],
) -> None:
    live, keys = auth_server
    response = httpx.post(f"{live.url}/api/2.0/mlflow/experiments/create", json={"name": "x"})
    assert response.status_code == 401 and response.json()["error_code"] == "UNAUTHENTICATED"
    viewer = httpx.post(
        f"{live.url}/api/2.0/mlflow/experiments/create",
        json={"name": "x"},
        headers={"Authorization": f"Bearer {keys['vic']}"},
    )
    assert viewer.status_code == 403 and viewer.json()["error_code"] == "PERMISSION_DENIED"
