"""LightGBM autologging: ``mltrail.lightgbm.autolog()`` and ``MltrailCallback`` for ``lightgbm.train``.

See ``mltrail.sdk.autolog.lightgbm`` and docs/AUTOLOG.md.
"""

from mltrail.sdk.autolog.lightgbm import MltrailCallback, autolog

__all__ = ["MltrailCallback", "autolog"]
