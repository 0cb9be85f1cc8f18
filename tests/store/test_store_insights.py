"""Contract tests of the insights store: run facts from context, usage per week and hardware, runs by
what they captured, the price table and budgets."""

from __future__ import annotations

import uuid

import pytest

from mltrail.entities import RunStatus, run_facts
from mltrail.errors import NotFoundError
from mltrail.store.sql import SqlStore

MONDAY = 1_767_571_200.0  # 2026-01-05 00:00 UTC, a Monday
WEEK = 7 * 86400.0

GPU_CONTEXT = {
    "environment": {"cpu": {"count": 8}, "gpus": [{"name": "A100"}, {"name": "A100"}]},
    "git": {"commit": "abc", "dirty": False},
}
CPU_CONTEXT = {"environment": {"cpu": {"count": 4}, "gpus": []}, "git": {"commit": "abc", "dirty": True}}


def _run(
    store: SqlStore, project: str, start: float, hours: float, context: dict[str, object], user: str = "ada"
) -> str:
    run_id = uuid.uuid4().hex
    store.create_run(run_id=run_id, project=project, name="r", user=user, start_time=start, context=context)
    store.update_run(run_id, end_time=start + hours * 3600)
    return run_id


def test_run_facts_read_hardware_and_code_state() -> None:
    assert run_facts(GPU_CONTEXT).gpu_count == 2
    assert run_facts(GPU_CONTEXT).gpu_kind == "A100"
    assert run_facts(GPU_CONTEXT).code_state == "clean"
    assert run_facts(CPU_CONTEXT).code_state == "dirty"
    dirty_with_diff = {"git": {"commit": "abc", "dirty": True, "patch_artifact": "code/diff.patch"}}
    assert run_facts(dirty_with_diff).code_state == "diff"
    assert run_facts({}) == run_facts({"environment": "junk", "git": None})
    assert run_facts({}).cpu_count is None


def test_usage_sums_hours_per_week_user_and_gpu_kind(store: SqlStore, project: str) -> None:
    _run(store, project, MONDAY + 3600, 2.0, GPU_CONTEXT)
    _run(store, project, MONDAY + 7200, 1.0, CPU_CONTEXT)
    _run(store, project, MONDAY + WEEK + 60, 0.5, CPU_CONTEXT, user="bob")
    _run(store, f"{project}-other", MONDAY, 9.0, CPU_CONTEXT)
    cells = store.usage([project])
    by = {(c.week_start, c.user, c.gpu_kind): c for c in cells}
    assert set(by) == {(MONDAY, "ada", "A100"), (MONDAY, "ada", None), (MONDAY + WEEK, "bob", None)}
    gpu = by[(MONDAY, "ada", "A100")]
    assert (gpu.runs, gpu.hours, gpu.cpu_hours, gpu.gpu_hours) == (1, pytest.approx(2.0), 16.0, 4.0)
    cpu = by[(MONDAY, "ada", None)]
    assert (cpu.cpu_hours, cpu.gpu_hours) == (pytest.approx(4.0), 0.0)
    assert [c.user for c in store.usage([project], since=MONDAY + WEEK)] == ["bob"]
    assert [c.week_start for c in store.usage([project], until=MONDAY + WEEK)] == [MONDAY, MONDAY]


def test_update_context_refreshes_facts(store: SqlStore, project: str) -> None:
    run_id = _run(store, project, MONDAY, 1.0, {})
    assert store.usage([project])[0].cpu_hours == pytest.approx(1.0)  # unknown cores count one
    store.update_context(run_id, {"environment": {"cpu": {"count": 4}, "gpus": []}})
    assert store.usage([project])[0].cpu_hours == pytest.approx(4.0)
    store.delete_run(run_id)
    assert store.usage([project]) == []


def test_repro_counts(store: SqlStore, project: str) -> None:
    clean = _run(store, project, MONDAY + 10, 1.0, GPU_CONTEXT)
    dirty = _run(store, project, MONDAY, 1.0, CPU_CONTEXT)
    _run(store, project, MONDAY + 20, 1.0, {})
    version = store.record_dataset_version(
        project=project,
        name="train",
        digest="d1",
        kind="table",
        source=None,
        num_rows=1,
        num_bytes=1,
        schema=[],
        summary={},
    )
    store.link_dataset(clean, version.id, "train")
    store.link_dataset(dirty, version.id, "train")
    (counts,) = store.repro_counts([project])
    assert (counts.runs, counts.code, counts.data, counts.both, counts.environment) == (3, 1, 2, 1, 2)
    assert counts.first_run == MONDAY
    (later,) = store.repro_counts([project], since=MONDAY + 5)
    assert (later.runs, later.first_run) == (2, MONDAY)


def test_prices(store: SqlStore) -> None:
    kind = f"gpu:test-{uuid.uuid4().hex[:6]}"
    store.set_price(kind, 2.5, "EUR", now=1.0, user="root")
    store.set_price(kind, 3.0, "EUR", now=2.0, user="root")
    (price,) = [p for p in store.list_prices() if p.kind == kind]
    assert (price.per_hour, price.updated_at) == (3.0, 2.0)
    store.delete_price(kind)
    assert kind not in {p.kind for p in store.list_prices()}
    with pytest.raises(NotFoundError):
        store.delete_price(kind)


def test_budgets_alert_once_per_period(store: SqlStore, project: str) -> None:
    _run(store, project, MONDAY, 1.0, {})
    with pytest.raises(NotFoundError):
        store.set_budget(f"{project}-missing", 10.0, "EUR", 0.8, now=1.0, user=None)
    store.set_budget(project, 100.0, "EUR", 0.8, now=1.0, user="root")
    assert store.mark_budget_alerted(project, "2026-01") is True
    assert store.mark_budget_alerted(project, "2026-01") is False
    assert store.mark_budget_alerted(project, "2026-02") is True
    (budget,) = store.list_budgets([project])
    assert (budget.amount, budget.alerted_period) == (100.0, "2026-02")
    store.set_budget(project, 50.0, "EUR", 0.5, now=2.0, user="root")  # a new budget may alert again
    assert store.list_budgets([project])[0].alerted_period is None
    store.delete_budget(project)
    assert store.list_budgets([project]) == []
    with pytest.raises(NotFoundError):
        store.delete_budget(project)


def test_budget_channels_round_trip_and_are_replaced(store: SqlStore, project: str) -> None:
    _run(store, project, MONDAY, 1.0, {})
    specs = ("webhook:https://ops.example/hook?token=s3cret", "email:a@example.com,b@example.com")
    made = store.set_budget(project, 10.0, "EUR", 0.8, now=1.0, user="root", channels=specs)
    assert made.channels == specs
    assert store.list_budgets([project])[0].channels == specs
    store.set_budget(project, 10.0, "EUR", 0.8, now=2.0, user="root", channels=["slack:https://h.example/x"])
    assert store.list_budgets([project])[0].channels == ("slack:https://h.example/x",)
    store.set_budget(project, 10.0, "EUR", 0.8, now=3.0, user="root")
    assert store.list_budgets([project])[0].channels == ()


def test_costly_runs_priced_by_gpu_name(store: SqlStore, project: str) -> None:
    gpu = _run(store, project, MONDAY, 2.0, GPU_CONTEXT)
    cpu = _run(store, project, MONDAY + 60, 10.0, CPU_CONTEXT)
    rows = store.costly_runs([project], cpu_price=0.1, gpu_prices={"A100": 3.0}, gpu_price=1.0, limit=5)
    assert [r.run_id for r in rows] == [gpu, cpu]
    # 2 h x (8 cores x 0.1 + 2 GPUs x 3.0) = 13.6; 10 h x 4 cores x 0.1 = 4
    assert [round(r.cost, 6) for r in rows] == [13.6, 4.0]
    plain = store.costly_runs([project], cpu_price=0.0, gpu_prices={}, gpu_price=1.0, limit=1)
    assert plain[0].cost == pytest.approx(4.0)


def test_duration_follows_heartbeats_until_the_end(store: SqlStore, project: str) -> None:
    run_id = uuid.uuid4().hex
    store.create_run(run_id=run_id, project=project, name="r", user="ada", start_time=MONDAY)
    store.update_run(run_id, heartbeat_at=MONDAY + 1800)
    assert store.usage([project], by=())[0].hours == pytest.approx(0.5)
    store.update_run(run_id, end_time=MONDAY + 3600, status=RunStatus.FINISHED)
    store.update_run(run_id, heartbeat_at=MONDAY + 7200)  # a late heartbeat does not stretch a finished run
    assert store.usage([project], by=())[0].hours == pytest.approx(1.0)
    store.reopen_run(run_id, at=MONDAY + 3 * 3600)
    assert store.usage([project], by=())[0].hours == pytest.approx(3.0)
    (counts,) = store.experiment_counts([project], by="project")
    assert (counts.week_start, counts.project, counts.user, counts.runs) == (MONDAY, project, None, 1)
    (counts,) = store.experiment_counts([project], by="user")
    assert (counts.week_start, counts.project, counts.user, counts.runs) == (MONDAY, None, "ada", 1)
