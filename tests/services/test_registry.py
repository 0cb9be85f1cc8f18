"""The registry service on SQLite and PostgreSQL: versions from runs, stages, aliases, approvals, gates,
the audit trail, and tampered blobs."""

from __future__ import annotations

import contextlib
import io
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from mltrail.entities import ApprovalPolicy, MetricsBatch, RequestStatus, Role, Stage
from mltrail.errors import (
    ConflictError,
    IntegrityError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from mltrail.sdk.flavors import save_model
from mltrail.services.accounts.service import AccountService, Principal
from mltrail.services.registry.service import RegistryService
from mltrail.services.tracking.artifacts import ArtifactService
from mltrail.services.tracking.datasets import DatasetService
from mltrail.services.tracking.fingerprint import fingerprint
from mltrail.services.tracking.service import TrackingService
from mltrail.store.blobs import BlobStore
from mltrail.store.factory import open_store
from mltrail.store.sql import SqlStore

sklearn_linear = pytest.importorskip("sklearn.linear_model")

ANA = Principal("ana", Role.MEMBER)
BOB = Principal("bob", Role.MAINTAINER)
CAROL = Principal("carol", Role.MAINTAINER)
VIC = Principal("vic", Role.VIEWER)


@dataclass
class World:
    store: SqlStore
    blobs: BlobStore
    tracking: TrackingService
    artifacts: ArtifactService
    registry: RegistryService
    project: str
    tmp: Path

    def trained_run(self, auc: float = 0.9, *, datasets: bool = True) -> str:
        run_id = uuid.uuid4().hex
        self.tracking.start_run(run_id=run_id, project=self.project, name=f"r-{run_id[:6]}", user="ana")
        now = time.time()
        self.tracking.log_metrics(run_id, MetricsBatch(["auc"], [0], [auc], [now], client_id="c", seq=1))
        x = np.arange(40, dtype=float).reshape(20, 2)
        y = (x[:, 0] > 19).astype(int)
        if datasets:
            DatasetService(self.store).record(run_id, fingerprint(x, name="train-x"), "train")
        model = sklearn_linear.LogisticRegression().fit(x, y)
        folder = self.tmp / f"m-{run_id[:8]}"
        save_model(model, folder, input_example=x[:3])
        self.artifacts.log_path(run_id, folder, "model")
        return run_id


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> Iterator[World]:
    store = open_store(db_url)
    blobs = BlobStore(str(tmp_path / "blobs"))
    accounts = AccountService(store)
    for user in (ANA, BOB, CAROL, VIC):
        with contextlib.suppress(ConflictError):  # the PostgreSQL database is shared by the session
            accounts.create_user(user.name or "", role=user.role)
    yield World(
        store,
        blobs,
        TrackingService(store),
        ArtifactService(store, blobs),
        RegistryService(store, blobs, accounts),
        f"p-{uuid.uuid4().hex[:8]}",
        tmp_path,
    )
    store.close()


def _model(prefix: str = "churn") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_register_assigns_numbers_and_pins_every_file(world: World) -> None:
    name = _model()
    first = world.registry.register_version(name, run_id=world.trained_run(), source="model", principal=ANA)
    second = world.registry.register_version(name, run_id=world.trained_run(), source="model/", principal=ANA)
    assert (first.version, second.version) == (1, 2)
    assert first.flavor == "sklearn" and first.format == "skops" and not first.executes_code
    assert first.signature is not None and first.stage is Stage.NONE
    assert [f.path for f in first.files][-1] == "mltrail-model.json"
    assert first.files[-1].digest == first.digest
    model = world.registry.get_model(name)
    assert (model.project, model.latest_version, model.owner) == (world.project, 2, "ana")
    assert world.registry.resolve(name).version == 2
    assert world.registry.resolve(f"{name}:1").digest == first.digest


def test_register_refuses_a_folder_that_is_not_a_model_or_changed(world: World) -> None:
    run_id = world.trained_run()
    with pytest.raises(InvalidInputError) as info:
        world.registry.register_version(_model(), run_id=run_id, source="nothing-here", principal=ANA)
    assert info.value.field == "path"
    # overwrite one logged file of the folder: the metadata no longer pins it
    world.artifacts.log_stream(run_id, "model/model.skops", io.BytesIO(b"other bytes"))
    with pytest.raises(InvalidInputError, match="does not match"):
        world.registry.register_version(_model(), run_id=run_id, source="model", principal=ANA)
    with pytest.raises(InvalidInputError) as info:
        world.registry.register_version("bad name!", run_id=run_id, source="model", principal=ANA)
    assert info.value.field == "name"


def test_unprotected_stage_moves_at_once_and_production_needs_approval(world: World) -> None:
    name = _model()
    v1 = world.registry.register_version(name, run_id=world.trained_run(), source="model", principal=ANA)
    staged = world.registry.transition(name, v1.version, principal=ANA, stage="staging")
    assert staged.request is None and staged.version.stage is Stage.STAGING
    asked = world.registry.transition(name, v1.version, principal=ANA, stage="production", comment="AUC +2")
    assert asked.request is not None and asked.request.status is RequestStatus.PENDING
    assert world.registry.get_version(name, 1).stage is Stage.STAGING  # nothing moved yet
    with pytest.raises(ConflictError):  # one pending request per version and target
        world.registry.transition(name, v1.version, principal=ANA, stage="production")
    with pytest.raises(PermissionDeniedError, match="cannot approve"):
        world.registry.decide(asked.request.id, approve=True, principal=ANA)
    with pytest.raises(PermissionDeniedError, match="roles"):
        world.registry.decide(asked.request.id, approve=True, principal=VIC)
    done = world.registry.decide(asked.request.id, approve=True, principal=BOB, comment="checked")
    assert done.status is RequestStatus.APPROVED and done.approvals == 1
    assert world.registry.get_version(name, 1).stage is Stage.PRODUCTION
    with pytest.raises(ConflictError, match="approved already"):
        world.registry.decide(asked.request.id, approve=True, principal=CAROL)

    # a second production version archives the first
    v2 = world.registry.register_version(name, run_id=world.trained_run(), source="model", principal=ANA)
    req = world.registry.transition(name, v2.version, principal=ANA, stage="production").request
    assert req is not None
    world.registry.decide(req.id, approve=True, principal=CAROL)
    assert world.registry.get_version(name, 1).stage is Stage.ARCHIVED
    assert world.registry.resolve(f"{name}@production").version == 2


def test_rejection_closes_the_request_and_changes_nothing(world: World) -> None:
    name = _model()
    v1 = world.registry.register_version(name, run_id=world.trained_run(), source="model", principal=ANA)
    req = world.registry.transition(name, v1.version, principal=ANA, stage="production").request
    assert req is not None
    rejected = world.registry.decide(req.id, approve=False, principal=BOB, comment="segment report missing")
    assert rejected.status is RequestStatus.REJECTED and rejected.decisions[0].comment.startswith("segment")
    assert world.registry.get_version(name, 1).stage is Stage.NONE
    with pytest.raises(ConflictError):
        world.registry.decide(req.id, approve=True, principal=CAROL)


def test_two_approvals_required_and_the_same_approver_counts_once(world: World) -> None:
    name = _model()
    world.registry.create_model(
        name, project=world.project, principal=ANA, policy=ApprovalPolicy(required_approvals=2)
    )
    v1 = world.registry.register_version(name, run_id=world.trained_run(), source="model", principal=ANA)
    req = world.registry.transition(name, v1.version, principal=ANA, stage="production").request
    assert req is not None and req.required_approvals == 2
    half = world.registry.decide(req.id, approve=True, principal=BOB)
    assert half.status is RequestStatus.PENDING and half.approvals == 1
    with pytest.raises(ConflictError, match="already decided"):
        world.registry.decide(req.id, approve=True, principal=BOB)
    full = world.registry.decide(req.id, approve=True, principal=CAROL)
    assert full.status is RequestStatus.APPROVED
    assert world.registry.get_version(name, 1).stage is Stage.PRODUCTION


def test_concurrent_approvers_make_exactly_one_transition(world: World) -> None:
    name = _model()
    v1 = world.registry.register_version(name, run_id=world.trained_run(), source="model", principal=ANA)
    req = world.registry.transition(name, v1.version, principal=ANA, stage="production").request
    assert req is not None
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def approve(who: Principal) -> None:
        barrier.wait()
        try:
            world.registry.decide(req.id, approve=True, principal=who)
            outcomes.append("ok")
        except ConflictError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=approve, args=(p,)) for p in (BOB, CAROL)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "ok"]
    changes = world.registry.events(model=name, action="stage_changed")
    assert len(changes) == 1 and changes[0].details["to"] == "production"


def test_gates_are_checked_on_the_source_run(world: World) -> None:
    name = _model()
    policy = ApprovalPolicy(gates=("metrics.auc >= 0.85",), require_datasets=True, require_signature=True)
    world.registry.create_model(name, project=world.project, principal=ANA, policy=policy)
    good_run = world.trained_run(0.91)
    good = world.registry.register_version(name, run_id=good_run, source="model", principal=ANA)
    req = world.registry.transition(name, good.version, principal=ANA, stage="production").request
    assert req is not None
    assert [(g.gate, g.passed) for g in req.gates] == [
        ("metrics.auc >= 0.85", True),
        ("datasets recorded", True),
        ("signature present", True),
    ]
    assert "metrics.auc = 0.91" in req.gates[0].detail
    weak = world.registry.register_version(name, run_id=world.trained_run(0.7), source="model", principal=ANA)
    with pytest.raises(ConflictError, match=r"metrics\.auc >= 0\.85"):
        world.registry.transition(name, weak.version, principal=ANA, stage="production")
    no_data = world.registry.register_version(
        name, run_id=world.trained_run(0.95, datasets=False), source="model", principal=ANA
    )
    with pytest.raises(ConflictError, match="datasets recorded"):
        world.registry.transition(name, no_data.version, principal=ANA, stage="production")
    with pytest.raises(InvalidInputError) as info:
        world.registry.update_model(name, principal=BOB, policy=ApprovalPolicy(gates=("metrics.auc >=",)))
    assert info.value.field == "gates"
    with pytest.raises(InvalidInputError) as info:
        world.registry.update_model(name, principal=BOB, policy=ApprovalPolicy(approver_roles=(Role.VIEWER,)))
    assert info.value.field == "approver_roles"


def test_aliases_move_and_protected_ones_need_a_request(world: World) -> None:
    name, other = _model(), _model("fraud")
    v1 = world.registry.register_version(name, run_id=world.trained_run(), source="model", principal=ANA)
    v2 = world.registry.register_version(name, run_id=world.trained_run(), source="model", principal=ANA)
    world.registry.register_version(other, run_id=world.trained_run(), source="model", principal=ANA)
    world.registry.set_alias(name, "challenger", v1.version, principal=ANA)
    world.registry.set_alias(name, "challenger", f"{name}:2", principal=ANA)
    assert world.registry.resolve(f"{name}@challenger").version == v2.version
    assert world.registry.get_version(name, 1).aliases == ()
    with pytest.raises(InvalidInputError) as info:
        world.registry.set_alias(name, "challenger", f"{other}:1", principal=ANA)
    assert info.value.field == "version"
    with pytest.raises(InvalidInputError) as info:
        world.registry.set_alias(name, "production", 1, principal=ANA)
    assert info.value.field == "alias"
    champion = world.registry.set_alias(name, "champion", 1, principal=ANA)
    assert champion.request is not None  # protected by the default policy
    world.registry.decide(champion.request.id, approve=True, principal=BOB)
    assert world.registry.resolve(f"{name}@champion").version == 1
    assert world.registry.get_model(name).aliases == {"champion": 1, "challenger": 2}
    with pytest.raises(NotFoundError):
        world.registry.resolve(f"{name}@nobody")
    with pytest.raises(NotFoundError):
        world.registry.set_alias(name, "challenger", 99, principal=ANA)


def test_the_trail_records_every_step_and_downloads(world: World, tmp_path: Path) -> None:
    name = _model()
    v1 = world.registry.register_version(name, run_id=world.trained_run(), source="model", principal=ANA)
    req = world.registry.transition(name, v1.version, principal=ANA, stage="production").request
    assert req is not None
    world.registry.decide(req.id, approve=True, principal=BOB)
    out = tmp_path / "download"
    assert list(world.registry.copy_files(v1, out))[-1] == "mltrail-model.json"
    world.registry.record_download(v1, principal=CAROL)
    actions = [e.action for e in reversed(world.registry.events(model=name))]
    assert actions == [
        "model_created",
        "version_created",
        "transition_requested",
        "transition_approved",
        "stage_changed",
        "downloaded",
    ]
    by_carol = world.registry.events(user="carol")
    assert [e.action for e in by_carol if e.model == name] == ["downloaded"]
    assert by_carol[0].details["digest"] == v1.digest
    assert world.registry.events(model=name, since=time.time() + 60) == []


def test_a_tampered_blob_is_an_integrity_error_and_nothing_is_left(world: World, tmp_path: Path) -> None:
    name = _model()
    v1 = world.registry.register_version(name, run_id=world.trained_run(), source="model", principal=ANA)
    weights = next(f for f in v1.files if f.path == "model.skops")
    blob = Path(world.blobs.path(weights.digest))
    data = blob.read_bytes()
    blob.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))
    out = tmp_path / "download"
    with pytest.raises(IntegrityError):
        list(world.registry.copy_files(v1, out))
    assert not (out / "model.skops").exists()


def test_model_card_pulls_lineage_from_the_run(world: World) -> None:
    name = _model()
    run_id = world.trained_run(0.93)
    world.registry.create_model(
        name,
        project=world.project,
        principal=ANA,
        description="# Churn\nPredicts churn.",
        card={"intended_use": "retention campaigns", "limitations": "EU customers only"},
    )
    v1 = world.registry.register_version(name, run_id=run_id, source="model", principal=ANA)
    card = world.registry.model_card(v1)
    assert card["intended_use"] == "retention campaigns" and card["description"].startswith("# Churn")
    assert card["metrics"] == {"auc": 0.93}
    assert card["run"]["id"] == run_id and card["datasets"][0]["role"] == "train"
    assert card["datasets"][0]["name"] == "train-x"
