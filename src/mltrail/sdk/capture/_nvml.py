"""NVIDIA GPUs through the optional ``pynvml`` module (nvidia-ml-py); absent or failing means no GPUs."""

from __future__ import annotations

import contextlib
import importlib
from types import ModuleType
from typing import Any

__all__ = ["Nvml", "open_nvml"]

_MIB = 1024 * 1024


class Nvml:
    """An initialised NVML session; :meth:`close` ends it. Every query returns None instead of raising."""

    def __init__(self, module: ModuleType, handles: list[Any]) -> None:
        self._nvml = module
        self.handles = handles
        self._closed = False

    def _errors(self) -> tuple[type[BaseException], ...]:
        error = getattr(self._nvml, "NVMLError", None)
        base: tuple[type[BaseException], ...] = (OSError, AttributeError, ValueError, UnicodeDecodeError)
        return (error, *base) if isinstance(error, type) and issubclass(error, Exception) else base

    def describe(self) -> list[dict[str, Any]]:
        """Name, total memory and driver version of each GPU."""
        try:
            driver: str | None = _text(self._nvml.nvmlSystemGetDriverVersion())
        except self._errors():
            driver = None
        gpus: list[dict[str, Any]] = []
        for index, handle in enumerate(self.handles):
            gpu: dict[str, Any] = {"index": index, "driver_version": driver}
            try:
                gpu["name"] = _text(self._nvml.nvmlDeviceGetName(handle))
            except self._errors():
                gpu["name"] = None
            try:
                gpu["memory_total_bytes"] = int(self._nvml.nvmlDeviceGetMemoryInfo(handle).total)
            except self._errors():
                gpu["memory_total_bytes"] = None
            gpus.append(gpu)
        return gpus

    def sample(self) -> dict[str, float]:
        """``sys/gpu/{i}/…``: utilisation %, memory used (MiB), temperature (°C); failed queries left out."""
        nvml = self._nvml
        values: dict[str, float] = {}
        errors = self._errors()
        for index, handle in enumerate(self.handles):
            prefix = f"sys/gpu/{index}/"
            with contextlib.suppress(*errors):
                values[prefix + "utilization_percent"] = float(nvml.nvmlDeviceGetUtilizationRates(handle).gpu)
            with contextlib.suppress(*errors):
                values[prefix + "memory_used_mb"] = nvml.nvmlDeviceGetMemoryInfo(handle).used / _MIB
            with contextlib.suppress(*errors):
                sensor = nvml.NVML_TEMPERATURE_GPU
                values[prefix + "temperature_c"] = float(nvml.nvmlDeviceGetTemperature(handle, sensor))
        return values

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(*self._errors()):
            self._nvml.nvmlShutdown()


def _text(value: Any) -> str:
    # nvidia-ml-py returns str since 11.5; older releases return bytes.
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def open_nvml() -> tuple[Nvml | None, str | None]:
    """(session, None) when NVML answers, else (None, why not)."""
    try:
        module = importlib.import_module("pynvml")
    except ImportError:
        return None, "pynvml (nvidia-ml-py) is not installed"
    error = getattr(module, "NVMLError", None)
    errors: tuple[type[BaseException], ...] = (OSError, AttributeError)
    if isinstance(error, type) and issubclass(error, Exception):
        errors = (error, *errors)
    try:
        module.nvmlInit()
    except errors as exc:
        return None, f"NVML did not start: {exc}"
    try:
        handles = [module.nvmlDeviceGetHandleByIndex(i) for i in range(int(module.nvmlDeviceGetCount()))]
    except errors as exc:
        session = Nvml(module, [])
        session.close()
        return None, f"NVML could not list GPUs: {exc}"
    return Nvml(module, handles), None
