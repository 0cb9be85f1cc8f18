"""Shadow and canary evidence over a real SQLite store: windows from two replicas summed, a repeated send
counted once, latency percentiles from merged sketches, agreement, bad windows refused by field, and the
registry's ``evidence.…`` gates refusing and then allowing a request to production."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import mltrail
from mltrail.entities import ApprovalPolicy, EvidenceWindow, VariantCounts
from mltrail.errors import ConflictError, InvalidInputError
from mltrail.sdk.client.connection import close_connections, connect
from mltrail.services.registry.evidence_gates import parse_evidence_gate
from mltrail.settings import Settings
from mltrail.stats.latency_sketch import LatencySketch

linear = pytest.importorskip("sklearn.linear_model")
GATES = (
    "evidence.shadow.requests >= 100",
    "evidence.shadow.agreement >= 0.9",
    "evidence.shadow.error_rate <= evidence.primary.error_rate",
)


@dataclass
class Home:
    settings: Settings
    path: Path


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Home]:
    settings = Settings(home=tmp_path / "mltrail", flush_interval=0.05, user="ana")
    rng = np.random.default_rng(3)
    x = rng.normal(size=(200, 2))
    with mltrail.init(project="shop", capture=False, settings=settings) as run:
        for i, path in enumerate(("m1", "m2")):
            model = linear.LogisticRegression().fit(x, (x[:, i] > 0).astype(int))
            mltrail.models.register(
                "churn", run=run, model=model, input_example=x[:3], path=path, settings=settings
            )
    policy = ApprovalPolicy(protected_stages=("production",), protected_aliases=(), gates=GATES)
    mltrail.models.client(settings=settings).set_policy("churn", policy)
    mltrail.deployments.create("churn-prod", {"primary": "churn:1", "shadow": ["churn:2"]}, settings=settings)
    yield Home(settings, tmp_path)
    close_connections()


def _sketch(values_ms: list[float]) -> dict[str, object]:
    sketch = LatencySketch()
    for v in values_ms:
        sketch.add(v)
    return sketch.to_dict()


def _window(start: float, replica: str, *counts: VariantCounts, version: int = 1) -> EvidenceWindow:
    return EvidenceWindow(start=start, spec_version=version, replica=replica, counts=counts)


def test_windows_of_two_replicas_add_up_and_a_repeated_send_counts_once(home: Home) -> None:
    client = connect(settings=home.settings).deployments("ana")
    minute = time.time() // 60 * 60
    fast = [float(i) for i in range(1, 101)]  # 1..100 ms on one replica
    slow = [float(i) for i in range(101, 201)]  # 101..200 ms on the other
    a = _window(
        minute,
        "r1",
        VariantCounts(
            "primary",
            "churn:1",
            requests=100,
            rows=100,
            errors=2,
            fallbacks=2,
            guarded=5,
            latency=_sketch(fast),
        ),
        VariantCounts(
            "shadow[0]", "churn:2", requests=100, rows=100, compared=100, agreed=96, latency=_sketch(fast)
        ),
    )
    b = _window(
        minute - 60,
        "r2",
        VariantCounts("primary", "churn:1", requests=100, rows=100, errors=0, latency=_sketch(slow)),
        VariantCounts(
            "shadow[0]",
            "churn:2",
            requests=90,
            rows=90,
            errors=1,
            compared=89,
            agreed=80,
            dropped=10,
            latency=_sketch(slow),
        ),
    )
    assert client.record_evidence("churn-prod", [a]) == 2
    assert client.record_evidence("churn-prod", [a]) == 2  # the same counts again: replaced, not added
    client.record_evidence("churn-prod", [b])
    found = client.evidence("churn-prod")
    assert found.version == 1 and [v.variant for v in found.variants] == ["primary", "shadow[0]"]
    primary, shadow = found.variants
    assert (primary.model, primary.requests, primary.rows, primary.errors) == ("churn:1", 200, 200, 2)
    assert primary.error_rate == pytest.approx(0.01) and primary.fallback_rate == pytest.approx(0.01)
    assert primary.guard_rate == pytest.approx(0.025)
    # Percentiles of all 200 values (1..200 ms), not the mean of each replica's percentiles.
    assert primary.latency_ms["p50"] == pytest.approx(100.5, rel=0.02)
    assert primary.latency_ms["p99"] == pytest.approx(198.0, rel=0.02)
    assert shadow.agreement == {"kind": "classes", "value": pytest.approx(176 / 189), "compared": 189}
    assert (shadow.requests, shadow.errors, shadow.dropped) == (190, 1, 10)
    assert primary.agreement is None and primary.performance is None  # no monitor in this spec
    # A period that leaves the older window out.
    later = client.evidence("churn-prod", since=minute)
    assert [v.requests for v in later.variants] == [100, 100]


def test_a_new_spec_version_starts_its_own_evidence_and_since_reads_across(home: Home) -> None:
    client = connect(settings=home.settings).deployments("ana")
    minute = time.time() // 60 * 60
    counts = VariantCounts("primary", "churn:1", requests=5, rows=5, latency=_sketch([2.0] * 5))
    client.record_evidence("churn-prod", [_window(minute, "r1", counts)])
    mltrail.deployments.update("churn-prod", {"primary": "churn:2"}, settings=home.settings)
    assert client.evidence("churn-prod").variants == ()
    client.record_evidence("churn-prod", [_window(minute, "r1", counts, version=2)])
    assert [v.requests for v in client.evidence("churn-prod").variants] == [5]
    assert [v.requests for v in client.evidence("churn-prod", since="1h").variants] == [10]


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (_window(61.0, "r1"), "windows[0].start"),
        (_window(0.0, "r 1"), "windows[0].replica"),
        (_window(0.0, "r1", VariantCounts("champion", "churn:1")), "windows[0].counts[0].variant"),
        (_window(0.0, "r1", VariantCounts("primary", "churn@prod")), "windows[0].counts[0].model"),
        (_window(0.0, "r1", VariantCounts("primary", "churn:1", rows=1, errors=2)), "windows[0].counts[0]"),
        (
            _window(0.0, "r1", VariantCounts("primary", "churn:1", latency={"buckets": {"x": 1}})),
            "windows[0].counts[0].latency",
        ),
        (_window(0.0, "r1", version=9), "windows[0].spec_version"),
    ],
)
def test_a_malformed_window_is_refused_naming_its_field(home: Home, bad: EvidenceWindow, field: str) -> None:
    minute = time.time() // 60 * 60
    moved = EvidenceWindow(minute + bad.start, bad.spec_version, bad.replica, bad.counts)
    client = connect(settings=home.settings).deployments("ana")
    with pytest.raises(InvalidInputError) as caught:
        client.record_evidence("churn-prod", [moved])
    assert caught.value.field == field
    assert client.evidence("churn-prod").variants == ()


def test_evidence_gates_refuse_a_request_until_the_shadow_has_served_enough(home: Home) -> None:
    settings = home.settings
    with pytest.raises(ConflictError) as caught:
        mltrail.models.transition("churn", 2, to="production", settings=settings)
    assert "has not served as shadow or canary" in str(caught.value)
    client = connect(settings=settings).deployments("ana")
    minute = time.time() // 60 * 60
    few = _window(
        minute,
        "r1",
        VariantCounts("primary", "churn:1", requests=50, rows=50, errors=1, latency=_sketch([1.0])),
        VariantCounts(
            "shadow[0]", "churn:2", requests=50, rows=50, compared=50, agreed=49, latency=_sketch([1.0])
        ),
    )
    client.record_evidence("churn-prod", [few])
    with pytest.raises(ConflictError) as caught:
        mltrail.models.transition("churn", 2, to="production", settings=settings)
    message = str(caught.value)
    assert "shadow.requests = 50, needs >= 100" in message and "churn-prod" in message
    assert "agreement" not in message  # the gates that pass are not listed as missing
    enough = _window(
        minute,
        "r1",
        VariantCounts("primary", "churn:1", requests=150, rows=150, errors=3, latency=_sketch([1.0])),
        VariantCounts(
            "shadow[0]", "churn:2", requests=150, rows=150, compared=150, agreed=147, latency=_sketch([1.0])
        ),
    )
    client.record_evidence("churn-prod", [enough])
    _, request = mltrail.models.transition("churn", 2, to="production", settings=settings)
    assert request is not None
    results = {g.gate: (g.passed, g.detail) for g in request.gates}
    assert all(results[g][0] for g in GATES)
    assert "shadow.requests = 150" in results[GATES[0]][1]
    assert "primary.error_rate = 0.02" in results[GATES[2]][1]


@pytest.mark.parametrize(
    "gate",
    [
        "evidence.shadow.nonsense >= 1",
        "evidence.champion.requests >= 1",
        "evidence.primary.requests >= 1",  # names neither shadow nor canary: whose evidence?
        "evidence.shadow.requests >= lots",
    ],
)
def test_a_malformed_evidence_gate_is_refused_when_the_policy_is_set(home: Home, gate: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        mltrail.models.client(settings=home.settings).set_policy("churn", ApprovalPolicy(gates=(gate,)))
    assert caught.value.field == "gates"
    with pytest.raises(InvalidInputError):
        parse_evidence_gate(gate)
