"""mltrail: experiment tracking, model registry, deployment and monitoring on one trail.

Two lines to track a training script::

    import mltrail

    with mltrail.init(project="churn", config={"lr": 0.01}) as run:
        run.log({"loss": 0.3}, step=1)
        mltrail.models.register("churn", run=run, model=clf)

    mltrail.models.load("churn@production").predict(x)
"""

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
from mltrail.sdk.capture.options import CaptureOptions
from mltrail.sdk.run import Run
from mltrail.sdk.start import active_run, finish, init, log
from mltrail.settings import Settings

__version__ = "0.1.0"


def __getattr__(name: str) -> typing.Any:
    # mltrail.models, monitor and drift_report are imported on first use: a training script that only
    # logs does not pay for the registry client, the model flavors or the statistics.
    if name == "models":
        from mltrail.sdk import models

        return models
    if name == "monitor":
        from mltrail.sdk.monitor import monitor

        return monitor
    if name == "drift_report":
        from mltrail.sdk.monitor import drift_report

        return drift_report
    raise AttributeError(f"module 'mltrail' has no attribute {name!r}")


__all__ = [
    "CaptureOptions",
    "ConflictError",
    "IntegrityError",
    "InvalidFilterError",
    "InvalidInputError",
    "MltrailError",
    "NotFoundError",
    "Run",
    "RunFinishedError",
    "Settings",
    "StoreError",
    "__version__",
    "active_run",
    "drift_report",
    "finish",
    "init",
    "log",
    "models",
    "monitor",
]
