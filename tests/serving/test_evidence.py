"""Shadow and canary evidence from a real ``mltrail serve --workers 2`` process: traffic, a broken spell
answered by the fallback, the evidence read back summed over both workers, realized performance once
labels arrive, and a registry gate on the shadow's evidence failing, then passing."""

from __future__ import annotations

import time
from typing import Any

import pytest
from gateway_world import Home, frame, serve

import mltrail
from mltrail.entities import ApprovalPolicy, DeploymentEvidence
from mltrail.errors import ConflictError

N = 60


def _wait_for(home: Home, name: str, ready: Any, timeout: float = 30) -> DeploymentEvidence:
    deadline = time.monotonic() + timeout
    while True:
        found = mltrail.deployments.evidence(name, settings=home.settings)
        if ready(found) or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def _by_variant(found: DeploymentEvidence) -> dict[str, Any]:
    return {v.variant: v for v in found.variants}


@pytest.mark.slow
def test_the_gateway_ships_evidence_per_variant_and_a_gate_reads_it(home: Home) -> None:
    settings = home.settings
    for monitor in ("churn-evidence", "churn-evidence-shadow"):
        mltrail.monitor("churn@production", name=monitor, settings=settings).close()
    spec = {
        "primary": "churn@production",
        "shadow": [{"ref": "churn@challenger", "monitor": "churn-evidence-shadow"}],
        "fallback": [{"rule": "constant", "value": 0}],
        "monitor": "churn-evidence",
    }
    gateway = serve(home, "churn-evidence", spec)
    rows = frame(N, 7).to_dict("records")
    ids = [f"ev-{i}" for i in range(N)]
    try:
        answers = []
        for row, row_id in zip(rows, ids, strict=True):
            response = gateway.predict({"rows": [row], "ids": [row_id]})
            assert response.status_code == 200, response.text
            answers.append(response.json()["predictions"][0])
        # One request whose row breaks the model's kinds is a 400, counted nowhere in the evidence.
        assert gateway.predict({"rows": [{"tenure": "x", "spend": 1.0}]}).status_code == 400
        found = _wait_for(
            home,
            "churn-evidence",
            lambda e: (
                sum(v.requests for v in e.variants if v.variant == "primary") >= N
                and sum(v.requests for v in e.variants if v.variant == "shadow[0]") >= N
            ),
        )
    finally:
        gateway.stop()  # its last windows are sent at shutdown
    variants = _by_variant(mltrail.deployments.evidence("churn-evidence", settings=settings))
    primary, shadow = variants["primary"], variants["shadow[0]"]
    assert set(variants) == {"primary", "shadow[0]"}
    assert (primary.model, primary.requests, primary.rows, primary.errors) == ("churn:1", N, N, 0)
    assert primary.fallback_rate == 0.0 and primary.guard_rate == 0.0
    assert shadow.model == "churn:2" and shadow.requests == N and shadow.errors == 0
    p50, p99 = primary.latency_ms["p50"], primary.latency_ms["p99"]
    assert p50 is not None and p99 is not None and 0 < p50 <= p99
    assert shadow.agreement is not None and shadow.agreement["kind"] == "classes"
    assert shadow.agreement["compared"] == N
    # The two models were trained on different targets: they disagree on part of the traffic.
    assert 0.0 < shadow.agreement["value"] < 1.0
    assert found.variants  # read while serving too, not only after shutdown

    # Delayed labels: realized performance per variant from the monitor's _variant segment.
    truth = [int(r["tenure"] < 20) for r in rows]
    mon = mltrail.monitor("churn@production", name="churn-evidence", settings=settings)
    try:
        deadline = time.monotonic() + 20
        while mon.report(last="1d")["current_rows"] < N and time.monotonic() < deadline:
            time.sleep(0.5)
        assert mon.log_labels(ids, truth) == (N, 0)
    finally:
        mon.close()
    performance = _by_variant(mltrail.deployments.evidence("churn-evidence", settings=settings))[
        "primary"
    ].performance
    expected = sum(a == t for a, t in zip(answers, truth, strict=True)) / N
    assert performance == {"metric": "accuracy", "value": pytest.approx(expected), "labelled": N}

    # A gate on the challenger's evidence as a shadow: agreement below 0.99 fails it, then a looser
    # policy passes and the request waits for an approver.
    models = mltrail.models.client(settings=settings)
    strict = ApprovalPolicy(
        protected_stages=("production",),
        protected_aliases=(),
        gates=(f"evidence.shadow.requests >= {N}", "evidence.shadow.agreement >= 0.99"),
    )
    loose = ApprovalPolicy(
        protected_stages=("production",),
        protected_aliases=(),
        gates=(
            f"evidence.shadow.requests >= {N}",
            "evidence.shadow.error_rate <= evidence.primary.error_rate",
        ),
    )
    try:
        models.set_policy("churn", strict)
        with pytest.raises(ConflictError) as caught:
            mltrail.models.transition("churn", 2, to="production", settings=settings)
        assert "shadow.agreement" in str(caught.value) and "needs >= 0.99" in str(caught.value)
        models.set_policy("churn", loose)
        _, request = mltrail.models.transition("churn", 2, to="production", settings=settings)
        assert request is not None and all(g.passed for g in request.gates)
        assert [g.gate for g in request.gates] == list(loose.gates)
        models.cancel(request.id)
    finally:
        models.set_policy("churn", ApprovalPolicy(protected_stages=(), protected_aliases=()))
