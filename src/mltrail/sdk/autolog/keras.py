"""``MltrailCallback`` for Keras 3 (any backend): parameters, per-epoch and per-step metrics, the model.

::

    from mltrail.keras import MltrailCallback

    model.fit(x, y, epochs=3, validation_split=0.2, callbacks=[MltrailCallback(project="mnist")])

At the start of training the run gets the fit's parameters (epochs, steps, batch size), the optimizer's
class and configuration (``optimizer.…``) and the model's parameter count; every epoch's logs (``loss``,
``val_loss``, …) go in at step = epoch, and with ``log_every_n_steps`` the batch logs too as
``batch/…`` at step = the global batch number. With ``log_model`` (default) the trained model is saved as
``model/model.keras``; with ``save_checkpoints`` each epoch's model as ``checkpoints/epoch-N.keras``. The
callback starts a run of its own (finished at the end of training) unless ``run=`` is given or a run is
active. Only rank 0 logs.
"""

from __future__ import annotations

import logging
import math
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import keras

from mltrail.entities import RunStatus
from mltrail.errors import MltrailError
from mltrail.sdk.autolog.distributed import process_rank
from mltrail.sdk.autolog.integration import Framework
from mltrail.sdk.autolog.session import AutologOptions, flat_params, safely, start_run
from mltrail.sdk.tracking.run import Run
from mltrail.sdk.tracking.start import active_run

__all__ = ["FRAMEWORK", "MltrailCallback"]

log = logging.getLogger("mltrail")

FRAMEWORK = Framework("keras", "keras", minimum=(3, 0), below=(4, 0))


class MltrailCallback(keras.callbacks.Callback):  # type: ignore[misc]
    """A Keras callback over a mltrail run (see the module's docstring)."""

    def __init__(
        self,
        project: str | None = None,
        *,
        name: str | None = None,
        run: Run | None = None,
        group: str | None = None,
        config: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        log_every_n_steps: int | None = None,
        log_model: bool = True,
        save_checkpoints: bool = False,
    ) -> None:
        super().__init__()
        self._options = AutologOptions(project=project, group=group, extra_tags=dict(tags or {}))
        self._run_name = name
        self._run = run
        self._own = False
        self._config = dict(config or {})
        self._every = log_every_n_steps
        self._log_model = log_model
        self._save_checkpoints = save_checkpoints
        self._step = 0
        self._logs = process_rank().is_zero and FRAMEWORK.supported(keras)

    @property
    def run(self) -> Run | None:
        return self._run

    def on_train_begin(self, logs: Mapping[str, Any] | None = None) -> None:
        if not self._logs:
            return
        if self._run is None:
            self._run = active_run()
        if self._run is None:
            try:
                self._run = start_run(
                    self._options, integration="keras", config=self._config, name=self._run_name
                )
            except MltrailError as exc:  # training goes on, unlogged
                log.warning("mltrail: MltrailCallback logs nothing, no run could be started: %s", exc)
                return
            self._own = True
        safely("the parameters", self._run.update_config, self._parameters())

    def _parameters(self) -> dict[str, Any]:
        params: dict[str, Any] = {f"fit.{k}": v for k, v in (self.params or {}).items()}
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None:
            params["optimizer.class"] = type(optimizer).__name__
            params.update(flat_params(optimizer.get_config(), prefix="optimizer."))
        # From the shapes: count_params() reads variables through numpy, which warns on the torch backend.
        params["model.parameters"] = sum(math.prod(w.shape) for w in self.model.weights)
        return flat_params(params)

    def on_train_batch_end(self, batch: int, logs: Mapping[str, Any] | None = None) -> None:
        self._step += 1
        if self._run is None or not self._every or self._step % self._every:
            return
        values = _numbers(logs, prefix="batch/")
        if values:
            safely("the batch metrics", self._run.log, values, step=self._step)

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        if self._run is None:
            return
        values = _numbers(logs)
        if values:
            safely("the epoch metrics", self._run.log, values, step=epoch)
        if self._save_checkpoints:
            safely("a checkpoint", self._save, f"checkpoints/epoch-{epoch}.keras")

    def on_train_end(self, logs: Mapping[str, Any] | None = None) -> None:
        if self._run is None:
            return
        if self._log_model:
            safely("the model", self._save, "model/model.keras")
        if self._own:
            safely("the run's end", self._run.finish, RunStatus.FINISHED)
            self._own = False

    def _save(self, artifact: str) -> None:
        assert self._run is not None
        with tempfile.TemporaryDirectory(prefix="mltrail-keras-") as tmp:
            path = Path(tmp) / Path(artifact).name
            self.model.save(path)
            self._run.log_artifact(path, artifact)


def _numbers(logs: Mapping[str, Any] | None, prefix: str = "") -> dict[str, float]:
    values: dict[str, float] = {}
    for key, value in (logs or {}).items():
        number = value.item() if hasattr(value, "item") else value
        if isinstance(number, int | float) and not isinstance(number, bool):
            values[f"{prefix}{key}"] = float(number)
    return values
