"""XGBoost autologging: ``mltrail.xgboost.autolog()`` and ``MltrailCallback`` for ``xgboost.train``.

See ``mltrail.sdk.autolog.xgboost`` and docs/AUTOLOG.md.
"""

from mltrail.sdk.autolog.xgboost import MltrailCallback, autolog

__all__ = ["MltrailCallback", "autolog"]
