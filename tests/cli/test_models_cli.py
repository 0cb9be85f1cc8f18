"""``mltrail models`` on a real embedded SQLite store: register, review, promote, alias, download, audit."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import Result

import mltrail
from mltrail.sdk.flavors import save_model
from mltrail.store.blobs import BlobStore

sklearn_linear = pytest.importorskip("sklearn.linear_model")

Invoke = Callable[..., Result]
OFF = {"git": False, "code": False, "environment": False, "system_metrics": False, "console": False}


def _train(tmp_path: Path, name: str, auc: float) -> str:
    """A finished run that logged ``auc``, its training data and a saved scikit-learn model at ``model``."""
    x = np.arange(40, dtype=float).reshape(20, 2)
    y = (x[:, 0] > 19).astype(int)
    run = mltrail.init(project="demo", name=name, config={"C": 1.0}, capture=OFF)
    run.log({"auc": auc}, step=0)
    run.log_dataset(x, name="train-x")
    folder = tmp_path / f"saved-{name}"
    save_model(sklearn_linear.LogisticRegression().fit(x, y), folder, input_example=x[:3])
    run.log_artifact(folder, name="model")
    run.finish()
    return run.id


def _ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def trained(home: Path, tmp_path: Path) -> str:
    return _train(tmp_path, "good", 0.91)


def test_register_review_promote_alias_download_audit(
    trained: str, invoke: Invoke, home: Path, tmp_path: Path
) -> None:
    registered = _ok(invoke("models", "register", "churn", "good", "--path", "model", "--user", "ana"))
    assert "Registered churn:1" in registered.stdout and "sklearn" in registered.stdout
    _ok(invoke("models", "policy", "churn", "--gate", "metrics.auc >= 0.85", "--require-datasets"))
    policy = json.loads(_ok(invoke("models", "policy", "churn", "--json")).stdout)["policy"]
    assert policy["gates"] == ["metrics.auc >= 0.85"] and policy["require_datasets"] is True

    card = _ok(invoke("models", "show", "churn:1")).stdout
    for visible in (trained, "good", "auc", "0.91", "train-x", "Model card", "metrics.auc >= 0.85"):
        assert visible in card, visible
    listing = _ok(invoke("models", "show", "churn")).stdout
    assert "version" in listing and trained[:12] in listing and "ana" in listing

    requested = _ok(
        invoke("models", "request", "churn", "1", "--to", "production", "--user", "ana", "-m", "AUC +2")
    )
    assert "request 1 opened" in requested.stdout and "pending" in requested.stdout
    assert "metrics.auc >= 0.85" in requested.stdout and "✓" in requested.stdout
    assert "datasets recorded" in requested.stdout
    inbox = json.loads(_ok(invoke("models", "requests", "--json")).stdout)
    assert [(r["id"], r["target"], r["status"]) for r in inbox["requests"]] == [(1, "production", "pending")]

    # On the database, deciding as another user than the OS user is admin access: said explicitly.
    unsaid = invoke("models", "approve", "churn", "1", "--user", "bob")
    assert unsaid.exit_code == 2 and "--as-admin" in unsaid.stderr
    own = invoke("models", "approve", "churn", "1", "--user", "ana", "--as-admin")
    assert own.exit_code == 1 and "cannot approve" in own.stderr
    approved = _ok(
        invoke("models", "approve", "churn", "1", "--user", "bob", "--as-admin", "--comment", "checked")
    )
    assert "approved" in approved.stdout and "churn:1 → production" in approved.stdout
    assert invoke("models", "approve", "churn", "1", "--user", "carol", "--as-admin").exit_code == 1

    production = json.loads(_ok(invoke("models", "show", "churn@production", "--json")).stdout)
    assert production["version"]["version"] == 1 and production["version"]["stage"] == "production"
    assert production["card"]["run"]["id"] == trained and production["card"]["metrics"] == {"auc": 0.91}
    assert "Model card" in _ok(invoke("models", "show", "churn@production")).stdout

    assert "→ version 1" in _ok(invoke("models", "alias", "churn", "challenger", "1")).stdout
    assert (
        json.loads(_ok(invoke("models", "show", "churn@challenger", "--json")).stdout)["version"]["version"]
        == 1
    )
    listed = _ok(invoke("models", "list")).stdout
    assert "churn" in listed and "@challenger→1" in listed and "demo" in listed
    _ok(invoke("models", "alias", "churn", "challenger", "--delete"))
    assert invoke("models", "show", "churn@challenger").exit_code == 1

    into = tmp_path / "out"
    downloaded = _ok(invoke("models", "download", "churn@production", "--into", str(into), "--user", "carol"))
    version = production["version"]
    assert version["digest"] in downloaded.stdout
    for entry in version["files"]:
        assert (into / entry["path"]).is_file(), entry["path"]
    assert (into / "mltrail-model.json").stat().st_size == version["files"][-1]["size"]
    assert invoke("models", "download", "churn:1", "--into", str(into)).exit_code == 2  # not empty

    weights = next(f for f in version["files"] if f["path"].endswith(".skops"))
    blob = Path(BlobStore(str(home / "blobs")).path(weights["digest"]))
    data = blob.read_bytes()
    blob.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))
    spoiled = tmp_path / "spoiled"
    tampered = invoke("models", "download", "churn:1", "--into", str(spoiled))
    assert tampered.exit_code == 1 and "corrupt" in tampered.stderr
    assert not spoiled.exists() and not list(tmp_path.glob(".spoiled*"))

    rows = list(
        csv.DictReader(io.StringIO(_ok(invoke("models", "audit", "churn", "--format", "csv")).stdout))
    )
    actions = [r["action"] for r in rows]
    assert (
        actions[0] == "downloaded" and rows[0]["user"] == "carol" and version["digest"] in rows[0]["details"]
    )
    assert actions.count("downloaded") == 1  # the tampered download was not recorded
    assert {"version_created", "transition_requested", "transition_approved", "stage_changed"} <= set(actions)
    assert all(r["client"].startswith("cli:") for r in rows)
    by_bob = json.loads(_ok(invoke("models", "audit", "--user", "bob", "--since", "1h", "--json")).stdout)
    assert [e["action"] for e in by_bob["events"]] == ["stage_changed", "transition_approved"]
    assert "stage_changed" in _ok(invoke("models", "audit", "--action", "stage_changed")).stdout
    assert invoke("models", "audit", "--format", "xml").exit_code == 2


def test_reject_gates_and_mistakes(trained: str, invoke: Invoke, tmp_path: Path) -> None:
    _ok(invoke("models", "register", "churn", trained[:8], "--tag", "team=growth", "--user", "ana"))
    weak = _train(tmp_path, "weak", 0.6)
    _ok(invoke("models", "register", "churn", weak, "--user", "ana"))
    _ok(invoke("models", "policy", "churn", "--gate", "metrics.auc >= 0.85", "--approvals", "1"))
    refused = invoke("models", "request", "churn", "2", "--to", "production", "--user", "ana")
    assert refused.exit_code == 1 and "metrics.auc >= 0.85" in refused.stderr

    staged = json.loads(_ok(invoke("models", "request", "churn", "2", "--to", "staging", "--json")).stdout)
    assert staged["applied"] is True and staged["version"]["stage"] == "staging"
    _ok(invoke("models", "request", "churn", "1", "--to", "production", "--user", "ana"))
    _ok(invoke("models", "request", "churn", "1", "--to", "champion", "--user", "ana"))
    several = invoke("models", "approve", "churn", "1", "--user", "bob", "--as-admin")
    assert several.exit_code == 1 and "--request" in several.stderr
    assert (
        invoke("models", "reject", "churn", "1", "--request", "1", "--user", "bob", "--as-admin").exit_code
        == 2
    )
    rejected = json.loads(
        _ok(
            invoke(
                "models",
                "reject",
                "churn",
                "1",
                "--request",
                "1",
                "-m",
                "no report",
                "--user",
                "bob",
                "--as-admin",
                "--json",
            )
        ).stdout
    )
    assert rejected["request"]["status"] == "rejected" and rejected["applied"] is False
    assert (
        invoke("models", "approve", "churn", "2", "--request", "2", "--user", "bob", "--as-admin").exit_code
        == 2
    )
    _ok(invoke("models", "approve", "churn", "1", "--user", "bob", "--as-admin"))  # the champion request only
    assert "rejected" in _ok(invoke("models", "requests", "--status", "all")).stdout
    assert invoke("models", "requests", "--status", "maybe").exit_code == 2
    shown = json.loads(_ok(invoke("models", "show", "churn:1", "--json")).stdout)
    assert shown["version"]["stage"] == "none" and shown["version"]["aliases"] == ["champion"]
    assert shown["version"]["tags"] == {"team": "growth"}

    assert invoke("models", "show", "nope").exit_code == 1
    assert invoke("models", "show", "bad ref!").exit_code == 2
    assert invoke("models", "register", "churn", trained, "--tag", "oops").exit_code == 2
    assert invoke("models", "alias", "churn", "x").exit_code == 2
    assert invoke("models", "policy", "churn", "--approver-role", "root").exit_code == 2
    kept = json.loads(
        _ok(invoke("models", "policy", "churn", "--keep-previous", "--gate", "", "--json")).stdout
    )
    assert kept["policy"]["archive_previous"] is False and kept["policy"]["gates"] == []
    assert "No registered models in other." in _ok(invoke("models", "list", "--project", "other")).stdout


def test_webhooks_add_list_deliveries_remove(trained: str, invoke: Invoke) -> None:
    _ok(invoke("models", "register", "churn", trained))
    added = _ok(
        invoke(
            "models",
            "webhooks",
            "add",
            "https://hooks.example.com/x",
            "--model",
            "churn",
            "--event",
            "stage_changed",
        )
    )
    secret = added.stdout.strip()
    assert secret.startswith("whsec_") and "only this once" in added.stderr
    hooks = json.loads(_ok(invoke("models", "webhooks", "list", "--json")).stdout)["webhooks"]
    assert [(h["url"], h["events"], h["model"]) for h in hooks] == [
        ("https://hooks.example.com/x", ["stage_changed"], "churn")
    ]
    assert secret not in json.dumps(hooks)
    _ok(invoke("models", "request", "churn", "1", "--to", "staging"))
    deliveries = json.loads(
        _ok(invoke("models", "webhooks", "deliveries", str(hooks[0]["id"]), "--json")).stdout
    )
    assert [d["action"] for d in deliveries["deliveries"]] == ["stage_changed"]
    assert "stage_changed" in _ok(invoke("models", "webhooks", "deliveries", str(hooks[0]["id"]))).stdout
    assert invoke("models", "webhooks", "add", "ftp://x", "--event", "nope").exit_code == 2
    _ok(invoke("models", "webhooks", "remove", str(hooks[0]["id"])))
    assert "No webhooks." in _ok(invoke("models", "webhooks", "list")).stdout


# -- against a team server -------------------------------------------------------------------------------
def test_models_against_a_team_server_act_as_the_keys_user(
    team_server: Any, act_as: Callable[[str], None], invoke: Invoke, tmp_path: Path
) -> None:
    act_as("ana")  # a member: registers (through the SDK) and requests
    x = np.arange(40, dtype=float).reshape(20, 2)
    y = (x[:, 0] > 19).astype(int)
    with mltrail.init(project="team", name="good", config={"C": 1.0}, capture=OFF) as run:
        run.log({"auc": 0.91}, step=0)
        run.log_dataset(x, name="train-x")
        clf = sklearn_linear.LogisticRegression().fit(x, y)
        mltrail.models.register("churn-srv", run=run, model=clf, input_example=x[:3])
    assert not (Path(os.environ["MLTRAIL_DIR"]) / "mltrail.db").exists()  # nothing went to a local store

    listed = json.loads(_ok(invoke("models", "list", "--json")).stdout)
    assert [(m["name"], m["project"], m["latest_version"]) for m in listed["models"]] == [
        ("churn-srv", "team", 1)
    ]
    assert "churn-srv" in _ok(invoke("models", "list")).stdout
    card = _ok(invoke("models", "show", "churn-srv:1")).stdout
    for visible in (run.id, "good", "auc", "0.91", "train-x", "Model card"):
        assert visible in card, visible
    assert "ana" in _ok(invoke("models", "show", "churn-srv")).stdout  # registered by the key's user

    requested = _ok(invoke("models", "request", "churn-srv", "1", "--to", "production", "-m", "AUC +2"))
    assert "request" in requested.stdout and "opened" in requested.stdout
    own = invoke("models", "approve", "churn-srv", "1", "--user", "bob")  # --user does not make ana bob
    assert own.exit_code == 1 and "ana requested this transition" in own.stderr
    assert "Traceback" not in own.output

    act_as("vic")  # a viewer reads, but is no approver
    inbox = json.loads(_ok(invoke("models", "requests", "--json")).stdout)["requests"]
    assert [(r["model"], r["requested_by"], r["status"]) for r in inbox] == [("churn-srv", "ana", "pending")]
    refused = invoke("models", "approve", "churn-srv", "1")
    assert refused.exit_code == 1 and "needs one of the roles maintainer, admin" in refused.stderr
    assert "vic is viewer" in refused.stderr
    assert invoke("models", "request", "churn-srv", "1", "--to", "staging").exit_code == 1  # member needed

    act_as("bob")  # a maintainer approves
    approved = _ok(invoke("models", "approve", "churn-srv", "1", "--comment", "checked"))
    assert "churn-srv:1 → production" in approved.stdout
    shown = json.loads(_ok(invoke("models", "show", "churn-srv@production", "--json")).stdout)
    assert shown["version"]["stage"] == "production" and shown["card"]["metrics"] == {"auc": 0.91}
    _ok(invoke("models", "policy", "churn-srv", "--approvals", "1", "--gate", "metrics.auc >= 0.85"))
    assert "metrics.auc >= 0.85" in _ok(invoke("models", "policy", "churn-srv")).stdout
    _ok(invoke("models", "alias", "churn-srv", "challenger", "1"))
    assert json.loads(_ok(invoke("models", "show", "churn-srv@challenger", "--json")).stdout)["version"][
        "aliases"
    ] == ["challenger"]
    _ok(invoke("models", "alias", "churn-srv", "challenger", "--delete"))

    added = _ok(invoke("models", "webhooks", "add", "https://hooks.example.com/x", "--model", "churn-srv"))
    assert added.stdout.strip().startswith("whsec_") and "only this once" in added.stderr
    hooks = json.loads(_ok(invoke("models", "webhooks", "list", "--json")).stdout)["webhooks"]
    assert [(h["url"], h["model"], h["created_by"]) for h in hooks] == [
        ("https://hooks.example.com/x", "churn-srv", "bob")
    ]
    assert "hooks.example.com" in _ok(invoke("models", "webhooks", "list")).stdout
    deliveries = json.loads(
        _ok(invoke("models", "webhooks", "deliveries", str(hooks[0]["id"]), "--json")).stdout
    )["deliveries"]
    assert {d["action"] for d in deliveries} <= {"alias_moved"}
    act_as("ana")
    assert (
        invoke("models", "webhooks", "add", "https://hooks.example.com/y", "--model", "churn-srv").exit_code
        == 1
    )
    act_as("bob")
    _ok(invoke("models", "webhooks", "remove", str(hooks[0]["id"])))

    act_as("vic")  # a viewer may download; the server records who did
    into = tmp_path / "out"
    downloaded = _ok(invoke("models", "download", "churn-srv@production", "--into", str(into)))
    version = shown["version"]
    assert version["digest"] in downloaded.stdout
    for entry in version["files"]:
        assert (into / entry["path"]).read_bytes(), entry["path"]

    rows = list(
        csv.DictReader(io.StringIO(_ok(invoke("models", "audit", "churn-srv", "--format", "csv")).stdout))
    )
    by_action = {(r["action"], r["user"]) for r in rows}
    assert {
        ("version_created", "ana"),
        ("transition_requested", "ana"),
        ("transition_approved", "bob"),
        ("stage_changed", "bob"),
        ("policy_changed", "bob"),
        ("alias_moved", "bob"),
        ("downloaded", "vic"),
    } <= by_action
    by_sdk = {"model_created", "version_created"}  # registered through the SDK
    assert {r["user_agent"] for r in rows if r["action"] not in by_sdk} == {"mltrail-cli"}
    by_bob = json.loads(_ok(invoke("models", "audit", "--user", "bob", "--since", "1h", "--json")).stdout)
    assert "transition_approved" in [e["action"] for e in by_bob["events"]]

    # A tampered model file on the server: refused, nothing left in the destination.
    weights = next(f for f in version["files"] if f["path"].endswith(".skops"))
    blob = Path(BlobStore(str(team_server.home / "blobs")).path(weights["digest"]))
    data = blob.read_bytes()
    blob.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))
    try:
        spoiled = tmp_path / "spoiled"
        tampered = invoke("models", "download", "churn-srv:1", "--into", str(spoiled))
        assert tampered.exit_code == 1 and "corrupt" in tampered.stderr
        assert not spoiled.exists() and not list(tmp_path.glob(".spoiled*"))
    finally:
        blob.write_bytes(data)


def test_models_bad_keys_and_a_server_that_is_down(
    team_server: Any, act_as: Callable[[str], None], invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    act_as("ana")
    monkeypatch.setenv("MLTRAIL_API_KEY", "mlt_" + "x" * 43)
    wrong = invoke("models", "list")
    assert wrong.exit_code == 1 and "invalid API key" in wrong.stderr
    assert "MLTRAIL_API_KEY" in wrong.stderr and "mltrail login" in wrong.stderr
    assert "Traceback" not in wrong.output
    also = invoke("monitor", "list")
    assert also.exit_code == 1 and "MLTRAIL_API_KEY" in also.stderr and "mltrail login" in also.stderr

    down = f"http://127.0.0.1:{team_server.free_port()}"
    monkeypatch.setenv("MLTRAIL_SERVER", down)
    unreachable = invoke("models", "requests")
    assert unreachable.exit_code == 1 and f"cannot reach the mltrail server at {down}" in unreachable.stderr
    assert "Traceback" not in unreachable.output
    assert invoke("--server", down, "models", "show", "churn").exit_code == 1
