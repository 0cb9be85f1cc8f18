"""Sample CPU, memory and GPU use in a background thread while a run is live, as ``sys/…`` metrics."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import psutil

from mltrail.sdk.capture._nvml import Nvml, open_nvml

__all__ = ["SampleCallback", "SystemMetricsSampler"]

SampleCallback = Callable[[dict[str, float], float], None]

_MIB = 1024 * 1024


class SystemMetricsSampler:
    """Every ``interval`` seconds (the first time right away) hands ``on_sample(values, wall_time)`` a sample.

    Keys: ``sys/cpu_percent`` (this process; may pass 100 on several cores; the first sample averages over
    the process's life so far), ``sys/system_cpu_percent`` (since the previous sample, the first time since
    psutil was imported), ``sys/rss_mb`` (MiB), ``sys/system_memory_percent``
    and, when NVML answers, ``sys/gpu/{i}/utilization_percent``, ``sys/gpu/{i}/memory_used_mb`` and
    ``sys/gpu/{i}/temperature_c``.

    The thread is a daemon and never dies of an error: a failing sample or callback is counted in
    ``error_count`` and kept in ``last_error``. ``start`` and ``stop`` may be called any number of times.
    """

    def __init__(self, on_sample: SampleCallback, interval: float = 10.0, *, gpus: bool = True) -> None:
        if not interval > 0:
            raise ValueError(f"interval must be positive, got {interval!r}")
        self.on_sample = on_sample
        self.interval = float(interval)
        self.samples_taken = 0
        self.error_count = 0
        self.last_error: BaseException | None = None
        self.gpu_note: str | None = None
        self._want_gpus = gpus
        self._nvml: Nvml | None = None
        self._process: psutil.Process | None = None
        self._first = True
        self._stop = threading.Event()  # one per thread, so a late stop never stops a newer thread
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def start(self) -> None:
        """Start sampling in a daemon thread; does nothing when already running."""
        with self._lock:
            if self.running:
                return
            self._stop = threading.Event()
            self._first = True
            try:
                self._process = psutil.Process()
            except (psutil.Error, OSError) as exc:
                self._record(exc)
            if self._want_gpus and self._nvml is None:
                self._nvml, self.gpu_note = open_nvml()
            self._thread = threading.Thread(
                target=self._loop, args=(self._stop,), name="mltrail-system-metrics", daemon=True
            )
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop sampling and wait (at most ``timeout`` seconds) for the thread; safe to call twice."""
        with self._lock:
            self._stop.set()
            thread, self._thread = self._thread, None
            nvml, self._nvml = self._nvml, None
        # Joined outside the lock: a callback that calls start() or stop() must not deadlock.
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        if nvml is not None:
            nvml.close()

    def sample(self) -> dict[str, float]:
        """One sample now (psutil errors propagate; the thread catches them)."""
        process = self._process or psutil.Process()
        self._process = process
        if self._first:
            self._first = False
            process.cpu_percent(interval=None)  # prime: the following calls measure from here
            times = process.cpu_times()
            alive = max(time.time() - process.create_time(), 1e-3)
            cpu = 100.0 * (times.user + times.system) / alive
        else:
            cpu = process.cpu_percent(interval=None)
        values = {
            "sys/cpu_percent": float(cpu),
            "sys/system_cpu_percent": float(psutil.cpu_percent(interval=None)),
            "sys/rss_mb": process.memory_info().rss / _MIB,
            "sys/system_memory_percent": float(psutil.virtual_memory().percent),
        }
        if self._nvml is not None:
            values.update(self._nvml.sample())
        return values

    def _loop(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self._sample_once()
            if stop.wait(self.interval):
                break

    def _sample_once(self) -> None:
        try:
            values = self.sample()
        except (psutil.Error, OSError, ValueError) as exc:
            self._record(exc)
            return
        self.samples_taken += 1
        try:
            self.on_sample(values, time.time())
        except Exception as exc:  # noqa: BLE001 - the callback is the caller's code; it must not end sampling
            self._record(exc)

    def _record(self, exc: BaseException) -> None:
        self.error_count += 1
        self.last_error = exc

    def __enter__(self) -> SystemMetricsSampler:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
