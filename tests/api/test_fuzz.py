"""Property-based fuzzing of every ``/api/v1`` operation from the app's own OpenAPI document (schemathesis).

The app runs in-process (ASGI) on a temp SQLite store seeded with a project, runs with metrics, artifacts
and a dataset. About half of the examples are steered by hooks: path parameters name the seeded runs,
artifact paths and project; searches get the seeded project and filters and sorts built from the filter
language's grammar; history reads get seeded keys and step ranges; metric batches are well formed (equal
columns, replayed sequence numbers, steps up to ±2**63). So the handlers behind a successful lookup, the
filter compiler and the metric writer are fuzzed too, not only the 4xx paths. Every request must get no
5xx, and responses must conform to the schema (body, content type, headers). Error statuses
(400/401/403/404/409/413) are not declared in the spec, so status-code conformance is not checked.

Examples are bounded (MAX_EXAMPLES per operation) and derandomized, so ``make test`` is reproducible; the
whole fuzz takes about 45 s on 2 cores.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
)

from mltrail.api.app import create_app
from mltrail.entities import MetricsBatch
from mltrail.services.tracking.artifacts import ArtifactService
from mltrail.services.tracking.datasets import DatasetService
from mltrail.services.tracking.fingerprint import Fingerprint
from mltrail.services.tracking.service import TrackingService
from mltrail.settings import Settings
from mltrail.store.blobs import BlobStore
from mltrail.store.factory import open_store

# Headers sent with every request: where an ``Authorization: Bearer …`` goes once the fuzzed app has
# authentication on.
HEADERS: dict[str, str] = {}
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    content_type_conformance,
    response_headers_conformance,
]
MAX_EXAMPLES = 60  # per operation

PROJECT = "fuzz"
RUNS = [f"{i:02d}fuzzrun{'a' * 24}" for i in range(3)]  # runs the fuzzed operations may hit
VICTIMS = [f"{i:02d}victim{'b' * 24}" for i in range(3)]  # runs DELETE may remove (the others stay)
ARTIFACT_PATHS = ["model/weights.bin", "notes.txt"]


def _seed(tracking: TrackingService, artifacts: ArtifactService, datasets: DatasetService) -> None:
    n = 200
    for i, run_id in enumerate(RUNS):
        tracking.start_run(
            run_id=run_id,
            project=PROJECT,
            name=f"run-{i}",
            user="fuzzer",
            config={"lr": 0.1 * (i + 1), "model": {"depth": i + 2}, "optimizer": "adam"},
            tags={"team": "a", "kind": f"k{i}"},
            notes="seeded",
        )
        tracking.log_metrics(
            run_id,
            MetricsBatch(
                keys=["loss"] * n + ["acc"] * n,
                steps=list(range(n)) * 2,
                values=[1.0 / (s + 1) for s in range(n)] + [s / n for s in range(n)],
                wall_times=[1.0] * (2 * n),
            ),
        )
        tracking.set_summary(run_id, {"best": 0.5 + i / 10})
    artifacts.log_stream(RUNS[0], ARTIFACT_PATHS[0], io.BytesIO(b"weights" * 100))
    artifacts.log_stream(RUNS[0], ARTIFACT_PATHS[1], io.BytesIO(b"hello"))
    artifacts.log_stream(RUNS[1], ARTIFACT_PATHS[1], io.BytesIO(b"hello"))
    table = Fingerprint(
        name="train",
        digest=hashlib.sha256(b"train").hexdigest(),
        kind="table",
        source=None,
        num_rows=3,
        num_bytes=24,
        schema=[{"name": "x", "type": "int64"}],
        summary={},
    )
    datasets.record(RUNS[0], table, "train")
    for i, run_id in enumerate(VICTIMS):
        tracking.start_run(run_id=run_id, project=PROJECT, name=f"victim-{i}", user=None)


@pytest.fixture(scope="module")
def seeded_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    """The app on a seeded temp SQLite store (1 MiB upload limit, auth off as ``create_app`` defaults)."""
    settings_ = Settings(home=tmp_path_factory.mktemp("fuzz") / "mltrail")
    store = open_store(settings_.db_url)
    _seed(
        TrackingService(store),
        ArtifactService(store, BlobStore(settings_.blobs)),
        DatasetService(store),
    )
    yield create_app(settings_, store=store, max_upload_bytes=1 << 20)
    store.close()


# The schema is read from an app at import (no I/O: a store opens only in the app's lifespan); requests go
# to the seeded app of the fixture. (schemathesis' lazy ``from_fixture`` loader does not run on pytest 9.2.)
schema = schemathesis.openapi.from_dict(create_app(Settings(home=Path("unused"))).openapi())


# -- strategies that steer part of the examples at the seeded objects ------------------------------------
FIELDS = [
    "params.lr", "params.optimizer", "params.model.depth", "params.missing", "metrics.loss",
    "min(metrics.acc)", "max(metrics.loss)", "metrics.nope", "tags.team", "summary.best", "id", "name",
    "user", "project", "status", "start_time", "end_time", "duration",
]  # fmt: skip
TEXT_FIELDS = ["params.optimizer", "tags.team", "id", "name", "user", "project"]


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


VALUES = st.one_of(
    st.integers().map(str),
    st.floats().map(repr),
    st.text(max_size=8).map(_quoted),
    st.sampled_from(["true", "false", "null", '"finished"', '"running"', "nan", "-inf"]),
)
CONDITIONS = st.one_of(
    st.builds("{} {} {}".format, st.sampled_from(FIELDS), st.sampled_from(["=", "!=", "<", "<=", ">", ">="]),
              VALUES),
    st.builds("{} exists".format, st.sampled_from([f for f in FIELDS if "." in f and "(" not in f])),
    st.builds("{} contains {}".format, st.sampled_from(TEXT_FIELDS), st.text(max_size=5).map(_quoted)),
    st.builds("{} {} ({})".format, st.sampled_from(FIELDS), st.sampled_from(["in", "not in"]),
              st.lists(VALUES, min_size=1, max_size=3).map(", ".join)),
)  # fmt: skip
FILTERS = st.recursive(
    CONDITIONS,
    lambda inner: st.one_of(
        st.builds("{} and {}".format, inner, inner),
        st.builds("{} or {}".format, inner, inner),
        st.builds("not ({})".format, inner),
    ),
    max_leaves=4,
)
SORTS = st.lists(
    st.builds("{}{}".format, st.sampled_from(["", "-", "+"]), st.sampled_from(FIELDS)), max_size=3
)
STEPS = st.one_of(st.integers(-5, 500), st.integers(-(2**63), 2**63 - 1))
METRIC_VALUES = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False), st.sampled_from(["NaN", "Infinity"])
)


@st.composite
def _batches(draw: st.DrawFn) -> dict[str, Any]:
    """A well-formed metric batch: equal-length columns, seeded and new keys, replayable (client_id, seq)."""
    n = draw(st.integers(0, 12))
    return {
        "keys": draw(st.lists(st.sampled_from(["loss", "acc", "val/new"]), min_size=n, max_size=n)),
        "steps": draw(st.lists(STEPS, min_size=n, max_size=n)),
        "values": draw(st.lists(METRIC_VALUES, min_size=n, max_size=n)),
        "wall_times": draw(st.lists(st.floats(0, 2e9), min_size=n, max_size=n)),
        "client_id": draw(st.sampled_from(["", "fuzz-a", "fuzz-b"])),
        "seq": draw(st.integers(0, 3)),
    }


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> Any:
    """Half of the time point ``run_id``, ``path`` and ``project`` at seeded objects."""
    if not path_parameters or not ({"run_id", "project"} & set(path_parameters)):
        return st.just(path_parameters)
    operation = context.operation
    deletes_run = operation.method.upper() == "DELETE" and operation.path.endswith("{run_id}")
    real = {name: st.just(value) for name, value in path_parameters.items()}
    if "run_id" in path_parameters:
        real["run_id"] = st.sampled_from(VICTIMS if deletes_run else RUNS)
    if "path" in path_parameters:
        real["path"] = st.sampled_from(ARTIFACT_PATHS)
    if "project" in path_parameters:
        real["project"] = st.just(PROJECT)
    return st.one_of(st.just(path_parameters), st.fixed_dictionaries(real))


@schema.hook
def flatmap_query(context: Any, query: dict[str, Any] | None) -> Any:
    """Half of the time: the seeded project, filters and sorts of the filter language, seeded metric keys."""
    if not isinstance(query, dict):
        return st.just(query)
    path = context.operation.path
    steered: dict[str, st.SearchStrategy[Any]] = {}
    if path.endswith(("/runs", "/datasets")) or "project" in query:
        steered["project"] = st.just(PROJECT)
    if path.endswith("/runs"):
        steered["filter"] = FILTERS
        steered["sort"] = SORTS
        steered["offset"] = st.none() | st.integers(0, 4)
        steered["limit"] = st.none() | st.integers(1, 1000)
    if path.endswith("/metrics/history"):
        steered["key"] = st.sampled_from(["loss", "acc", "nope"])
        steered["min_step"] = st.none() | STEPS
        steered["max_step"] = st.none() | STEPS
        steered["max_points"] = st.none() | st.integers(2, 300)
    if not steered:
        return st.just(query)
    real = {**{name: st.just(value) for name, value in query.items()}, **steered}
    return st.one_of(st.just(query), st.fixed_dictionaries(real).map(_drop_none))


def _drop_none(query: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in query.items() if value is not None}


@schema.hook
def flatmap_body(context: Any, body: Any) -> Any:
    """Half of the metric batches are well formed, so they reach the store (points, summaries, rollups)."""
    operation = context.operation
    if operation.method.upper() == "POST" and operation.path.endswith("/metrics"):
        return st.one_of(st.just(body), _batches())
    return st.just(body)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_errors_and_responses_match_the_schema(case: Any, seeded_app: FastAPI) -> None:
    case.call_and_validate(app=seeded_app, headers=HEADERS, checks=CHECKS)
