"""Two ``mltrail server`` processes on one PostgreSQL database, with clients spread across both.

Every point must land exactly once: batches alternate between the servers, several clients write one run
at once, and the same batch (same client id and sequence number) is sent to both servers at the same
moment, many times — exactly one copy may be applied. Points and summaries are then read straight from the
database through the store.
"""

from __future__ import annotations

import os
import subprocess
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import sqlalchemy as sa
from live_server import MLTRAIL, LiveServer, start_server

from mltrail.entities import MetricsBatch, RunStatus
from mltrail.sdk.tracking.http import HttpTransport
from mltrail.store.factory import open_store
from mltrail.store.sql import SqlStore

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

KEYS = ("loss", "acc")
STEPS_PER_KEY = 10_000  # 20,000 points per client
BATCH_STEPS = 250  # 500 points per batch


@pytest.fixture(scope="module")
def postgres_db() -> Iterator[str]:
    """A throwaway database on MLTRAIL_TEST_POSTGRES, migrated with ``mltrail db upgrade``, dropped after."""
    admin_url = os.environ.get("MLTRAIL_TEST_POSTGRES")
    if not admin_url or os.environ.get("MLTRAIL_SKIP_POSTGRES") == "1":
        pytest.skip("MLTRAIL_TEST_POSTGRES is not set")
    name = f"mltrail_two_servers_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        upgraded = subprocess.run(
            [MLTRAIL, "--db", url, "db", "upgrade"], capture_output=True, text=True, timeout=120, check=False
        )
        assert upgraded.returncode == 0, upgraded.stderr
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="module")
def servers(
    postgres_db: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, LiveServer]]:
    base = tmp_path_factory.mktemp("two-servers")
    first = start_server(base / "a", "--db", postgres_db)
    try:
        second = start_server(base / "b", "--db", postgres_db)
    except BaseException:
        first.stop()
        raise
    yield first, second
    first.stop()
    second.stop()


@pytest.fixture
def store(postgres_db: str) -> Iterator[SqlStore]:
    opened = open_store(postgres_db, migrate=False)
    yield opened
    opened.close()


def _value(salt: int, key: str, step: int) -> float:
    """A value that names its writer, key and step, so a misplaced point shows."""
    return salt * 1_000_000.0 + KEYS.index(key) * 100_000.0 + step / 7


def _batch(salt: int, steps: range, client_id: str, seq: int) -> MetricsBatch:
    keys = [key for key in KEYS for _ in steps]
    all_steps = [step for _ in KEYS for step in steps]
    return MetricsBatch(
        keys=keys,
        steps=all_steps,
        values=[_value(salt, key, step) for key, step in zip(keys, all_steps, strict=True)],
        wall_times=[1.0e9 + step for step in all_steps],
        client_id=client_id,
        seq=seq,
    )


def _create_run(url: str, project: str, name: str) -> str:
    with HttpTransport(url) as transport:
        run = transport.create_run(
            run_id=uuid.uuid4().hex,
            project=project,
            name=name,
            user=None,
            config={},
            tags={},
            notes=None,
            context={},
            start_time=1.0e9,
        )
    return run.id


def _assert_exactly(store: SqlStore, run_id: str, salts_by_step: dict[int, int]) -> None:
    """Every key of the run holds exactly ``salts_by_step``'s steps once, with its writer's values."""
    steps = sorted(salts_by_step)
    for key in KEYS:
        history = store.get_metric_history(run_id, key)
        assert history.total_points == len(steps), key
        assert history.steps == steps, key  # each present, none twice
        assert history.values == [_value(salts_by_step[s], key, s) for s in steps], key
        summary = store.get_run(run_id).metrics[key]
        assert summary.count == len(steps), key  # a batch applied twice would count its points twice
        assert summary.last_step == steps[-1] and summary.last == history.values[-1]
        assert summary.min == min(history.values) and summary.max == max(history.values)


def test_clients_spread_across_both_servers_lose_and_duplicate_nothing(
    servers: tuple[LiveServer, LiveServer], store: SqlStore
) -> None:
    """Four clients with a run each, alternating batches between the servers; two more share one run."""
    urls = [server.url for server in servers]
    project = f"spread-{uuid.uuid4().hex[:6]}"
    own = [_create_run(urls[i % 2], project, f"own-{i}") for i in range(4)]
    shared = _create_run(urls[1], project, "shared")

    def client(salt: int, run_id: str, batches: list[range]) -> int:
        client_id = f"client-{salt}"
        transports = [HttpTransport(url) for url in urls]
        try:
            for seq, steps in enumerate(batches):
                # Alternate servers, starting on a different one per client.
                transports[(seq + salt) % 2].log_metrics(run_id, _batch(salt, steps, client_id, seq))
        finally:
            for transport in transports:
                transport.close()
        return sum(len(steps) for steps in batches) * len(KEYS)

    ranges = [range(s, s + BATCH_STEPS) for s in range(0, STEPS_PER_KEY, BATCH_STEPS)]
    with ThreadPoolExecutor(6) as pool:
        jobs = [pool.submit(client, salt, run_id, ranges) for salt, run_id in enumerate(own)]
        # The shared run: two clients write alternate step ranges of the same keys at the same time, so
        # each batch may land before or after the other client's later steps (the overwrite path).
        jobs += [pool.submit(client, 10 + half, shared, ranges[half::2]) for half in (0, 1)]
        sent = [job.result() for job in jobs]
    assert sum(sent) == (len(own) + 1) * STEPS_PER_KEY * len(KEYS)

    for salt, run_id in enumerate(own):
        _assert_exactly(store, run_id, dict.fromkeys(range(STEPS_PER_KEY), salt))
    shared_salts = {step: 10 + (step // BATCH_STEPS) % 2 for step in range(STEPS_PER_KEY)}
    _assert_exactly(store, shared, shared_salts)


def test_the_same_batch_sent_to_both_servers_at_once_is_applied_exactly_once(
    servers: tuple[LiveServer, LiveServer], store: SqlStore
) -> None:
    urls = [server.url for server in servers]
    run_id = _create_run(urls[0], f"race-{uuid.uuid4().hex[:6]}", "race")
    rounds, steps_per_round = 60, 50
    barrier = threading.Barrier(2)
    acks: list[list[bool]] = [[], []]

    def sender(side: int) -> None:
        with httpx.Client(base_url=f"{urls[side]}/api/v1", timeout=60) as http:
            for seq in range(rounds):
                batch = _batch(0, range(seq * steps_per_round, (seq + 1) * steps_per_round), "twin", seq)
                body = {
                    "keys": batch.keys,
                    "steps": batch.steps,
                    "values": batch.values,
                    "wall_times": batch.wall_times,
                    "client_id": batch.client_id,
                    "seq": batch.seq,
                }
                barrier.wait(timeout=60)
                response = http.post(f"/runs/{run_id}/metrics", json=body)
                assert response.status_code == 200, response.text
                acks[side].append(response.json()["applied"])

    with ThreadPoolExecutor(2) as pool:
        for job in [pool.submit(sender, side) for side in (0, 1)]:
            job.result()

    assert len(acks[0]) == len(acks[1]) == rounds
    for seq, (first, second) in enumerate(zip(*acks, strict=True)):
        assert first != second, f"seq {seq}: applied by {'both' if first else 'neither'} server"
    _assert_exactly(store, run_id, dict.fromkeys(range(rounds * steps_per_round), 0))


def test_servers_share_one_view(servers: tuple[LiveServer, LiveServer]) -> None:
    """A run created through one server is read, logged to and finished through the other."""
    first, second = servers
    run_id = _create_run(first.url, f"view-{uuid.uuid4().hex[:6]}", "view")
    with HttpTransport(second.url) as transport:
        transport.log_metrics(run_id, _batch(3, range(10), "v", 0))
        transport.finish_run(run_id, status=RunStatus.FINISHED, error=None)
    with httpx.Client(base_url=f"{first.url}/api/v1") as http:
        run = http.get(f"/runs/{run_id}").json()
    assert run["status"] == "finished"
    assert run["metrics"]["loss"]["count"] == 10
