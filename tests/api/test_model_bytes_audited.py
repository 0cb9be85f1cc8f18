"""A registered version's file fetched through its run's artifact route is audited as a model download."""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pytest
from live_server import TestClient

import mltrail
from mltrail.api.app import create_app
from mltrail.settings import Settings

linear = pytest.importorskip("sklearn.linear_model")


def test_the_run_route_cannot_bypass_the_download_audit(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "m")
    name = f"churn-{uuid.uuid4().hex[:6]}"
    x = np.random.default_rng(0).normal(size=(50, 3))
    y = (x[:, 0] > 0).astype(int)
    with mltrail.init(project="p", capture=False, settings=settings) as run:
        (tmp_path / "notes.txt").write_text("not a model")
        run.log_artifact(tmp_path / "notes.txt")
        version = mltrail.models.register(
            name, model=linear.LogisticRegression().fit(x, y), settings=settings
        )
    weights = next(f.path for f in version.files if f.path != "mltrail-model.json")
    with TestClient(create_app(settings, webhooks=False)) as client:

        def downloads() -> list[dict[str, object]]:
            trail = client.get(f"/api/v1/models/{name}/audit", params={"action": "downloaded"}).json()
            events = trail["events"] if isinstance(trail, dict) else trail
            return [e for e in events if e["action"] == "downloaded"]

        assert downloads() == []
        got = client.get(f"/api/v1/runs/{run.id}/artifacts/{version.source}/{weights}")
        assert got.status_code == 200 and got.content
        (event,) = downloads()
        assert event["version"] == version.version and event["details"]["path"] == weights
        etag = got.headers["etag"]
        cached = client.get(
            f"/api/v1/runs/{run.id}/artifacts/{version.source}/{weights}", headers={"If-None-Match": etag}
        )
        assert cached.status_code == 304 and len(downloads()) == 1  # nothing delivered: nothing recorded
        assert client.get(f"/api/v1/runs/{run.id}/artifacts/notes.txt").status_code == 200
        assert len(downloads()) == 1  # not a model's file
