"""``EvidenceStore`` on SQLite and PostgreSQL: a send replaces a replica's rows of a window, reads filter
by period, spec version and model, and ``evidence_served`` finds where a model version served."""

from __future__ import annotations

import uuid

import pytest

from mltrail.entities import DeploymentSpec, DeploymentVersion, EvidenceWindow, VariantCounts
from mltrail.errors import NotFoundError
from mltrail.store.sql import SqlStore


def _deployment(store: SqlStore, project: str) -> str:
    name = f"dep-{uuid.uuid4().hex[:10]}"
    first = DeploymentVersion(name, 0, DeploymentSpec(primary="churn:1"), "created", "ana", 1.0)
    store.create_deployment(name=name, project=project, created_at=1.0, first=first)
    return name


def _counts(variant: str, model: str, requests: int) -> VariantCounts:
    return VariantCounts(
        variant,
        model,
        requests=requests,
        rows=requests,
        abs_diff=0.5,
        latency={"zeros": 0, "buckets": {"7": requests}},
    )


def test_a_send_replaces_the_replicas_rows_and_reads_filter(store: SqlStore, project: str) -> None:
    name = _deployment(store, project)
    model = f"m{uuid.uuid4().hex[:8]}:2"
    first = EvidenceWindow(600.0, 1, "r1", (_counts("primary", "churn:1", 5), _counts("shadow[0]", model, 5)))
    assert store.put_evidence(name, [first]) == 2
    again = EvidenceWindow(600.0, 1, "r1", (_counts("primary", "churn:1", 9), _counts("shadow[0]", model, 8)))
    other = EvidenceWindow(600.0, 1, "r2", (_counts("primary", "churn:1", 1),))
    later = EvidenceWindow(660.0, 2, "r1", (_counts("canary", model, 3),))
    store.put_evidence(name, [again, other, later])
    windows = store.list_evidence(name)
    assert [(w.start, w.replica, w.spec_version) for w in windows] == [
        (600.0, "r1", 1),
        (600.0, "r2", 1),
        (660.0, "r1", 2),
    ]
    assert [c.requests for c in windows[0].counts] == [9, 8]  # replaced, not added
    assert windows[0].counts[1] == _counts("shadow[0]", model, 8)
    assert [w.start for w in store.list_evidence(name, since=660.0)] == [660.0]
    assert [w.start for w in store.list_evidence(name, until=660.0)] == [600.0, 600.0]
    assert [w.spec_version for w in store.list_evidence(name, spec_version=2)] == [2]
    only = store.list_evidence(name, model=model)
    assert [[c.variant for c in w.counts] for w in only] == [["shadow[0]"], ["canary"]]
    assert store.evidence_served(model) == [(name, "canary", 660.0), (name, "shadow[0]", 600.0)]
    assert store.evidence_served("nothing:1") == []


def test_a_missing_deployment_is_not_found(store: SqlStore) -> None:
    with pytest.raises(NotFoundError):
        store.put_evidence("no-such-deployment", [])
    with pytest.raises(NotFoundError):
        store.list_evidence("no-such-deployment")
