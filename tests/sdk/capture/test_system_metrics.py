"""SystemMetricsSampler: a background thread handing samples to a callback."""

from __future__ import annotations

import math
import sys
import threading
import time
import types
from typing import Any

import pytest

from mltrail.sdk.capture.system import SystemMetricsSampler

BASE_KEYS = {"sys/cpu_percent", "sys/system_cpu_percent", "sys/rss_mb", "sys/system_memory_percent"}


class Collector:
    def __init__(self) -> None:
        self.samples: list[tuple[dict[str, float], float]] = []
        self.lock = threading.Lock()

    def __call__(self, values: dict[str, float], wall_time: float) -> None:
        with self.lock:
            self.samples.append((values, wall_time))

    def wait_for(self, count: int, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.samples) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(self.samples) >= count


def sampler_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "mltrail-system-metrics"]


@pytest.fixture(autouse=True)
def _no_gpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", None)


def test_samples_until_stopped() -> None:
    collect = Collector()
    sampler = SystemMetricsSampler(collect, interval=0.05)
    started = time.time()
    sampler.start()
    collect.wait_for(3)
    begin = time.monotonic()
    sampler.stop()
    assert time.monotonic() - begin < 1.0
    assert not sampler.running
    assert sampler_threads() == []
    assert sampler.gpu_note == "pynvml (nvidia-ml-py) is not installed"
    for values, wall_time in collect.samples:
        assert set(values) == BASE_KEYS
        assert all(isinstance(v, float) and math.isfinite(v) for v in values.values())
        assert started - 1 <= wall_time <= time.time()
    assert collect.samples[0][0]["sys/rss_mb"] > 1
    assert 0 < collect.samples[0][0]["sys/system_memory_percent"] <= 100
    assert sampler.error_count == 0
    taken = len(collect.samples)
    time.sleep(0.15)
    assert len(collect.samples) == taken  # nothing after stop


def test_first_sample_comes_right_away_and_stop_does_not_wait_for_the_interval() -> None:
    collect = Collector()
    sampler = SystemMetricsSampler(collect, interval=60)
    sampler.start()
    collect.wait_for(1, timeout=2.0)
    begin = time.monotonic()
    sampler.stop()
    assert time.monotonic() - begin < 1.0
    assert len(collect.samples) == 1


def test_start_and_stop_are_idempotent() -> None:
    collect = Collector()
    sampler = SystemMetricsSampler(collect, interval=0.05)
    sampler.stop()  # before start: nothing to do
    sampler.start()
    sampler.start()
    assert len(sampler_threads()) == 1
    sampler.stop()
    sampler.stop()
    assert sampler_threads() == []
    with sampler:  # and it can start again
        collect.wait_for(len(collect.samples) + 1)
    assert not sampler.running


def test_a_failing_callback_does_not_end_sampling() -> None:
    calls = []

    def explode(values: dict[str, float], wall_time: float) -> None:
        calls.append(wall_time)
        raise RuntimeError("callback bug")

    sampler = SystemMetricsSampler(explode, interval=0.05)
    sampler.start()
    deadline = time.monotonic() + 5
    while len(calls) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sampler.running
    sampler.stop()
    assert len(calls) >= 3
    assert sampler.error_count >= 3
    assert isinstance(sampler.last_error, RuntimeError)
    assert str(sampler.last_error) == "callback bug"


def test_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="interval"):
        SystemMetricsSampler(Collector(), interval=0)


def test_gpu_metrics_through_pynvml(monkeypatch: pytest.MonkeyPatch) -> None:
    class NVMLError(Exception):
        pass

    def temperature(handle: int, sensor: int) -> int:
        if handle == 1:
            raise NVMLError("Not Supported")
        return 61

    shutdowns: list[bool] = []
    fake: Any = types.ModuleType("pynvml")
    fake.NVMLError = NVMLError
    fake.NVML_TEMPERATURE_GPU = 0
    fake.nvmlInit = lambda: None
    fake.nvmlShutdown = lambda: shutdowns.append(True)
    fake.nvmlDeviceGetCount = lambda: 2
    fake.nvmlDeviceGetHandleByIndex = lambda i: i
    fake.nvmlDeviceGetUtilizationRates = lambda h: types.SimpleNamespace(gpu=40 + h)
    fake.nvmlDeviceGetMemoryInfo = lambda h: types.SimpleNamespace(used=512 * 2**20, total=2**34)
    fake.nvmlDeviceGetTemperature = temperature
    monkeypatch.setitem(sys.modules, "pynvml", fake)

    collect = Collector()
    with SystemMetricsSampler(collect, interval=0.05):
        collect.wait_for(1)
    values = collect.samples[0][0]
    assert values["sys/gpu/0/utilization_percent"] == 40.0
    assert values["sys/gpu/1/utilization_percent"] == 41.0
    assert values["sys/gpu/0/memory_used_mb"] == 512.0
    assert values["sys/gpu/0/temperature_c"] == 61.0
    assert "sys/gpu/1/temperature_c" not in values  # that query failed; the rest still came
    assert shutdowns == [True]


def test_callback_may_stop_the_sampler() -> None:
    holder: list[SystemMetricsSampler] = []

    def stop_on_first(values: dict[str, float], wall_time: float) -> None:
        holder[0].stop()

    sampler = SystemMetricsSampler(stop_on_first, interval=0.05)
    holder.append(sampler)
    sampler.start()
    deadline = time.monotonic() + 5
    while sampler_threads() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sampler_threads() == []
    assert sampler.samples_taken == 1
    assert sampler.error_count == 0
