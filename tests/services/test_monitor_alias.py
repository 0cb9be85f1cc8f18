"""Monitors of an alias or stage follow it, on SQLite and PostgreSQL: ``m@production`` moves from v1 to v2
(reference, run, training metrics, history, alerts), a fixed ``m:1`` never moves, a given reference stays,
a deleted alias keeps the binding, and two servers seeing one move record it once."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from test_monitoring import DAY, T0, traffic
from test_registry import ANA

from mltrail.entities import ApprovalPolicy, MetricsBatch, ModelVersion, Monitor, MonitorVersion
from mltrail.errors import StoreError
from mltrail.render.html_report import render_report_html
from mltrail.sdk.flavors import save_model
from mltrail.services.accounts.service import AccountService
from mltrail.services.monitoring.alerts import AlertService, alert_payload
from mltrail.services.monitoring.alias import FOLLOW_EVERY, followed_alias
from mltrail.services.monitoring.report import build_report
from mltrail.services.monitoring.service import MonitoringService
from mltrail.services.registry.service import RegistryService
from mltrail.services.tracking.artifacts import ArtifactService
from mltrail.services.tracking.datasets import DatasetService
from mltrail.services.tracking.fingerprint import fingerprint
from mltrail.services.tracking.service import TrackingService
from mltrail.stats.profile import DatasetProfile, profile_batches
from mltrail.store.blobs import BlobStore
from mltrail.store.factory import open_store
from mltrail.store.sql import SqlStore

sklearn_linear = pytest.importorskip("sklearn.linear_model")

FEATURES = ["age", "income", "country"]
START = T0 + 10 * DAY  # the services' clock: after the traffic's days


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    train = traffic(200, 1).select(["age", "income"]).to_pandas()
    folder = tmp_path_factory.mktemp("saved") / "model"
    model = sklearn_linear.LogisticRegression().fit(train, (train["age"] > 40).astype(int))
    save_model(model, folder, input_example=train.head(3))
    return folder


@dataclass
class World:
    store: SqlStore
    blobs: BlobStore
    registry: RegistryService
    monitoring: MonitoringService
    alerts: AlertService
    clock: Clock
    folder: Path
    project: str
    model: str
    sent: list[dict[str, Any]]

    def register(
        self, seed: int, *, acc: float, shift: float = 0.0, prediction: bool = False, labels: bool = False
    ) -> ModelVersion:
        """A version of ``model`` from a new run that logged ``val/acc`` and its training data."""
        run_id = uuid.uuid4().hex
        tracking = TrackingService(self.store)
        tracking.start_run(run_id=run_id, project=self.project, name=f"r-{run_id[:6]}", user="ana")
        tracking.log_metrics(
            run_id, MetricsBatch(["val/acc"], [0], [acc], [self.clock()], client_id="c", seq=1)
        )
        columns = [*FEATURES, "prediction"] if prediction else FEATURES
        train = traffic(4000, seed, shift=shift).select(columns)
        if labels:  # the output as class labels ("0"/"1") rather than codes
            train = train.set_column(
                len(columns) - 1, "prediction", pc.cast(train.column("prediction"), pa.string())
            )
        DatasetService(self.store).record(run_id, fingerprint(train, name="train"), "train")
        ArtifactService(self.store, self.blobs).log_path(run_id, self.folder, "model")
        version = self.registry.register_version(self.model, run_id=run_id, source="model", principal=ANA)
        if version.version == 1:  # promotions apply at once, without approvals
            policy = ApprovalPolicy(protected_stages=(), protected_aliases=())
            self.registry.update_model(self.model, principal=ANA, policy=policy)
        return version

    def promote(self, version: int, stage: str = "production") -> None:
        self.registry.transition(self.model, version, principal=ANA, stage=stage)

    def watch(self, ref: str, **options: Any) -> Monitor:
        """A monitor of ``ref`` as ``mltrail.monitor`` creates it: resolved once, following its alias."""
        version = self.registry.resolve(ref)
        return self.monitoring.create_for_version(
            f"mon-{uuid.uuid4().hex[:8]}",
            model=version.model,
            version=version.version,
            run_id=version.run_id,
            signature=version.signature,
            alias=followed_alias(ref),
            features=FEATURES,
            **options,
        )


@pytest.fixture
def world(db_url: str, tmp_path: Path, model_folder: Path) -> Iterator[World]:
    store = open_store(db_url)
    blobs = BlobStore(str(tmp_path / "blobs"))
    clock = Clock(START)
    sent: list[dict[str, Any]] = []

    def notifier(channel: str, payload: Any) -> tuple[bool, int | None, str | None]:
        sent.append(dict(payload))
        return True, 200, None

    alerts = AlertService(store, notifier=notifier, clock=clock)
    monitoring = MonitoringService(store, blobs, after_ingest=alerts.evaluate, clock=clock)
    registry = RegistryService(store, blobs, AccountService(store))
    suffix = uuid.uuid4().hex[:8]
    yield World(
        store, blobs, registry, monitoring, alerts, clock, model_folder, f"p-{suffix}", f"m-{suffix}", sent
    )
    alerts.close()
    store.close()


def _profile(store: SqlStore, run_id: str | None) -> DatasetProfile:
    assert run_id is not None
    (link,) = store.list_run_datasets(run_id)
    raw = store.get_dataset_profile(link.dataset.id)
    assert raw is not None
    return DatasetProfile.from_bytes(raw)


def _mean_age(reference: bytes) -> float:
    numeric = DatasetProfile.from_bytes(reference).columns["age"].numeric
    assert numeric is not None
    return float(numeric.mean)


def test_a_monitor_of_production_moves_to_the_new_version(world: World) -> None:
    v1 = world.register(1, acc=0.91)
    v2 = world.register(2, acc=0.95, shift=1.0)  # trained on older customers
    world.promote(1)
    mon = world.watch(f"{world.model}@production")
    assert (mon.alias, mon.version, mon.run_id) == ("production", 1, v1.run_id)
    assert mon.versions == (MonitorVersion(1, v1.run_id, START, "train dataset train v1"),)
    before = world.alerts.add_rule(mon, metric="rows", above=0, notify=["webhook:http://hooks.example/a"])
    world.monitoring.ingest(mon.name, traffic(500, 10, day=0))

    world.promote(2)
    world.clock.now += FOLLOW_EVERY - 1  # looked up less than 30 s ago: not yet
    world.monitoring.ingest(mon.name, traffic(500, 11, day=1))
    assert world.store.get_monitor(mon.name).version == 1
    world.clock.now += 2
    moved_at = world.clock.now
    world.monitoring.ingest(mon.name, traffic(500, 12, day=2))
    after = world.alerts.add_rule(
        mon, metric="drift.share", above=-1, notify=["webhook:http://hooks.example/b"]
    )  # fires on every window: opened at once, over the windows stored, after the move

    now = world.store.get_monitor(mon.name)
    assert (now.alias, now.version, now.run_id) == ("production", 2, v2.run_id)
    assert now.training_metrics == {"val/acc": 0.95}
    assert now.reference_source == "train dataset train v2"
    assert now.reference != mon.reference
    assert _mean_age(now.reference) == pytest.approx(_mean_age(_profile(world.store, v2.run_id).to_bytes()))
    assert _mean_age(now.reference) > _mean_age(mon.reference) + 5
    assert set(DatasetProfile.from_bytes(now.reference).columns) == set(FEATURES)  # watched columns only
    assert (now.features, now.segments, now.schema, now.drift) == (
        mon.features,
        mon.segments,
        mon.schema,
        mon.drift,
    )
    assert now.versions == (
        MonitorVersion(1, v1.run_id, START, "train dataset train v1"),
        MonitorVersion(2, v2.run_id, moved_at, "train dataset train v2"),
    )
    assert world.monitoring.get(mon.name) == now  # the embedded cache holds the new binding

    # the alert opened by the batch after the move names v2 and its run; the one from before, v1
    assert world.alerts.flush()
    by_rule = {p["title"].split()[0]: p for p in world.sent}
    assert (by_rule["drift.share"]["version"], by_rule["drift.share"]["run_id"]) == (2, v2.run_id)
    assert (by_rule["rows"]["version"], by_rule["rows"]["run_id"]) == (1, v1.run_id)
    alerts = {a.rule_id: a for a in world.alerts.list(now)}
    assert alert_payload(alerts[after.id], now)["version"] == 2
    assert alert_payload(alerts[before.id], now)["run_id"] == v1.run_id

    report = build_report(world.store, now)
    assert report["monitor"]["alias"] == "production" and report["monitor"]["version"] == 2
    assert [v["version"] for v in report["monitor"]["versions"]] == [1, 2]
    assert report["monitor"]["versions"][1]["since"] == moved_at
    html = render_report_html(report)
    assert f"follows {world.model}@production · v1 until" in html and "v2 since" in html


def test_a_monitor_of_a_fixed_version_never_moves(world: World) -> None:
    v1 = world.register(1, acc=0.91)
    world.register(2, acc=0.95)
    world.promote(1)
    mon = world.watch(f"{world.model}:1")
    assert mon.alias is None and len(mon.versions) == 1
    world.promote(2)
    world.clock.now += FOLLOW_EVERY + 1
    world.monitoring.ingest(mon.name, traffic(300, 20))
    now = world.store.get_monitor(mon.name)
    assert (now.version, now.run_id, now.versions, now.reference) == (
        1,
        v1.run_id,
        mon.versions,
        mon.reference,
    )
    html = render_report_html(build_report(world.store, now))
    assert "follows" not in html


def test_a_given_reference_survives_a_switch(world: World) -> None:
    world.register(1, acc=0.91)
    v2 = world.register(2, acc=0.95, shift=1.0)
    world.promote(1)
    given = profile_batches(traffic(2000, 30).select(FEATURES))
    mon = world.watch(f"{world.model}@production", reference=given)
    assert mon.reference_source == "given"
    world.promote(2)
    world.clock.now += FOLLOW_EVERY + 1
    world.monitoring.ingest(mon.name, traffic(300, 31))
    now = world.store.get_monitor(mon.name)
    assert (now.version, now.run_id, now.training_metrics) == (2, v2.run_id, {"val/acc": 0.95})
    assert now.reference == mon.reference and now.reference_source == "given"
    assert [(v.version, v.reference_source) for v in now.versions] == [(1, "given"), (2, "given")]


def test_a_deleted_alias_keeps_the_binding_and_ingestion_works(world: World) -> None:
    v1 = world.register(1, acc=0.91)
    v2 = world.register(2, acc=0.95)
    world.registry.set_alias(world.model, "champion", 1, principal=ANA)
    mon = world.watch(f"{world.model}@champion")
    assert mon.alias == "champion"
    world.registry.delete_alias(world.model, "champion", principal=ANA)
    world.clock.now += FOLLOW_EVERY + 1
    assert world.monitoring.ingest(mon.name, traffic(300, 40)).rows == 300
    now = world.store.get_monitor(mon.name)
    assert (now.version, now.run_id, len(now.versions)) == (1, v1.run_id, 1)
    # it still follows: the alias is back, on v2
    world.registry.set_alias(world.model, "champion", 2, principal=ANA)
    world.clock.now += FOLLOW_EVERY + 1
    world.monitoring.log_labels(mon.name, ["40-0"], [1])  # labels look the alias up too
    assert world.store.get_monitor(mon.name).run_id == v2.run_id


def test_an_empty_stage_keeps_the_binding(world: World) -> None:
    world.register(1, acc=0.91)
    world.promote(1)
    mon = world.watch(f"{world.model}@production")
    world.promote(1, stage="archived")  # no version left in production
    world.clock.now += FOLLOW_EVERY + 1
    assert world.monitoring.ingest(mon.name, traffic(300, 45)).rows == 300
    assert world.store.get_monitor(mon.name).versions == mon.versions


def test_the_output_keeps_its_kind_when_the_new_reference_has_it_as_numbers(world: World) -> None:
    world.register(1, acc=0.91)  # no prediction column: class labels are categories
    world.register(2, acc=0.95, prediction=True)  # its training data has the (integer) output
    world.promote(1)
    mon = world.watch(f"{world.model}@production")
    world.monitoring.ingest(mon.name, traffic(300, 50, day=0))
    world.promote(2)
    world.clock.now += FOLLOW_EVERY + 1
    world.monitoring.ingest(mon.name, traffic(300, 51, day=1))
    day0, day1 = world.store.list_windows(mon.id, "day")
    # One kind for the monitor's windows (issue 13): v2's integer outputs are read as the labels they are.
    assert DatasetProfile.from_bytes(day0.profile).columns["prediction"].kind == "categorical"
    assert DatasetProfile.from_bytes(day1.profile).columns["prediction"].kind == "categorical"
    moved = DatasetProfile.from_bytes(world.store.get_monitor(mon.name).reference).columns["prediction"]
    assert moved.kind == "categorical" and moved.count == 4000


def test_two_servers_seeing_one_move_record_it_once(world: World) -> None:
    v1 = world.register(1, acc=0.91)
    v2 = world.register(2, acc=0.95)
    world.promote(1)
    mon = world.watch(f"{world.model}@production")
    world.promote(2)
    # servers keep nothing between requests (cache=False): each batch looks the alias up
    servers = [MonitoringService(world.store, world.blobs, clock=world.clock, cache=False) for _ in range(4)]
    barrier = threading.Barrier(len(servers))
    errors: list[BaseException] = []

    def ingest(server: MonitoringService, seed: int) -> None:
        try:
            barrier.wait()
            server.ingest(mon.name, traffic(200, seed))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=ingest, args=(s, 60 + i)) for i, s in enumerate(servers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    now = world.store.get_monitor(mon.name)
    assert [(v.version, v.run_id) for v in now.versions] == [(1, v1.run_id), (2, v2.run_id)]
    assert sum(w.rows for w in world.store.list_windows(mon.id, "day")) == 800


def test_an_alert_opened_by_the_first_batch_after_a_move_names_the_new_version_despite_skew(
    world: World,
) -> None:
    world.register(1, acc=0.91)
    v2 = world.register(2, acc=0.95)
    world.promote(1)
    mon = world.watch(f"{world.model}@production")
    world.alerts.add_rule(mon, metric="rows", above=0, notify=["webhook:http://hooks.example/a"])
    sent: list[dict[str, Any]] = []

    def notifier(channel: str, payload: Any) -> tuple[bool, int | None, str | None]:
        sent.append(dict(payload))
        return True, 200, None

    # a server whose clock is 5 s behind the one that records the move
    behind = AlertService(world.store, notifier=notifier, clock=lambda: world.clock.now - 5)
    server = MonitoringService(
        world.store, world.blobs, after_ingest=behind.evaluate, clock=world.clock, cache=False
    )
    world.promote(2)
    server.ingest(mon.name, traffic(300, 70))
    assert behind.flush()
    behind.close()
    assert [(p["version"], p["run_id"]) for p in sent] == [(2, v2.run_id)]


def test_a_move_that_fails_never_fails_the_batch(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    world.register(1, acc=0.91)
    v2 = world.register(2, acc=0.95)
    world.promote(1)
    mon = world.watch(f"{world.model}@production")
    world.promote(2)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise StoreError("the database went away")

    with monkeypatch.context() as patched:
        patched.setattr(world.store, "rebind_monitor", broken)
        assert world.monitoring.ingest(mon.name, traffic(300, 80)).rows == 300
    assert world.store.get_monitor(mon.name).version == 1
    world.clock.now += FOLLOW_EVERY + 1  # tried again at the next look-up
    world.monitoring.ingest(mon.name, traffic(300, 81))
    assert world.store.get_monitor(mon.name).run_id == v2.run_id


@pytest.mark.parametrize("codes_first", [True, False])
def test_after_a_move_the_output_may_change_kind_within_a_window(world: World, codes_first: bool) -> None:
    """v1 outputs codes (0/1) and v2 labels ("0"/"1"), or the other way round: the window the move falls
    in keeps both batches, read in the kind its windows hold, and the change is counted (issue 13)."""

    def batch(seed: int, *, labels: bool) -> pa.Table:
        rows = traffic(400, seed, day=0)
        return (
            rows.set_column(3, "prediction", pc.cast(rows.column("prediction"), pa.string()))
            if labels
            else rows
        )

    world.register(1, acc=0.9, prediction=True, labels=not codes_first)
    world.register(2, acc=0.9, prediction=True, labels=codes_first)
    world.promote(1)
    mon = world.watch(f"{world.model}@production")
    world.monitoring.ingest(mon.name, batch(10, labels=not codes_first))
    world.promote(2)
    world.clock.now += FOLLOW_EVERY + 1
    out = world.monitoring.ingest(mon.name, batch(11, labels=codes_first))  # the same day: no TypeError
    assert world.store.get_monitor(mon.name).version == 2
    kind = "numeric" if codes_first else "categorical"
    assert out.violations == {f"prediction: kind changed (read as {kind})": 400}
    day = DatasetProfile.from_bytes(world.store.list_windows(mon.id, "day")[0].profile)
    assert (
        day.rows == 800 and day.columns["prediction"].kind == kind and day.columns["prediction"].valid == 800
    )
    now = world.store.get_monitor(mon.name)
    assert DatasetProfile.from_bytes(now.reference).columns["prediction"].kind == kind  # v2's, read as it
    report = build_report(world.store, now)
    assert report["validation"]["totals"][f"prediction: kind changed (read as {kind})"] == 400
    assert report["windows"][0]["rows"] == 800
