"""``MltrailCallback`` for Hugging Face Transformers' ``Trainer``: arguments, model config, logs, model.

::

    from mltrail.transformers import MltrailCallback

    Trainer(model=model, args=args, train_dataset=ds, callbacks=[MltrailCallback(project="sentiment")])

When training begins the run gets the ``TrainingArguments`` (``args.…``) and the model's configuration
(``model.…``); every ``Trainer.log`` (loss, learning rate, evaluation results…) goes in at the global
step; with ``log_checkpoints`` each checkpoint folder the trainer saves is logged as ``checkpoints/…``;
with ``log_model`` (default) the trained model (``save_pretrained``: safetensors) goes under ``model/``.
Only the world's process zero logs (``state.is_world_process_zero``). The callback starts a run of its
own (finished at the end of training) unless ``run=`` is given or a run is active.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import transformers

from mltrail.entities import RunStatus
from mltrail.errors import MltrailError
from mltrail.sdk.autolog.integration import Framework
from mltrail.sdk.autolog.session import AutologOptions, flat_params, safely, start_run
from mltrail.sdk.tracking.run import Run
from mltrail.sdk.tracking.start import active_run

__all__ = ["FRAMEWORK", "MltrailCallback"]

log = logging.getLogger("mltrail")

FRAMEWORK = Framework("transformers", "transformers", minimum=(4, 40), below=(6, 0))


class MltrailCallback(transformers.TrainerCallback):  # type: ignore[misc]
    """A ``TrainerCallback`` over a mltrail run (see the module's docstring)."""

    def __init__(
        self,
        project: str | None = None,
        *,
        name: str | None = None,
        run: Run | None = None,
        group: str | None = None,
        config: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        log_model: bool = True,
        log_checkpoints: bool = False,
    ) -> None:
        self._options = AutologOptions(project=project, group=group, extra_tags=dict(tags or {}))
        self._run_name = name
        self._run = run
        self._own = False
        self._config = dict(config or {})
        self._log_model = log_model
        self._log_checkpoints = log_checkpoints
        self._supported = FRAMEWORK.supported(transformers)

    @property
    def run(self) -> Run | None:
        return self._run

    def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        if not (self._supported and state.is_world_process_zero):
            return
        if self._run is None:
            self._run = active_run()
        if self._run is None:
            try:
                self._run = start_run(
                    self._options, integration="transformers", config=self._config, name=self._run_name
                )
            except MltrailError as exc:  # training goes on, unlogged
                log.warning("mltrail: MltrailCallback logs nothing, no run could be started: %s", exc)
                return
            self._own = True
        params = flat_params(args.to_sanitized_dict(), prefix="args.")
        model_config = getattr(model, "config", None)
        if model_config is not None:
            params.update(flat_params(model_config.to_dict(), prefix="model."))
        safely("the parameters", self._run.update_config, params)

    def on_log(
        self, args: Any, state: Any, control: Any, logs: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> None:
        if self._run is None or not state.is_world_process_zero:
            return
        values = {
            k: float(v)
            for k, v in (logs or {}).items()
            if isinstance(v, int | float) and not isinstance(v, bool)
        }
        if values:
            safely("the logs", self._run.log, values, step=int(state.global_step))

    def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self._run is None or not self._log_checkpoints or not state.is_world_process_zero:
            return
        folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        if folder.is_dir():
            safely("a checkpoint", self._run.log_artifact, folder, f"checkpoints/{folder.name}")

    def on_train_end(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        if self._run is None or not state.is_world_process_zero:
            return
        if self._log_model and model is not None:
            safely("the model", self._save_model, model)
        safely("the summary", self._run.summary.update, {"global_step": int(state.global_step)})
        if self._own:
            safely("the run's end", self._run.finish, RunStatus.FINISHED)
            self._own = False

    def _save_model(self, model: Any) -> None:
        assert self._run is not None
        with tempfile.TemporaryDirectory(prefix="mltrail-hf-") as tmp:
            model.save_pretrained(tmp)
            self._run.log_artifact(tmp, "model")
