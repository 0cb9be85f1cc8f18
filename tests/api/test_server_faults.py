"""The team server killed (SIGKILL) mid-run and restarted 10 s later on the same port and database: training
never stalls, and afterwards every point is on the server exactly once."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from live_server import LiveServer, restart_server, start_server

import mltrail
from mltrail.entities import RunStatus
from mltrail.sdk.client.connection import embedded_transport
from mltrail.sdk.tracking.journal_transport import JournalingTransport, close_journaling_transports
from mltrail.settings import Settings

OFF = {"git": False, "code": False, "environment": False, "system_metrics": False, "console": False}
KEYS = [f"layer{i}/loss" for i in range(10)]
STEPS_PER_TICK = 100  # 100 steps × 10 keys every TICK seconds: 20,000 points a second
TICK = 0.05
DURATION = 20.0
KILL_AT = 5.0
DOWN_FOR = 10.0
# Generous: a log call normally takes microseconds. Exceeding it means the loop waited on the network.
MAX_LOG_CALL = 0.5


def test_a_server_killed_mid_run_and_restarted_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    servers: list[LiveServer] = [start_server(tmp_path / "server")]
    settings = Settings(
        home=tmp_path / "unused",
        journal_dir=tmp_path / "journal",
        heartbeat_interval=1.0,
        sync_timeout=60.0,
    )
    outage: dict[str, int] = {}
    try:
        run = mltrail.init(project="faults", capture=OFF, settings=settings, server=servers[0].url)
        transport = run._transport
        assert isinstance(transport, JournalingTransport)

        def chaos() -> None:
            time.sleep(KILL_AT)
            servers[0].kill()
            outage["exit_code"] = servers[0].process.returncode
            time.sleep(DOWN_FOR)
            outage["unsent_before_restart"] = transport.wait_delivered(run.id, 0)
            servers.append(restart_server(servers[0]))

        chaos_thread = threading.Thread(target=chaos)
        chaos_thread.start()
        slowest = 0.0
        step = 0
        started = time.monotonic()
        while time.monotonic() - started < DURATION:
            for _ in range(STEPS_PER_TICK):
                values = {key: float(step * 10 + i) for i, key in enumerate(KEYS)}
                before = time.perf_counter()
                run.log(values, step=step)
                slowest = max(slowest, time.perf_counter() - before)
                step += 1
            time.sleep(TICK)
        chaos_thread.join()
        run.finish()  # waits (up to sync_timeout) until the restarted server has everything
    finally:
        close_journaling_transports()
        for server in servers:
            server.stop()

    print(f"slowest run.log call: {slowest * 1000:.2f} ms; {step} steps; outage: {outage}")
    assert outage["exit_code"] == -9  # it was really killed, not shut down
    assert outage["unsent_before_restart"] > 0  # the outage really held points back
    assert slowest < MAX_LOG_CALL, f"run.log took {slowest:.3f} s: training stalled"
    assert not (settings.journal_dir / run.id).exists()  # delivered, acknowledged, removed

    tracking = embedded_transport(Settings(home=servers[-1].home)).tracking
    stored = tracking.get_run(run.id)
    assert stored.status == RunStatus.FINISHED
    for i, key in enumerate(KEYS):
        history = tracking.metric_history(run.id, key)
        assert history.steps == list(range(step)), key  # none missing, none twice
        assert history.values == [float(s * 10 + i) for s in range(step)], key
        assert stored.metrics[key].count == step, key  # no batch applied twice
