"""mltrail: experiment tracking, model registry, deployment and monitoring on one trail.

Two lines to track a training script::

    import mltrail

    with mltrail.init(project="churn", config={"lr": 0.01}) as run:
        run.log({"loss": 0.3}, step=1)
        mltrail.models.register("churn", run=run, model=clf)

    mltrail.models.load("churn@production").predict(x)

``import mltrail`` loads only the exceptions; every other name is imported on first use (PEP 562), so a
notebook that calls ``mltrail.drift_report`` does not pay for the tracking client, SQLAlchemy and the
store (about half a second), and a training script does not pay for the registry or the statistics.
"""

import importlib
import typing

from mltrail.errors import (
    ConflictError,
    IntegrityError,
    InvalidFilterError,
    InvalidInputError,
    MltrailError,
    NotFoundError,
    RunFinishedError,
    StoreError,
)

if typing.TYPE_CHECKING:
    from mltrail import lightgbm, sklearn, xgboost
    from mltrail.sdk.autolog import autolog
    from mltrail.sdk.capture.options import CaptureOptions
    from mltrail.sdk.client.connection import Connection, connect
    from mltrail.sdk.deployments import api as deployments
    from mltrail.sdk.monitoring.drift import drift_report
    from mltrail.sdk.monitoring.monitor import monitor
    from mltrail.sdk.registry import models
    from mltrail.sdk.tracking.run import Run
    from mltrail.sdk.tracking.runs_api import Runs, RunView, run, runs
    from mltrail.sdk.tracking.start import active_run, finish, init, log
    from mltrail.settings import Settings

__version__ = "0.1.0"

# name -> (module, attribute); attribute None means the module itself.
_LAZY: dict[str, tuple[str, str | None]] = {
    "CaptureOptions": ("mltrail.sdk.capture.options", "CaptureOptions"),
    "Connection": ("mltrail.sdk.client.connection", "Connection"),
    "connect": ("mltrail.sdk.client.connection", "connect"),
    "deployments": ("mltrail.sdk.deployments.api", None),
    "Run": ("mltrail.sdk.tracking.run", "Run"),
    "RunView": ("mltrail.sdk.tracking.runs_api", "RunView"),
    "Runs": ("mltrail.sdk.tracking.runs_api", "Runs"),
    "Settings": ("mltrail.settings", "Settings"),
    "active_run": ("mltrail.sdk.tracking.start", "active_run"),
    "autolog": ("mltrail.sdk.autolog", "autolog"),
    "drift_report": ("mltrail.sdk.monitoring.drift", "drift_report"),
    "finish": ("mltrail.sdk.tracking.start", "finish"),
    "init": ("mltrail.sdk.tracking.start", "init"),
    "lightgbm": ("mltrail.lightgbm", None),
    "log": ("mltrail.sdk.tracking.start", "log"),
    "models": ("mltrail.sdk.registry.models", None),
    "monitor": ("mltrail.sdk.monitoring.monitor", "monitor"),
    "run": ("mltrail.sdk.tracking.runs_api", "run"),
    "runs": ("mltrail.sdk.tracking.runs_api", "runs"),
    "sklearn": ("mltrail.sklearn", None),
    "xgboost": ("mltrail.xgboost", None),
}


def __getattr__(name: str) -> typing.Any:
    try:
        module_name, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'mltrail' has no attribute {name!r}") from None
    module = importlib.import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "CaptureOptions",
    "ConflictError",
    "Connection",
    "IntegrityError",
    "InvalidFilterError",
    "InvalidInputError",
    "MltrailError",
    "NotFoundError",
    "Run",
    "RunFinishedError",
    "RunView",
    "Runs",
    "Settings",
    "StoreError",
    "__version__",
    "active_run",
    "autolog",
    "connect",
    "deployments",
    "drift_report",
    "finish",
    "init",
    "lightgbm",
    "log",
    "models",
    "monitor",
    "run",
    "runs",
    "sklearn",
    "xgboost",
]
