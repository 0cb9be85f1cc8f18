"""Autologging: ``mltrail.autolog()`` for every supported framework installed, or one at a time.

::

    import mltrail

    mltrail.autolog()                  # scikit-learn, XGBoost, LightGBM: whichever are installed
    clf.fit(X, y)                      # a run with params, metrics, fit time and the model
    mltrail.autolog(disable=True)      # every patched method put back

PyTorch Lightning, Keras and Hugging Face Transformers are not patched: their integrations are a logger
and callbacks the training code passes in (``mltrail.lightning``, ``mltrail.keras``,
``mltrail.transformers``). See docs/AUTOLOG.md.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Iterable
from typing import Unpack

from mltrail.errors import InvalidInputError
from mltrail.sdk.autolog.integration import AutologKwargs, finish_other_rank_run

__all__ = ["FRAMEWORKS", "autolog"]

# framework name -> (the framework's import name, the integration's module)
FRAMEWORKS: dict[str, tuple[str, str]] = {
    "sklearn": ("sklearn", "mltrail.sdk.autolog.sklearn"),
    "xgboost": ("xgboost", "mltrail.sdk.autolog.xgboost"),
    "lightgbm": ("lightgbm", "mltrail.sdk.autolog.lightgbm"),
}


def autolog(
    *, disable: bool = False, exclude: Iterable[str] = (), **options: Unpack[AutologKwargs]
) -> dict[str, bool]:
    """Switch autologging on (or off with ``disable=True``) for every supported framework installed,
    except those in ``exclude``. Idempotent: calling it again only changes the options.

    Returns ``{framework: on}`` for the frameworks found (a version outside the supported range is
    ``False``, with a warning, and trains as without mltrail).
    """
    excluded = set(exclude)
    unknown = excluded - set(FRAMEWORKS)
    if unknown:
        raise InvalidInputError(
            f"unknown framework(s) {sorted(unknown)} in exclude; known: {sorted(FRAMEWORKS)}", field="exclude"
        )
    result: dict[str, bool] = {}
    for name, (module, integration) in FRAMEWORKS.items():
        if name in excluded:
            continue
        if disable and integration not in sys.modules:
            continue  # never enabled in this process: nothing to put back, nothing to import
        if module not in sys.modules and importlib.util.find_spec(module) is None:
            continue
        result[name] = importlib.import_module(integration).autolog(disable=disable, **options)
    if disable:
        finish_other_rank_run()
    return result
