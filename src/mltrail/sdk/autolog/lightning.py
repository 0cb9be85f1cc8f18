"""``MltrailLogger``: a PyTorch Lightning logger that writes to a mltrail run.

::

    from mltrail.lightning import MltrailLogger

    trainer = lightning.Trainer(max_epochs=3, logger=MltrailLogger(project="mnist", log_model=True))

Hyperparameters (``save_hyperparameters()``, flattened with dots) become the run's params, every metric
Lightning logs goes in at its global step, and with ``log_model`` the checkpoints the trainer saves are
logged under ``checkpoints/`` (``True``: the best and the last at the end; ``"all"``: each as it is saved),
the best one's score in the summary. Only rank 0 writes (Lightning's ``rank_zero_only``; mltrail reads
the same ``RANK``/``LOCAL_RANK``). The logger starts a run of its own, finished when training ends, unless
``run=`` is given or a run is active (that run is then left open for the caller).

Works with ``lightning`` (``lightning.pytorch``) and the older ``pytorch_lightning``: whichever the
training code imported first, else ``lightning.pytorch``.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar

from mltrail.entities import RunStatus
from mltrail.errors import MltrailError
from mltrail.sdk.autolog.distributed import process_rank
from mltrail.sdk.autolog.integration import Framework
from mltrail.sdk.autolog.session import AutologOptions, flat_params, safely, start_run
from mltrail.sdk.tracking.run import Run
from mltrail.sdk.tracking.start import active_run

__all__ = ["FRAMEWORK", "MltrailLogger"]

log = logging.getLogger("mltrail")


def _lightning() -> Any:
    for name in ("lightning.pytorch", "pytorch_lightning"):
        if name in sys.modules:
            return sys.modules[name]
    try:
        return importlib.import_module("lightning.pytorch")
    except ImportError:
        return importlib.import_module("pytorch_lightning")


_pl = _lightning()
FRAMEWORK = Framework("lightning", _pl.__name__, minimum=(2, 0), below=(3, 0))
_Logger: Any = _pl.loggers.logger.Logger
_F = TypeVar("_F", bound=Callable[..., Any])


def _rank_zero_experiment(function: _F) -> _F:
    """Lightning's decorator: on other ranks the experiment is a no-op stand-in."""
    wrapped: _F = _pl.loggers.logger.rank_zero_experiment(function)
    return wrapped


def _rank_zero_only(function: _F) -> _F:
    """Lightning's decorator: the call runs on rank 0 only."""
    wrapped: _F = _pl.utilities.rank_zero_only(function)
    return wrapped


class MltrailLogger(_Logger):  # type: ignore[misc]
    """A Lightning logger over a mltrail run (see the module's docstring)."""

    def __init__(
        self,
        project: str | None = None,
        *,
        name: str | None = None,
        run: Run | None = None,
        group: str | None = None,
        config: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        log_model: bool | Literal["all"] = False,
        prefix: str = "",
    ) -> None:
        super().__init__()
        self._options = AutologOptions(project=project, group=group, extra_tags=dict(tags or {}))
        self._run_name = name
        self._run = run
        self._own = False
        self._config = dict(config or {})
        self._log_model = log_model
        self._prefix = prefix
        self._logged_checkpoints: set[str] = set()
        self._checkpoint_callback: Any = None
        # Lightning's rank_zero_only reads the rank once, at its import; the rank when the logger is made
        # is checked too, so a process launched as rank 1 never writes whatever imported Lightning first.
        self._writes = process_rank().is_zero
        FRAMEWORK.supported(_pl)  # a warning outside the tested range; logging goes on

    # -- Lightning's Logger interface ------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.experiment.project if self._run is not None else (self._options.project or "mltrail")

    @property
    def version(self) -> str:
        return self.experiment.id if self._writes else ""

    @property
    @_rank_zero_experiment
    def experiment(self) -> Run:
        """The run (started on first use on rank 0)."""
        if self._run is None:
            active = active_run()
            if active is not None:
                self._run = active
            else:
                self._run = start_run(
                    self._options, integration="lightning", config=self._config, name=self._run_name
                )
                self._own = True
        return self._run

    def _writer(self) -> Run | None:
        """The run to write to, or None on other ranks or when no run could be started (one warning:
        training goes on without logging)."""
        if not self._writes:
            return None
        try:
            run: Run = self.experiment
        except MltrailError as exc:
            log.warning("mltrail: MltrailLogger logs nothing, no run could be started: %s", exc)
            self._writes = False
            return None
        return run

    @_rank_zero_only
    def log_hyperparams(
        self, params: Mapping[str, Any] | argparse.Namespace, *args: Any, **kwargs: Any
    ) -> None:
        values = vars(params) if isinstance(params, argparse.Namespace) else dict(params or {})
        run = self._writer() if values else None
        if run is not None:
            safely("the hyperparameters", run.update_config, flat_params(values))

    @_rank_zero_only
    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        values: dict[str, float] = {}
        for key, value in metrics.items():
            number = value.item() if hasattr(value, "item") else value
            if isinstance(number, int | float) and not isinstance(number, bool):
                values[f"{self._prefix}{key}"] = float(number)
        run = self._writer() if values else None
        if run is not None:
            safely("the metrics", run.log, values, step=step)

    @_rank_zero_only
    def after_save_checkpoint(self, checkpoint_callback: Any) -> None:
        self._checkpoint_callback = checkpoint_callback
        if self._log_model == "all" and self._writes:
            self._log_checkpoints(checkpoint_callback)

    @_rank_zero_only
    def finalize(self, status: str) -> None:
        if self._run is None:
            return
        if self._log_model and self._checkpoint_callback is not None and status == "success":
            self._log_checkpoints(self._checkpoint_callback)
        if self._own:
            final = RunStatus.FINISHED if status in ("success", "finished") else RunStatus.FAILED
            safely("the run's end", self._run.finish, final)
            self._own = False

    # -- checkpoints ----------------------------------------------------------------------------------
    def _log_checkpoints(self, callback: Any) -> None:
        run = self._writer()
        if run is None:
            return
        for attribute in ("best_model_path", "last_model_path"):
            path = getattr(callback, attribute, "") or ""
            if path and path not in self._logged_checkpoints and Path(path).is_file():
                safely("a checkpoint", run.log_artifact, path, f"checkpoints/{Path(path).name}")
                self._logged_checkpoints.add(path)
        best = getattr(callback, "best_model_path", "")
        score = getattr(callback, "best_model_score", None)
        summary: dict[str, Any] = {}
        if best:
            summary["best_checkpoint"] = f"checkpoints/{Path(best).name}"
        if score is not None:
            summary["best_model_score"] = float(score.item() if hasattr(score, "item") else score)
        if summary:
            safely("the best checkpoint", run.summary.update, summary)
