"""``mltrail import mlflow``: a file store written by the real MLflow client (a typical script, a run whose
artifacts were lost, a deleted run) imported with its values, then imported again without duplicates."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mltrail.services.mlflow.filters import DELETED_TAG
from mltrail.store.factory import open_store

pytest.importorskip("mlflow", reason="mlflow-skinny is a test dependency (pyproject's dev group)")
pytestmark = pytest.mark.slow
SCRIPT = Path(__file__).parents[1] / "api" / "mlflow" / "typical_script.py"
MORE = """
import mlflow
mlflow.set_experiment("mlflow-demo")
with mlflow.start_run(run_name="lost") as lost:
    mlflow.log_metric("loss", 0.5, step=3)
with mlflow.start_run(run_name="gone") as gone:
    mlflow.log_param("x", "1")
mlflow.delete_run(gone.info.run_id)
print(lost.info.run_id, gone.info.run_id)
"""


def test_import_a_file_store_twice(tmp_path: Path, invoke, home: Path) -> None:  # type: ignore[no-untyped-def]
    mlruns = tmp_path / "mlruns"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "MLTRAIL_"))}
    env.update(MLFLOW_TRACKING_URI=mlruns.as_uri(), MLFLOW_ALLOW_FILE_STORE="true", HOME=str(tmp_path))
    for args in ([str(SCRIPT)], ["-c", MORE]):
        done = subprocess.run(
            [sys.executable, *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=240
        )
        assert done.returncode == 0, done.stderr[-4000:]
    lost_id, _gone_id = done.stdout.split()
    lost_artifacts = next(mlruns.glob(f"*/{lost_id}/artifacts"))
    shutil.rmtree(lost_artifacts)

    first = invoke("import", "mlflow", "--from", str(mlruns))
    assert first.exit_code == 0, first.output
    assert "runs: 3 imported, 0 already there" in first.stdout
    assert "versions: 1 imported" in first.stdout and "1 aliases" in first.stdout
    assert f"run {lost_id}: artifact folder" in first.stderr  # reported, and the run imported all the same

    store = open_store(f"sqlite:///{home / 'mltrail.db'}")
    try:
        runs = {
            r.name: r for r in store.search_runs("mlflow-demo", filter=None, sort=[], offset=0, limit=10).runs
        }
        logreg = runs["logreg"]
        assert logreg.params == {"C": "0.5", "solver": "lbfgs"} and logreg.tags["team"] == "fraud"
        assert logreg.status.value == "finished" and logreg.end_time is not None and logreg.user
        history = store.get_metric_history(logreg.id, "loss")
        assert history.steps == list(range(20)) and history.values[-1] == pytest.approx(1 / 20)
        paths = {a.path for a in store.list_artifacts(logreg.id)}
        assert "notes.txt" in paths and any(p.endswith("/MLmodel") for p in paths)
        assert runs["lost"].metrics["loss"].last == 0.5
        assert DELETED_TAG in runs["gone"].tags  # deleted in MLflow: kept, marked as MLflow does
        version = store.get_model_version("fraud-clf", 1)
        assert version.run_id == logreg.id and version.aliases == ("candidate",)
    finally:
        store.close()

    again = invoke("import", "mlflow", "--from", str(mlruns))
    assert again.exit_code == 0, again.output
    assert (
        "runs: 0 imported, 3 already there" in again.stdout
        and "versions: 0 imported, 1 already there" in again.stdout
    )


# MLflow's own SQL store, run in-process here, uses a SQLAlchemy option that SQLAlchemy 2.1 deprecates.
@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SADeprecationWarning")
def test_import_mlflows_default_database(tmp_path: Path, invoke, home: Path) -> None:  # type: ignore[no-untyped-def]
    """MLflow 3's default store, ``sqlite:///mlflow.db``, read through MLflow's own client."""
    database = f"sqlite:///{tmp_path / 'mlflow.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "MLTRAIL_"))}
    env.update(MLFLOW_TRACKING_URI=database, HOME=str(tmp_path))
    done = subprocess.run(
        [sys.executable, str(SCRIPT)], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr[-4000:]

    first = invoke("import", "mlflow", "--from", database)
    assert first.exit_code == 0, first.output
    assert "runs: 1 imported" in first.stdout and "versions: 1 imported" in first.stdout, first.output
    store = open_store(f"sqlite:///{home / 'mltrail.db'}")
    try:
        (run,) = store.search_runs("mlflow-demo", filter=None, sort=[], offset=0, limit=10).runs
        assert run.params == {"C": "0.5", "solver": "lbfgs"} and run.metrics["loss"].count == 20
        assert "notes.txt" in {a.path for a in store.list_artifacts(run.id)}
        assert store.get_model_version("fraud-clf", 1).aliases == ("candidate",)
    finally:
        store.close()
    again = invoke("import", "mlflow", "--from", database)
    assert "runs: 0 imported, 1 already there" in again.stdout, again.output


def test_a_source_that_is_not_there_is_named(invoke, home: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = invoke("import", "mlflow", "--from", str(tmp_path / "nowhere"))
    assert result.exit_code != 0 and "nowhere" in result.stderr


def test_import_from_a_tracking_server_over_http(  # type: ignore[no-untyped-def]
    tmp_path: Path, invoke, home: Path, tmp_path_factory: pytest.TempPathFactory, live_server
) -> None:
    """``--from http://host:port``: the source is a live tracking server spoken to through MLflow's REST API
    (here a second ``mltrail server``, the one MLflow server this test environment has: mlflow-skinny
    ships the client only), with the artifacts fetched through its artifact proxy."""
    source = live_server.start_server(tmp_path_factory.mktemp("mlflow-source") / "mltrail", timeout=120)
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "MLTRAIL_"))}
        env.update(MLFLOW_TRACKING_URI=source.url, HOME=str(tmp_path), GIT_PYTHON_REFRESH="quiet")
        done = subprocess.run(
            [sys.executable, str(SCRIPT)], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=240
        )
        assert done.returncode == 0, done.stderr[-4000:]

        first = invoke("import", "mlflow", "--from", source.url)
        assert first.exit_code == 0, first.output
        assert "runs: 1 imported" in first.stdout and "versions: 1 imported" in first.stdout, first.output
        store = open_store(f"sqlite:///{home / 'mltrail.db'}")
        try:
            (run,) = store.search_runs("mlflow-demo", filter=None, sort=[], offset=0, limit=10).runs
            assert run.params == {"C": "0.5", "solver": "lbfgs"} and run.tags["team"] == "fraud"
            history = store.get_metric_history(run.id, "loss")
            assert history.steps == list(range(20)) and history.values[-1] == pytest.approx(1 / 20)
            assert "notes.txt" in {a.path for a in store.list_artifacts(run.id)}
            assert store.get_model_version("fraud-clf", 1).aliases == ("candidate",)
        finally:
            store.close()
        again = invoke("import", "mlflow", "--from", source.url)
        assert "runs: 0 imported, 1 already there" in again.stdout, again.output
    finally:
        source.stop()
