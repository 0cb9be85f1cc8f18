"""The run an autologged training call logs into, and the helpers every integration shares.

A training call logs into the active run when there is one; otherwise it starts a run for itself and
finishes it when the call returns (``failed`` when the call raises). Calls made inside an autologged call
(a pipeline's steps, a search's candidates, ``xgboost.train`` under ``XGBClassifier.fit``) see the outer
session marked ``nested`` and add to its run, never a run of their own. Only rank 0 of a distributed job
logs. Nothing here lets a logging failure reach the training code: it is logged as a warning instead.
"""

from __future__ import annotations

import contextvars
import logging
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from mltrail.entities import RunStatus
from mltrail.errors import MltrailError
from mltrail.sdk.autolog.distributed import process_rank
from mltrail.sdk.tracking.run import Run
from mltrail.sdk.tracking.start import GROUP_TAG, active_run, init
from mltrail.services.tracking.validation import to_value

__all__ = [
    "AUTOLOG_TAG",
    "GROUP_TAG",
    "PARENT_TAG",
    "RANK_TAG",
    "AutologOptions",
    "Session",
    "current_session",
    "flat_params",
    "inside_training",
    "log_model",
    "safely",
    "start_run",
    "training_session",
]

log = logging.getLogger("mltrail")

# Tags autologging writes; filterable like any tag (``tags.mltrail.group = "sweep-3"``).
AUTOLOG_TAG = "mltrail.autolog"  # which integration started or fed the run
PARENT_TAG = "mltrail.parent"  # the parent run's id (a search's candidates)
RANK_TAG = "mltrail.rank"  # the process rank of a distributed job's run

_MAX_PARAM_TEXT = 500


@dataclass(frozen=True)
class AutologOptions:
    """What autologging records; ``mltrail.autolog(...)`` takes the same names.

    - ``log_models``: save the fitted model with its flavor (and signature) under ``model/``.
    - ``log_input_example``: keep a few training rows with the model (its signature is inferred from them).
    - ``project``, ``group``, ``capture``: for runs that autologging starts (``mltrail.init``'s own names;
      ``group`` is also tagged on an active run it logs into).
    - ``max_tuning_runs``: child runs for at most this many of a search's best candidates (None: all).
    - ``other_ranks``: ``"skip"`` (default: only rank 0 logs) or ``"system"`` (every other rank starts a
      run of its own with system metrics only, in the same group).
    """

    log_models: bool = True
    log_input_example: bool = True
    project: str | None = None
    group: str | None = None
    capture: bool | Mapping[str, bool] | None = None
    max_tuning_runs: int | None = None
    other_ranks: Literal["skip", "system"] = "skip"
    extra_tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Session:
    """An autologged training call: its run, whether it runs inside another one, and the options."""

    run: Run
    integration: str
    options: AutologOptions
    nested: bool = False


_current: contextvars.ContextVar[Session | None] = contextvars.ContextVar(
    "mltrail_autolog_session", default=None
)


# Set during a training call that logs nothing (another rank, no run could be started).
_silenced: contextvars.ContextVar[bool] = contextvars.ContextVar("mltrail_autolog_silenced", default=False)


def current_session() -> Session | None:
    return _current.get()


def inside_training() -> bool:
    """Whether an autologged training call is under way in this context (logging or not)."""
    return _current.get() is not None or _silenced.get()


@contextmanager
def training_session(
    integration: str, options: AutologOptions, params: Mapping[str, Any] | None = None
) -> Iterator[Session | None]:
    """The session of one training call, or None when this process does not log (not rank 0, or no run
    could be started: a warning says why)."""
    outer = _current.get()
    if outer is not None:
        yield replace(outer, nested=True)
        return
    if _silenced.get():
        yield None
        return
    run, own = _open_run(integration, options, params or {}) if process_rank().is_zero else (None, False)
    if run is None:  # the calls inside this one (a classifier's label encoder…) do not try again
        silence = _silenced.set(True)
        try:
            yield None
        finally:
            _silenced.reset(silence)
        return
    session = Session(run=run, integration=integration, options=options)
    token = _current.set(session)
    try:
        yield session
    except BaseException as exc:
        if own:
            safely("the run's end", run.finish, RunStatus.FAILED, exc)
        raise
    else:
        if own:
            safely("the run's end", run.finish)
    finally:
        _current.reset(token)


def start_run(
    options: AutologOptions,
    *,
    integration: str,
    config: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
    name: str | None = None,
    capture: bool | Mapping[str, bool] | None = None,
) -> Run:
    """``mltrail.init`` with the options' project, group and tags (the caller finishes the run)."""
    all_tags = {AUTOLOG_TAG: integration, **options.extra_tags, **(tags or {})}
    rank = process_rank()
    if rank.distributed:
        all_tags[RANK_TAG] = str(rank.rank)
    return init(
        options.project,
        name=name,
        config=dict(config or {}),
        tags=all_tags,
        capture=options.capture if capture is None else capture,
        group=options.group,
    )


def _open_run(
    integration: str, options: AutologOptions, params: Mapping[str, Any]
) -> tuple[Run | None, bool]:
    run = active_run()
    if run is not None:
        tags = {AUTOLOG_TAG: integration, **options.extra_tags}
        if options.group:
            tags[GROUP_TAG] = options.group
        safely("the parameters", run.update_config, dict(params))
        safely("the tags", run.set_tags, tags)
        return run, False
    try:
        return start_run(options, integration=integration, config=params), True
    except MltrailError as exc:
        log.warning("mltrail autolog: no run for this %s training call: %s", integration, exc)
        return None, False


def safely(what: str, action: Callable[..., object], *args: Any, **kwargs: Any) -> None:
    """Call ``action``; a failure becomes a warning naming ``what`` could not be logged."""
    try:
        action(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - autologging must never break the training it observes
        log.warning("mltrail autolog: could not log %s: %s: %s", what, type(exc).__name__, exc)


def flat_params(params: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Parameters as flat keys: nested mappings and scikit-learn's ``step__param`` both become dots;
    an estimator or callable value becomes its class name, anything else not JSON its short ``repr``."""
    flat: dict[str, Any] = {}
    for raw_key, value in params.items():
        key = prefix + str(raw_key).replace("__", ".")
        if isinstance(value, Mapping) and value:
            flat.update(flat_params(value, prefix=f"{key}."))
        else:
            flat[key] = _param_value(value)
    return flat


def _param_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "get_params") or callable(value):
        return (
            type(value).__name__ if hasattr(value, "get_params") else getattr(value, "__name__", repr(value))
        )
    if isinstance(value, list | tuple):
        if all(isinstance(v, tuple) and len(v) >= 2 and isinstance(v[0], str) for v in value):
            return ", ".join(f"{v[0]}={_param_value(v[1])}" for v in value)  # pipeline steps
        if all(v is None or isinstance(v, bool | int | float | str) for v in value):
            return list(value)
    converted = to_value(value)
    if isinstance(converted, bool | int | float | str) or converted is None:
        return converted if not isinstance(converted, str) else converted[:_MAX_PARAM_TEXT]
    text = repr(value)
    return text if len(text) <= _MAX_PARAM_TEXT else text[: _MAX_PARAM_TEXT - 1] + "…"


def log_model(run: Run, model: Any, *, input_example: Any = None, path: str = "model") -> None:
    """Save ``model`` with its flavor (signature from ``input_example``) and log the folder as ``path``."""
    from mltrail.sdk.flavors import save_model  # numpy and the flavors: only when a model is logged

    with tempfile.TemporaryDirectory(prefix="mltrail-autolog-") as tmp:
        folder = Path(tmp) / "model"
        try:
            save_model(model, folder, input_example=input_example)
        except (MltrailError, TypeError, ValueError) as exc:
            if input_example is None:
                raise
            log.warning("mltrail autolog: model saved without its input example: %s", exc)
            folder = Path(tmp) / "model-plain"
            save_model(model, folder)
        run.log_artifact(folder, name=path)
