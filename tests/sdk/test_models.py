"""``mltrail.models`` end to end: register from a run, promote through approval, load verified — embedded and
through a real server."""

from __future__ import annotations

import dataclasses
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import mltrail
from mltrail.entities import RequestStatus, Stage
from mltrail.errors import (
    IntegrityError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    UntrustedModelError,
)
from mltrail.settings import Settings

linear = pytest.importorskip("sklearn.linear_model")
datasets = pytest.importorskip("sklearn.datasets")


class Doubler:
    """A plain Python model, saved with pickle: it executes code on load."""

    def predict(self, x: Any) -> Any:
        return np.asarray(x) * 2


@pytest.fixture
def data() -> tuple[Any, Any]:
    x, y = datasets.load_breast_cancer(return_X_y=True)
    return x[:, :5], y


@pytest.fixture
def target(transport_kind: str, settings: Settings, request: pytest.FixtureRequest) -> dict[str, Any]:
    """How the registry calls reach the store under test: ``server=`` for the http kind."""
    if transport_kind == "http":
        return {"server": request.getfixturevalue("http_server").url}
    return {"settings": settings}


def _as_user(target: dict[str, Any], name: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The same target acting as ``name``: ``MLTRAIL_USER`` for settings read from the environment, the
    ``user`` of explicit settings."""
    monkeypatch.setenv("MLTRAIL_USER", name)
    if "settings" in target:
        return {**target, "settings": dataclasses.replace(target["settings"], user=name)}
    return target


def test_register_promote_and_load(
    data: tuple[Any, Any], settings: Settings, target: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    x, y = data
    name = f"churn-{uuid.uuid4().hex[:8]}"
    clf = linear.LogisticRegression(max_iter=500).fit(x, y)
    target = _as_user(target, "ana", monkeypatch)
    settings = target.get("settings", settings)
    with mltrail.init(project="reg", capture=False, settings=settings, server=target.get("server")) as run:
        run.log({"auc": 0.93}, step=0)
        version = mltrail.models.register(name, model=clf, input_example=x[:5], **target)
    assert version.version == 1 and version.flavor == "sklearn" and version.run_id == run.id
    assert version.signature is not None

    _, staged = mltrail.models.transition(name, 1, to="staging", **target)
    assert staged is None and mltrail.models.get(f"{name}@staging", **target).version == 1
    _, req = mltrail.models.transition(name, 1, to="production", comment="AUC +2.1", **target)
    assert req is not None and req.status is RequestStatus.PENDING
    with pytest.raises(PermissionDeniedError):
        mltrail.models.approve(name, 1, **target)  # ana requested it
    target = _as_user(target, "bob", monkeypatch)
    done = mltrail.models.approve(name, 1, comment="checked the segment report", **target)
    assert done.status is RequestStatus.APPROVED
    assert mltrail.models.get(f"{name}@production", **target).stage is Stage.PRODUCTION

    model = mltrail.models.load(f"{name}@production", check_signature=True, **target)
    assert np.array_equal(model.predict(x), clf.predict(x))
    assert model.digest == version.digest
    with pytest.raises(InvalidInputError):
        model.predict(x[:, :3])  # the signature wants 5 columns


def test_pickle_models_load_only_with_trust(
    settings: Settings, target: dict[str, Any], tmp_path: Path
) -> None:
    name = f"dbl-{uuid.uuid4().hex[:8]}"
    with mltrail.init(project="reg", capture=False, settings=settings, server=target.get("server")) as run:
        mltrail.models.register(name, model=Doubler(), input_example=np.ones((2, 2)), **target)
    with pytest.raises(UntrustedModelError, match="trust=True"):
        mltrail.models.load(f"{name}:1", **target)
    assert np.array_equal(mltrail.models.load(f"{name}:1", trust=True, **target).predict([1, 2]), [2, 4])
    kept = tmp_path / "kept"
    mltrail.models.load(f"{name}:1", trust=True, dest=kept, **target)
    assert (kept / "mltrail-model.json").is_file()
    assert run.id


def test_a_tampered_blob_is_refused_and_nothing_is_loaded(
    data: tuple[Any, Any],
    settings: Settings,
    target: dict[str, Any],
    transport_kind: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    x, y = data
    name = f"tamper-{uuid.uuid4().hex[:8]}"
    with mltrail.init(project="reg", capture=False, settings=settings, server=target.get("server")):
        version = mltrail.models.register(
            name, model=linear.LogisticRegression(max_iter=300).fit(x, y), **target
        )
    weights = next(f for f in version.files if f.path == "model.skops")
    home = request.getfixturevalue("http_server").home if transport_kind == "http" else settings.home
    blob = next(Path(home).rglob(weights.digest))
    raw = blob.read_bytes()
    blob.write_bytes(raw[:-1] + bytes([raw[-1] ^ 0xFF]))
    with pytest.raises(IntegrityError):
        mltrail.models.load(f"{name}:1", **target)
    # Into a folder: nothing is left there (nor beside it), so a retry after the fix is not "not empty".
    dest = tmp_path / "kept"
    with pytest.raises(IntegrityError):
        mltrail.models.load(f"{name}:1", dest=dest, **target)
    assert not dest.exists() or not any(dest.iterdir())
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".kept")] == []
    blob.write_bytes(raw)
    assert mltrail.models.load(f"{name}:1", dest=dest, **target).digest == version.digest
    assert (dest / "model.skops").is_file()


def test_register_needs_a_run_and_a_model_folder(settings: Settings) -> None:
    with pytest.raises(InvalidInputError) as info:
        mltrail.models.register("x", settings=settings)
    assert info.value.field == "run"
    with mltrail.init(project="reg", capture=False, settings=settings) as run:
        with pytest.raises(InvalidInputError) as info:
            mltrail.models.register("x", run=run, path="not-logged", settings=settings)
        assert info.value.field == "path"


def test_the_registry_client_makes_the_same_calls_both_ways(
    data: tuple[Any, Any],
    settings: Settings,
    target: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    x, y = data
    name = f"client-{uuid.uuid4().hex[:8]}"
    target = _as_user(target, "ana", monkeypatch)
    settings = target.get("settings", settings)
    with mltrail.init(project="reg", capture=False, settings=settings, server=target.get("server")) as run:
        run.log({"auc": 0.93}, step=0)
        clf = linear.LogisticRegression(max_iter=300).fit(x, y)
        mltrail.models.register(name, model=clf, input_example=x[:5], **target)
    registry = mltrail.models.client(**target)

    assert registry.run_id(run.id[:8]) == run.id and registry.run_id(run.id, "reg") == run.id
    with pytest.raises(NotFoundError):
        registry.run_id(run.id, "elsewhere")
    models, total = registry.models_page("reg", 1000)
    assert name in [m.name for m in models] and total >= 1
    assert registry.update_model(name, description="churn", tags={"team": "growth"}).tags == {
        "team": "growth"
    }
    assert registry.update_version(name, 1, description="first").description == "first"
    versions, count = registry.versions_page(name, stage=Stage.NONE)
    assert [v.version for v in versions] == [1] and count == 1
    version = registry.get_version(name, 1)
    card = registry.model_card(version)
    assert card["metrics"] == {"auc": 0.93} and card["run"]["id"] == run.id
    policy = dataclasses.replace(registry.get_model(name).policy, gates=("metrics.auc >= 0.9",))
    assert registry.set_policy(name, policy).policy.gates == ("metrics.auc >= 0.9",)

    _, opened = registry.set_alias(name, "champion", 1, "the best")  # protected: a request
    assert opened is not None and registry.get_request(opened.id).target == "champion"
    assert registry.cancel(opened.id).status is RequestStatus.CANCELLED
    moved, none = registry.set_alias(name, "challenger", f"{name}:1", None)
    assert none is None and "challenger" in moved.aliases
    registry.delete_alias(name, "challenger")
    with pytest.raises(NotFoundError):
        registry.resolve(f"{name}@challenger")
    requests, all_requests = registry.requests_page(name, "all", 10)
    assert [r.status for r in requests] == [RequestStatus.CANCELLED] and all_requests == 1

    actions = [e.action for e in registry.events(model=name, since="1h")]
    assert {"version_created", "policy_changed", "transition_cancelled", "alias_moved"} <= set(actions)
    assert {e.user for e in registry.events(model=name, action="alias_deleted")} == {"ana"}
    with pytest.raises(InvalidInputError):
        registry.events(model=name, since="last tuesday")

    hook, secret = registry.create_webhook("https://hooks.example.com/x", ["stage_changed"], name)
    assert secret.startswith("whsec_") and hook.events == ("stage_changed",)
    assert hook.id in [h.id for h in registry.list_webhooks(name)]
    assert registry.get_webhook(hook.id).url == "https://hooks.example.com/x"
    assert registry.deliveries(hook.id, 10) == []
    registry.delete_webhook(hook.id)
    assert hook.id not in [h.id for h in registry.list_webhooks(name)]
    with pytest.raises(InvalidInputError):
        registry.create_webhook("ftp://x", [], name)

    dest = tmp_path / "files"
    assert list(registry.download_files(version, dest)) == [f.path for f in version.files]
    assert all((dest / f.path).stat().st_size == f.size for f in version.files)
