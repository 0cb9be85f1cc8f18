"""One framework's autologging: its supported versions, its patches, its options, on and off.

``Integration.enable`` is idempotent (patches apply once; a second call only replaces the options) and
``disable`` puts every patched function back. A framework version outside the supported range gets one
clear warning and no patches, so training runs exactly as without mltrail.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Literal, TypedDict

from mltrail.entities import RunStatus
from mltrail.errors import MltrailError
from mltrail.sdk.autolog.distributed import process_rank
from mltrail.sdk.autolog.patching import Patches
from mltrail.sdk.autolog.session import AutologOptions, start_run
from mltrail.sdk.tracking.run import Run

__all__ = ["AutologKwargs", "Framework", "Integration", "parse_version"]

log = logging.getLogger("mltrail")


class AutologKwargs(TypedDict, total=False):
    """The options ``autolog`` takes (see ``AutologOptions``)."""

    log_models: bool
    log_input_example: bool
    project: str | None
    group: str | None
    capture: bool | dict[str, bool] | None
    max_tuning_runs: int | None
    other_ranks: Literal["skip", "system"]


@dataclass(frozen=True)
class Framework:
    """A framework by its import name and the versions autologging is tested with: ``minimum`` ≤ v <
    ``below``."""

    name: str
    module: str
    minimum: tuple[int, ...]
    below: tuple[int, ...]

    def installed(self) -> bool:
        return importlib.util.find_spec(self.module) is not None

    def supported(self, module: ModuleType) -> bool:
        version = str(getattr(module, "__version__", "0"))
        if self.minimum <= parse_version(version) < self.below:
            return True
        log.warning(
            "mltrail autolog: %s %s is outside the supported range (>=%s, <%s); autologging for it is "
            "skipped and training runs as without it",
            self.name,
            version,
            ".".join(map(str, self.minimum)),
            ".".join(map(str, self.below)),
        )
        return False


def parse_version(text: str) -> tuple[int, ...]:
    """``"1.5.2"`` → ``(1, 5, 2)``; ``"2.1.0rc1"`` → ``(2, 1, 0)``; the numeric release part only."""
    release = re.match(r"\d+(?:\.\d+)*", text.strip())
    return tuple(int(part) for part in release.group(0).split(".")) if release else (0,)


class Integration:
    """Autologging for one framework: ``install(module, patches, options)`` applies its patches, and the
    wrappers read the options current at call time through ``options``."""

    def __init__(self, framework: Framework, install: Callable[[ModuleType, Patches], None]) -> None:
        self.framework = framework
        self._install = install
        self._patches = Patches()
        self._options: AutologOptions | None = None
        self._lock = threading.Lock()

    def options(self) -> AutologOptions | None:
        """The options while enabled, else None (a wrapper that outlived ``disable`` then only trains)."""
        return self._options

    @property
    def enabled(self) -> bool:
        return self._options is not None

    def enable(self, options: AutologOptions) -> bool:
        """Patch the framework (once) and use ``options`` from now on; False when it is not usable."""
        with self._lock:
            module = importlib.import_module(self.framework.module)
            if not self.framework.supported(module):
                return False
            self._options = options
            self._install(module, self._patches)
        other_rank_run(options)
        return True

    def disable(self) -> None:
        with self._lock:
            self._options = None
            self._patches.restore()


def options_of(kwargs: AutologKwargs) -> AutologOptions:
    return AutologOptions(**kwargs)


# -- the other ranks' runs ---------------------------------------------------------------------------------
_rank_run: Run | None = None
_rank_lock = threading.Lock()


def other_rank_run(options: AutologOptions) -> Run | None:
    """With ``other_ranks="system"``, a rank other than 0 starts one run of its own (once per process)
    that records system metrics only, tagged with its rank and the options' group."""
    global _rank_run
    rank = process_rank()
    if rank.is_zero or options.other_ranks != "system":
        return None
    with _rank_lock:
        if _rank_run is None:
            try:
                capture = {"system_metrics": True, "git": False, "code": False, "environment": False}
                _rank_run = start_run(options, integration="system", capture={**capture, "console": False})
            except MltrailError as exc:
                log.warning("mltrail autolog: no system-metrics run on rank %d: %s", rank.rank, exc)
        return _rank_run


def finish_other_rank_run() -> None:
    global _rank_run
    with _rank_lock:
        run, _rank_run = _rank_run, None
    if run is not None:
        run.finish(RunStatus.FINISHED)
