"""``mltrail export mlflow``: a seeded mltrail store written to an MLflow file store and to MLflow's SQLite
database, read back with the real MLflow client, exported again without duplicates, and imported back."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from typer.testing import Result

import mltrail
from mltrail.store.factory import open_store

mlflow = pytest.importorskip("mlflow", reason="mlflow-skinny is a test dependency (pyproject's dev group)")
sklearn_linear = pytest.importorskip("sklearn.linear_model")
pytestmark = [
    pytest.mark.slow,
    # MLflow's own SQL store, run in-process here, uses a SQLAlchemy option that SQLAlchemy 2.1 deprecates.
    pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SADeprecationWarning"),
]
OFF = {"git": False, "code": False, "environment": False, "system_metrics": False, "console": False}
Invoke = Callable[..., Result]


def _ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def seeded(home: Path, tmp_path: Path, invoke: Invoke) -> dict[str, str]:
    """Two runs of ``demo`` (one with a loss history, a file and a model, registered and aliased, one failed)
    and a run of ``other``."""
    from mltrail.sdk.flavors import save_model

    x = np.arange(40, dtype=float).reshape(20, 2)
    y = (x[:, 0] > 19).astype(int)
    run = mltrail.init(project="demo", name="good", config={"C": 0.5, "solver": "lbfgs"}, capture=OFF)
    for step in range(30):
        run.log({"loss": 1.0 / (step + 1)}, step=step * 2)
    run.log({"acc": math.nan}, step=0)
    run.set_tags({"team": "fraud"})
    notes = tmp_path / "notes.txt"
    notes.write_text("trained on generated data\n")
    run.log_artifact(notes)
    folder = tmp_path / "saved"
    save_model(sklearn_linear.LogisticRegression().fit(x, y), folder)
    run.log_artifact(folder, name="model")
    run.finish()
    failed = mltrail.init(project="demo", name="bad", config={"C": 2}, capture=OFF)
    failed.log({"loss": 0.9}, step=0)
    try:
        raise ValueError("exploded")
    except ValueError as exc:
        failed.finish("failed", error=exc)
    other = mltrail.init(project="other", name="elsewhere", config={"k": 3}, capture=OFF)
    other.finish()
    _ok(invoke("models", "register", "fraud-clf", run.id, "--path", "model"))
    _ok(invoke("models", "alias", "fraud-clf", "candidate", "1"))
    return {"good": run.id, "bad": failed.id, "other": other.id}


def _read_back(uri: str, seeded: dict[str, str], scratch: Path, other: bool = True) -> None:
    client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment = client.get_experiment_by_name("demo")
    runs = {r.info.run_name: r for r in client.search_runs([experiment.experiment_id])}
    assert set(runs) == {"good", "bad"}
    good = runs["good"]
    assert good.data.params == {"C": "0.5", "solver": "lbfgs"} and good.data.tags["team"] == "fraud"
    assert good.data.tags["mltrail.run_id"] == seeded["good"] and good.info.status == "FINISHED"
    assert good.info.end_time is not None and good.info.user_id
    history = client.get_metric_history(good.info.run_id, "loss")
    assert [p.step for p in history] == [2 * s for s in range(30)]
    assert [p.value for p in history] == pytest.approx([1.0 / (s + 1) for s in range(30)])
    assert all(p.timestamp > 1_600_000_000_000 for p in history)  # milliseconds, as MLflow keeps them
    assert math.isnan(client.get_metric_history(good.info.run_id, "acc")[0].value)
    assert runs["bad"].info.status == "FAILED" and runs["bad"].data.params == {"C": "2"}
    listed = {a.path for a in client.list_artifacts(good.info.run_id)}
    assert {"notes.txt", "model"} <= listed
    local = Path(client.download_artifacts(good.info.run_id, "notes.txt", str(scratch)))
    assert local.read_text() == "trained on generated data\n"
    version = client.get_model_version_by_alias("fraud-clf", "candidate")
    assert version.run_id == good.info.run_id and version.source.endswith("/model")
    assert version.source.startswith(good.info.artifact_uri)
    assert (client.get_experiment_by_name("other") is not None) is other


def test_export_to_a_file_store_read_back_again_and_import_round_trip(
    seeded: dict[str, str], invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    mlruns = tmp_path / "mlruns"
    first = _ok(invoke("export", "mlflow", "--to", str(mlruns)))
    assert "2 experiments; runs: 3 exported, 0 already there; 32 metric points" in first.stdout, first.output
    assert "versions: 1 exported, 0 already there; 1 aliases" in first.stdout
    _read_back(mlruns.as_uri(), seeded, tmp_path)

    again = _ok(invoke("export", "mlflow", "--to", str(mlruns)))
    assert "runs: 0 exported, 3 already there" in again.stdout, again.output
    assert "versions: 0 exported, 1 already there; 0 aliases" in again.stdout
    client = mlflow.MlflowClient(tracking_uri=mlruns.as_uri())
    assert len(client.search_runs([client.get_experiment_by_name("demo").experiment_id])) == 2

    # back into a fresh mltrail store: the same params and metric histories
    monkeypatch.setenv("MLTRAIL_DIR", str(tmp_path / "fresh"))
    back = _ok(invoke("import", "mlflow", "--from", str(mlruns)))
    assert "runs: 3 imported" in back.stdout and "versions: 1 imported" in back.stdout, back.output
    before = open_store(f"sqlite:///{tmp_path / 'store' / 'mltrail.db'}")
    after = open_store(f"sqlite:///{tmp_path / 'fresh' / 'mltrail.db'}")
    try:
        for project in ("demo", "other"):
            old = {r.name: r for r in before.search_runs(project, limit=10).runs}
            new = {r.name: r for r in after.search_runs(project, limit=10).runs}
            assert set(old) == set(new)
            for name, run in old.items():
                assert new[name].params == {k: str(v) for k, v in run.params.items()}
                assert new[name].tags["mltrail.run_id"] == run.id and new[name].status == run.status
                for key in run.metrics:
                    was, now = (
                        before.get_metric_history(run.id, key),
                        after.get_metric_history(new[name].id, key),
                    )
                    assert now.steps == was.steps
                    assert np.allclose(now.values, was.values, equal_nan=True)
        assert after.get_version_by_alias("fraud-clf", "candidate").source == "model"
    finally:
        before.close()
        after.close()


def test_export_to_mlflows_database_and_only_the_projects_asked(
    seeded: dict[str, str], invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # MLflow puts a database's artifacts under ./mlruns
    database = f"sqlite:///{tmp_path / 'mlflow.db'}"
    done = _ok(invoke("export", "mlflow", "--to", database, "--project", "demo"))
    assert "1 experiments; runs: 2 exported" in done.stdout, done.output
    _read_back(database, seeded, tmp_path, other=False)
    # an export interrupted inside a run left it without its completion tag: it is written again
    client = mlflow.MlflowClient(tracking_uri=database)
    experiment_id = client.get_experiment_by_name("demo").experiment_id
    bad = client.search_runs([experiment_id], filter_string="attributes.run_name = 'bad'")[0]
    client.delete_tag(bad.info.run_id, "mltrail.export")
    again = _ok(invoke("export", "mlflow", "--to", database, "--project", "demo"))
    assert "runs: 1 exported, 1 already there" in again.stdout, again.output
    assert "versions: 0 exported, 1 already there" in again.stdout
    active = client.search_runs([experiment_id])
    assert sorted(r.info.run_name for r in active) == ["bad", "good"]
    assert bad.info.run_id not in {r.info.run_id for r in active}  # the half-written one deleted
    wrong = invoke("export", "mlflow", "--to", database, "--project", "nope")
    assert wrong.exit_code == 2 and "nope" in wrong.stderr and "--project" in wrong.stderr


def test_without_mlflows_client_the_error_says_what_to_install(
    invoke: Invoke, make_run: Callable[..., str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    make_run()
    monkeypatch.setitem(sys.modules, "mlflow", None)  # as if it were not installed
    result = invoke("export", "mlflow", "--to", str(tmp_path / "mlruns"))
    assert result.exit_code == 2 and "pip install mlflow-skinny" in result.stderr, result.output


def test_export_to_a_tracking_server_over_http(  # type: ignore[no-untyped-def]
    seeded: dict[str, str],
    invoke: Invoke,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    live_server,
) -> None:
    """``--to http://host:port``: a live tracking server spoken to through MLflow's REST API and its
    artifact proxy (a second ``mltrail server``: the MLflow server this environment has, since
    mlflow-skinny ships the client only)."""
    target = live_server.start_server(tmp_path_factory.mktemp("mlflow-target") / "mltrail", timeout=120)
    try:
        done = _ok(invoke("export", "mlflow", "--to", target.url))
        assert "2 experiments; runs: 3 exported" in done.stdout, done.output
        _read_back(target.url, seeded, tmp_path)
        again = _ok(invoke("export", "mlflow", "--to", target.url))
        assert "runs: 0 exported, 3 already there" in again.stdout, again.output
    finally:
        target.stop()
