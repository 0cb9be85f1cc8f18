"""``/api/v1/deployments/{name}/evidence`` in-process (TestClient, real SQLite, authentication on): a
member's key (a gateway's) sends windows, viewers read them, a viewer cannot send, a hidden project is
a 404, a malformed window a 400 naming its field. ana is an admin, bob a member, vic a viewer, eve none."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest
import test_deployments_api
from live_server import LiveServer
from test_deployments_api import Team

import mltrail
from mltrail.entities import EvidenceWindow, VariantCounts
from mltrail.sdk.client.connection import connect
from mltrail.settings import Settings
from mltrail.stats.latency_sketch import LatencySketch

linear = pytest.importorskip("sklearn.linear_model")
team = test_deployments_api.team  # the same fixture: a real SQLite store, authentication on


def _latency(*values: float) -> dict[str, Any]:
    sketch = LatencySketch()
    for v in values:
        sketch.add(v)
    return sketch.to_dict()


def _body(replica: str, requests: int, start: float | None = None) -> dict[str, Any]:
    minute = start if start is not None else time.time() // 60 * 60
    return {
        "replica": replica,
        "windows": [
            {
                "start": minute,
                "spec_version": 1,
                "counts": [
                    {
                        "variant": "primary",
                        "model": "churn:1",
                        "requests": requests,
                        "rows": requests,
                        "errors": 1,
                        "latency": _latency(*[2.0] * requests),
                    },
                    {
                        "variant": "shadow[0]",
                        "model": "churn:2",
                        "requests": requests,
                        "rows": requests,
                        "compared": requests,
                        "agreed": requests - 1,
                        "latency": _latency(*[5.0] * requests),
                    },
                ],
            }
        ],
    }


def test_a_gateway_key_sends_evidence_and_viewers_read_it_per_variant(team: Team) -> None:
    spec = {"primary": "churn:1", "shadow": ["churn:2"]}
    created = team.call("POST", "bob", "/deployments", json={"name": "churn-prod", "spec": spec})
    assert created.status_code == 201, created.text
    sent = team.call("POST", "bob", "/deployments/churn-prod/evidence", json=_body("r1", 10))
    assert sent.status_code == 200 and sent.json() == {"rows": 2}
    team.call("POST", "bob", "/deployments/churn-prod/evidence", json=_body("r1", 10))  # a resend
    team.call("POST", "bob", "/deployments/churn-prod/evidence", json=_body("r2", 30))
    read = team.call("GET", "vic", "/deployments/churn-prod/evidence")
    assert read.status_code == 200, read.text
    body = read.json()
    assert body["deployment"] == "churn-prod" and body["version"] == 1
    assert body["since"] == created.json()["current"]["time"] and body["until"] >= body["since"]
    primary, shadow = body["variants"]
    assert primary == {
        "variant": "primary",
        "model": "churn:1",
        "requests": 40,
        "rows": 40,
        "errors": 2,
        "error_rate": 0.05,
        "fallback_rate": 0.0,
        "guard_rate": 0.0,
        "dropped": 0,
        "latency_ms": primary["latency_ms"],
        "agreement": None,
        "performance": None,
    }
    assert all(abs(primary["latency_ms"][q] - 2.0) < 0.02 for q in ("p50", "p95", "p99"))
    assert shadow["variant"] == "shadow[0]" and shadow["model"] == "churn:2"
    assert shadow["agreement"] == {"kind": "classes", "value": 38 / 40, "compared": 40}
    since = team.call("GET", "vic", "/deployments/churn-prod/evidence", params={"since": "1h"})
    assert [v["requests"] for v in since.json()["variants"]] == [40, 40]
    iso = team.call(
        "GET", "vic", "/deployments/churn-prod/evidence", params={"since": "2999-01-01T00:00:00Z"}
    )
    assert iso.status_code == 400 and iso.json()["error"]["field"] == "since"


def test_viewers_cannot_send_others_do_not_see_and_bad_windows_name_their_field(team: Team) -> None:
    team.call("POST", "bob", "/deployments", json={"name": "churn-prod", "spec": {"primary": "churn:1"}})
    denied = team.call("POST", "vic", "/deployments/churn-prod/evidence", json=_body("r1", 3))
    assert denied.status_code == 403
    assert team.call("GET", "eve", "/deployments/churn-prod/evidence").status_code == 404
    assert (
        team.call("POST", "eve", "/deployments/churn-prod/evidence", json=_body("r1", 3)).status_code == 404
    )
    assert team.call("GET", "vic", "/deployments/nope/evidence").status_code == 404
    old = _body("r1", 3, start=60.0)
    refused = team.call("POST", "bob", "/deployments/churn-prod/evidence", json=old)
    assert refused.status_code == 400 and refused.json()["error"]["field"] == "windows[0].start"
    unknown = _body("r1", 3)
    unknown["windows"][0]["counts"][0]["surprise"] = 1
    assert team.call("POST", "bob", "/deployments/churn-prod/evidence", json=unknown).status_code in (
        400,
        422,
    )
    assert team.call("GET", "vic", "/deployments/churn-prod/evidence").json()["variants"] == []


@pytest.mark.slow
def test_the_sdk_over_http_sends_and_reads_evidence_as_embedded_does(server: LiveServer) -> None:
    """A real server process: the gateway's client (``HttpDeployments``) sends, the SDK reads back."""
    x = np.arange(40, dtype=float).reshape(20, 2)
    local = Settings(home=server.home, user="ana")  # the server's own database, written beside it
    with mltrail.init(project="alpha", capture=False, settings=local) as run:
        for path in ("m1", "m2"):
            model = linear.LogisticRegression().fit(x, (x[:, 0] > 19).astype(int))
            mltrail.models.register(
                "churn-http", run=run, model=model, input_example=x[:3], path=path, settings=local
            )
    spec = {"primary": "churn-http:1", "shadow": ["churn-http:2"]}
    mltrail.deployments.create("http-dep", spec, server=server.url)
    minute = time.time() // 60 * 60
    sketch = LatencySketch()
    sketch.add(3.0)
    window = EvidenceWindow(
        minute,
        1,
        "gw-1",
        (
            VariantCounts("primary", "churn-http:1", requests=1, rows=1, latency=sketch.to_dict()),
            VariantCounts("shadow[0]", "churn-http:2", requests=1, rows=1, compared=1, agreed=1),
        ),
    )
    sent = connect(server=server.url).deployments().record_evidence("http-dep", [window])
    assert sent == 2
    found = mltrail.deployments.evidence("http-dep", server=server.url, since="10m")
    assert [(v.variant, v.model, v.requests) for v in found.variants] == [
        ("primary", "churn-http:1", 1),
        ("shadow[0]", "churn-http:2", 1),
    ]
    assert found.variants[0].latency_ms["p50"] == pytest.approx(3.0, rel=0.01)
    assert found.variants[1].agreement == {"kind": "classes", "value": 1.0, "compared": 1}
    assert found.to_dict()["variants"][1]["latency_ms"] == {"p50": None, "p95": None, "p99": None}
