"""Stateful fuzzing: sequences of ``/api/v1`` calls chained by the links schemathesis infers from the schema.

Where ``test_fuzz.py`` fuzzes each operation alone, this follows what one call returns into the next
(schemathesis 4 infers the links from the schema: about 180 over 68 operations): a run created by
``POST /runs`` is then patched, tagged and deleted; a model gets versions, aliases, transitions and their
requests; a monitor gets alert rules and reports; a user gets keys that are revoked.
``test_the_links_cover_every_route_family`` keeps the links spanning runs, registry, approvals, monitoring,
alerts and accounts.

The app runs in-process with authentication on, as an admin. Every scenario starts from its own copy of a
seeded SQLite home (a run that logged a model and its training data, registered as ``churn:1``), so a
scenario Hypothesis replays meets the same state. Half of the creating calls get valid bodies (names the
API accepts, the seeded run and model), so chains get past validation; the other half are generated from
the schema as they come. Every call must get no 5xx and a response that matches the schema; after a
DELETE the object must be gone (schemathesis' ``use_after_free``); in at least three families some call
on a created object must succeed. 60 scenarios of at most 12 calls, derandomized; the ids and times the
server answers differ from run to run, so the paths explored may differ a little too (one run reached the
runs family deeper than another). About a minute on 2 cores; marked slow.
"""

from __future__ import annotations

import itertools
import shutil
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
import numpy as np
import pandas as pd
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from live_server import TestClient
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
)
from schemathesis.specs.openapi.checks import use_after_free
from sklearn.linear_model import LogisticRegression

from mltrail.api.app import create_app
from mltrail.sdk.flavors import save_model
from mltrail.services.accounts.service import AccountService
from mltrail.services.tracking.artifacts import ArtifactService
from mltrail.services.tracking.datasets import DatasetService
from mltrail.services.tracking.fingerprint import fingerprint
from mltrail.services.tracking.service import TrackingService
from mltrail.settings import Settings
from mltrail.store.blobs import BlobStore
from mltrail.store.factory import open_store

CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    content_type_conformance,
    response_headers_conformance,
    use_after_free,
]
SCENARIOS = 60
STEPS = 12  # calls per scenario at most
FAMILIES = {
    "runs": "/api/v1/runs",
    "registry": "/api/v1/models",
    "approvals": "/api/v1/requests",
    "monitoring": "/api/v1/monitors",
    "alerts": "/api/v1/alerts",
    "accounts": "/api/v1/users",
    "keys": "/api/v1/keys",
}

schema = schemathesis.openapi.from_dict(create_app(Settings(home=Path("unused"))).openapi())

RUN = "f" * 32  # a seeded run that logged a model at "model"
MODEL = "churn"  # registered from it (version 1)

# -- half of the creating calls are steered to valid bodies, so that chains get going ---------------------
NAMES = st.from_regex(r"\A[a-z][a-z0-9_-]{0,11}\Z")
SAFE_TEXT = st.text(st.characters(codec="utf-8", categories=["L", "N", "P", "Zs"]), max_size=12)
FLAT = st.dictionaries(NAMES, st.one_of(st.integers(), st.floats(allow_nan=False), SAFE_TEXT), max_size=3)
ROWS = st.lists(
    st.fixed_dictionaries(
        {
            "age": st.floats(0, 100),
            "income": st.one_of(st.floats(0, 1e6), st.none()),
            "prediction": st.sampled_from([0, 1]),
            "id": NAMES,
        }
    ),
    min_size=1,
    max_size=20,
)
STEERED: dict[tuple[str, str], st.SearchStrategy[Any]] = {
    ("POST", "/api/v1/runs"): st.fixed_dictionaries(
        {"project": st.just("fuzz"), "name": NAMES},
        optional={"config": FLAT, "tags": FLAT, "notes": SAFE_TEXT},
    ),
    ("POST", "/api/v1/models"): st.fixed_dictionaries(
        {"name": NAMES, "project": st.just("fuzz")}, optional={"description": SAFE_TEXT, "tags": FLAT}
    ),
    ("POST", "/api/v1/models/{name}/versions"): st.just({"run_id": RUN, "path": "model"}),
    ("POST", "/api/v1/monitors"): st.fixed_dictionaries(
        {"name": NAMES, "model": st.just(f"{MODEL}:1")},
        optional={
            "segments": st.sampled_from([[], ["age < 30"]]),
            "granularity": st.sampled_from(["hour", "day"]),
        },
    ),
    ("POST", "/api/v1/monitors/{name}/predictions"): st.fixed_dictionaries({"rows": ROWS}),
    ("POST", "/api/v1/monitors/{name}/labels"): st.fixed_dictionaries(
        {"ids": st.lists(NAMES, max_size=5), "labels": st.lists(st.sampled_from([0, 1]), max_size=5)}
    ),
    ("POST", "/api/v1/monitors/{name}/alert-rules"): st.fixed_dictionaries(
        {"metric": st.sampled_from(["drift_share", "missing_rate", "rows", "accuracy"])},
        optional={"above": st.floats(0, 1), "for_windows": st.integers(1, 3)},
    ),
    ("POST", "/api/v1/users"): st.fixed_dictionaries(
        {"name": NAMES, "role": st.sampled_from(["admin", "member", "viewer"])}
    ),
    ("POST", "/api/v1/models/{name}/versions/{version}/transitions"): st.fixed_dictionaries(
        {}, optional={"stage": st.sampled_from(["staging", "production", "archived"]), "comment": SAFE_TEXT}
    ),
}


@schema.hook
def flatmap_body(context: Any, body: Any) -> Any:
    operation = context.operation
    steered = STEERED.get((operation.method.upper(), operation.path))
    return st.just(body) if steered is None else st.one_of(st.just(body), steered)


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> Any:
    """Now and then a path names the seeded run or model (the links supply created ones)."""
    if not path_parameters:
        return st.just(path_parameters)
    real = {name: st.just(value) for name, value in path_parameters.items()}
    if "run_id" in real:
        real["run_id"] = st.just(RUN)
    if "name" in real and context.operation.path.startswith("/api/v1/models/"):
        real["name"] = st.just(MODEL)
    return st.one_of(st.just(path_parameters), st.fixed_dictionaries(real))


@dataclass
class Template:
    """A seeded home (SQLite file and blobs) that every scenario starts from a copy of."""

    home: Path
    key: str


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    """A run that logged a model and its training data, the model registered as churn:1, an admin key."""
    root = tmp_path_factory.mktemp("stateful")
    settings_ = Settings(home=root / "mltrail")
    rng = np.random.default_rng(7)
    train = pd.DataFrame({"age": rng.normal(40, 10, 200), "income": rng.lognormal(10, 0.5, 200)})
    model = LogisticRegression().fit(train, train["age"] > 40)
    save_model(model, root / "model", input_example=train.head(3))
    store = open_store(settings_.db_url)
    accounts = AccountService(store)
    key = accounts.create_user("fuzzer", "admin")[1].secret
    TrackingService(store).start_run(run_id=RUN, project="fuzz", name="seeded", user="fuzzer")
    ArtifactService(store, BlobStore(settings_.blobs)).log_path(RUN, root / "model", "model")
    DatasetService(store).record(RUN, fingerprint(train, name="train"), "train")  # the monitors' reference
    with TestClient(create_app(settings_, store=store, auth=True, webhooks=False)) as client:
        registered = client.post(
            f"/api/v1/models/{MODEL}/versions",
            json={"run_id": RUN, "path": "model"},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert registered.status_code == 201, registered.text
    store.close()
    return Template(settings_.home, key)


def test_the_links_cover_every_route_family() -> None:
    machine = schema.as_state_machine()
    ends: set[str] = set()  # the paths a link leaves or reaches
    links = 0
    for label, operation in machine._transitions.operations.items():
        for link in operation.outgoing:
            links += 1
            ends |= {label.split(" ", 1)[1], link.target.label.split(" ", 1)[1]}
    assert links >= 150, links
    for family, prefix in FAMILIES.items():
        assert any(path.startswith(prefix) for path in ends), f"no link touches the {family} routes"


@pytest.mark.slow
# Each scenario builds its own app over a copy of the seeded home (FastAPI's route set-up dominates): the 60
# scenarios take about 2 minutes on a quiet machine, and ran past pytest's 300 s default in a CI run that
# shared the machine with benchmarks (then Hypothesis reports the interrupted run as a flaky strategy).
@pytest.mark.timeout(1200)
def test_sequences_of_calls_get_no_server_error(template: Template, tmp_path: Path) -> None:
    headers = {"Authorization": f"Bearer {template.key}"}
    answered: dict[str, list[int]] = defaultdict(list)
    homes = itertools.count()

    class Scenario(schema.as_state_machine()):  # type: ignore[misc]
        # Each scenario runs on its own copy of the seeded store, so a scenario replayed by Hypothesis
        # meets the same state (a shared store would answer 409 where the first run got 201).
        def setup(self) -> None:
            home = tmp_path / f"s{next(homes)}"
            shutil.copytree(template.home, home)
            settings_ = Settings(home=home)
            self.store = open_store(settings_.db_url)
            self.app = create_app(settings_, store=self.store, auth=True, webhooks=False)

        def teardown(self) -> None:
            self.store.close()
            super().teardown()

        def before_call(self, case: Any) -> None:
            case.headers = {**(case.headers or {}), **headers}

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"app": self.app}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            answered[f"{case.method} {case.path}"].append(response.status_code)
            case.validate_response(response, checks=CHECKS, recorder=self.recorder)

    Scenario.run(
        settings=settings(
            max_examples=SCENARIOS,
            stateful_step_count=STEPS,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )
    # The sequences got past validation: calls on created objects (paths with a parameter) succeeded in
    # several families, so the chains reached the handlers behind the links, not only 4xx paths. (Which
    # families Hypothesis explores deepest shifts whenever a route is added, so no one family is required.)
    families = {
        op.split(" ", 1)[1].split("/")[3]
        for op, codes in answered.items()
        if "{" in op and any(c < 300 for c in codes)
    }
    assert len(families) >= 3, f"linked calls succeeded only under {sorted(families)}: {dict(answered)}"
