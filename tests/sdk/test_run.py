"""The SDK's run lifecycle against the real store, embedded and over HTTP (``make_transport``)."""

from __future__ import annotations

import math
import threading
from typing import TYPE_CHECKING

import numpy as np
import pytest

import mltrail
from mltrail.entities import RunStatus
from mltrail.errors import InvalidInputError, NotFoundError, RunFinishedError
from mltrail.sdk.tracking.embedded import InProcessTransport
from mltrail.settings import Settings

if TYPE_CHECKING:
    from conftest import MakeTransport

OFF = {"git": False, "code": False, "environment": False, "system_metrics": False, "console": False}


def test_context_manager_records_params_metrics_tags_summary(
    settings: Settings, make_transport: MakeTransport, embedded: InProcessTransport
) -> None:
    config = {"lr": 0.01, "model": {"depth": 6, "kind": "tree"}, "use_bn": True, "layers": [64, 32]}
    with mltrail.init(
        project="churn",
        config=config,
        tags=["baseline"],
        capture=OFF,
        settings=settings,
        transport=make_transport(),
    ) as run:
        for step in range(100):
            run.log({"loss": 1.0 / (step + 1), "acc": step / 100}, step=step)
        run.summary["best_acc"] = 0.99
        run.set_tags(team="vision")
    stored = embedded.tracking.get_run(run.id)
    assert stored.status == RunStatus.FINISHED
    assert stored.name == run.name and stored.project == "churn"
    assert stored.params == {
        "lr": 0.01,
        "model.depth": 6,
        "model.kind": "tree",
        "use_bn": True,
        "layers": [64, 32],
    }
    assert isinstance(stored.params["model.depth"], int)
    assert stored.tags == {"baseline": "", "team": "vision"}
    assert stored.summary == {"best_acc": 0.99}
    assert stored.metrics["loss"].last == pytest.approx(0.01)
    assert stored.metrics["loss"].min == pytest.approx(0.01)
    assert stored.metrics["acc"].max == pytest.approx(0.99)
    assert stored.metrics["acc"].count == 100
    assert stored.end_time is not None and stored.duration is not None and stored.duration >= 0
    history = embedded.tracking.metric_history(run.id, "acc")
    assert history.steps == list(range(100))
    assert all(w > 0 for w in history.wall_times)


def test_exception_marks_run_failed_with_the_error(
    settings: Settings, make_transport: MakeTransport, embedded: InProcessTransport
) -> None:
    with (
        pytest.raises(ZeroDivisionError),
        mltrail.init(project="p", capture=OFF, settings=settings, transport=make_transport()) as run,
    ):
        run.log({"x": 1.0})
        _ = 1 / 0
    stored = embedded.tracking.get_run(run.id)
    assert stored.status == RunStatus.FAILED
    assert stored.error is not None
    assert stored.error["type"] == "ZeroDivisionError"
    assert "division by zero" in stored.error["message"]
    assert "ZeroDivisionError" in stored.error["traceback"]
    assert stored.metrics["x"].last == 1.0


def test_non_numeric_metric_raises_in_caller_and_writer_keeps_going(
    settings: Settings, make_transport: MakeTransport, embedded: InProcessTransport
) -> None:
    run = mltrail.init(project="p", capture=OFF, settings=settings, transport=make_transport())
    run.log({"ok": 1.0}, step=0)
    with pytest.raises(TypeError, match="'bad'"):
        run.log({"bad": "high"}, step=1)
    with pytest.raises(TypeError, match="'worse'"):
        run.log({"worse": [1, 2]}, step=1)
    run.log({"ok": 2.0}, step=1)
    run.finish()
    stored = embedded.tracking.get_run(run.id)
    assert stored.metrics["ok"].count == 2
    assert "bad" not in stored.metrics


def test_numpy_and_int_values_and_auto_steps(
    settings: Settings, make_transport: MakeTransport, embedded: InProcessTransport
) -> None:
    with mltrail.init(project="p", capture=OFF, settings=settings, transport=make_transport()) as run:
        run.log({"a": np.float32(0.5), "b": np.int64(3), "c": 7, "d": True})
        run.log({"a": np.array(0.25)})
        run.log({"a": 0.125}, step=10)
        run.log({"a": 0.0625})
    history = embedded.tracking.metric_history(run.id, "a")
    assert history.steps == [0, 1, 10, 11]
    assert history.values == [0.5, 0.25, 0.125, 0.0625]
    stored = embedded.tracking.get_run(run.id)
    assert stored.metrics["b"].last == 3.0 and stored.metrics["d"].last == 1.0


def test_nan_and_inf_are_kept(
    settings: Settings, make_transport: MakeTransport, embedded: InProcessTransport
) -> None:
    with mltrail.init(project="p", capture=OFF, settings=settings, transport=make_transport()) as run:
        run.log({"v": float("nan")}, step=0)
        run.log({"v": float("inf")}, step=1)
        run.log({"v": float("-inf")}, step=2)
        run.log({"v": 1.5}, step=3)
        run.log({"only_nan": float("nan")}, step=0)
    history = embedded.tracking.metric_history(run.id, "v")
    assert math.isnan(history.values[0])
    assert history.values[1:] == [math.inf, -math.inf, 1.5]
    stored = embedded.tracking.get_run(run.id)
    assert stored.metrics["v"].min == -math.inf and stored.metrics["v"].max == math.inf
    assert math.isnan(stored.metrics["only_nan"].last)
    assert stored.metrics["only_nan"].min is None


def test_same_step_twice_last_write_wins(
    settings: Settings, make_transport: MakeTransport, embedded: InProcessTransport
) -> None:
    with mltrail.init(project="p", capture=OFF, settings=settings, transport=make_transport()) as run:
        run.log({"loss": 5.0}, step=3)
        run.flush()
        run.log({"loss": 1.0}, step=3)
    history = embedded.tracking.metric_history(run.id, "loss")
    assert history.steps == [3] and history.values == [1.0]
    stored = embedded.tracking.get_run(run.id)
    assert stored.metrics["loss"].max == 1.0 and stored.metrics["loss"].count == 1


def test_odd_keys_and_long_param_values(
    settings: Settings, make_transport: MakeTransport, embedded: InProcessTransport
) -> None:
    long_value = "x" * 10_000
    keys = ["val/loss", "top 5 acc", "точность", "损失", "a.b.c"]
    with mltrail.init(
        project="p",
        config={"note": long_value, "ключ": 1},
        capture=OFF,
        settings=settings,
        transport=make_transport(),
    ) as run:
        run.log({k: float(i) for i, k in enumerate(keys)}, step=0)
    stored = embedded.tracking.get_run(run.id)
    assert stored.params["note"] == long_value
    assert stored.params["ключ"] == 1
    assert set(stored.metrics) == set(keys)


def test_invalid_keys_are_rejected(settings: Settings, make_transport: MakeTransport) -> None:
    with mltrail.init(project="p", capture=OFF, settings=settings, transport=make_transport()) as run:
        with pytest.raises(InvalidInputError):
            run.log({"": 1.0})
        with pytest.raises(InvalidInputError):
            run.log({"k" * 251: 1.0})
        with pytest.raises(InvalidInputError):
            run.log({"x": 1.0}, step=-1)
        with pytest.raises(TypeError):
            run.log({"x": 1.0}, step=1.5)  # type: ignore[arg-type]


def test_logging_after_finish_raises(settings: Settings, make_transport: MakeTransport) -> None:
    run = mltrail.init(project="p", capture=OFF, settings=settings, transport=make_transport())
    run.finish()
    with pytest.raises(RunFinishedError):
        run.log({"x": 1.0})
    with pytest.raises(RunFinishedError):
        run.summary["x"] = 1
    run.finish()  # finishing twice is harmless


def test_module_level_log_uses_the_active_run(
    settings: Settings, make_transport: MakeTransport, embedded: InProcessTransport
) -> None:
    run = mltrail.init(project="p", capture=OFF, settings=settings, transport=make_transport())
    assert mltrail.active_run() is run
    mltrail.log({"x": 2.0}, step=0)
    mltrail.finish()
    assert mltrail.active_run() is None
    with pytest.raises(NotFoundError):
        mltrail.log({"x": 3.0})
    assert embedded.tracking.get_run(run.id).metrics["x"].last == 2.0


def test_active_run_is_context_local(settings: Settings, make_transport: MakeTransport) -> None:
    run = mltrail.init(project="p", capture=OFF, settings=settings, transport=make_transport())
    seen: list[object] = []
    thread = threading.Thread(target=lambda: seen.append(mltrail.active_run()))
    thread.start()
    thread.join()
    run.finish()
    assert seen == [None]


def test_generated_names_and_explicit_failure_status(
    settings: Settings, make_transport: MakeTransport, embedded: InProcessTransport
) -> None:
    run = mltrail.init(project="p", capture=OFF, settings=settings, transport=make_transport())
    assert run.name.count("-") == 2
    run.finish("failed")
    assert embedded.tracking.get_run(run.id).status == RunStatus.FAILED


def test_backpressure_keeps_the_queue_bounded(
    settings: Settings, make_transport: MakeTransport, embedded: InProcessTransport
) -> None:
    run = mltrail.init(project="p", capture=OFF, settings=settings, transport=make_transport())
    run._writer.pending_limit = run._writer.max_pending_points = 5_000
    peak = 0
    for step in range(60_000):
        run.log({"x": float(step)}, step=step)
        peak = max(peak, run._writer.pending_points)
    run.finish()
    assert peak <= 5_001
    assert embedded.tracking.get_run(run.id).metrics["x"].count == 60_000
