"""transformers: ``MltrailCallback``; see ``mltrail.sdk.autolog.transformers`` and docs/AUTOLOG.md."""

from mltrail.sdk.autolog.transformers import MltrailCallback

__all__ = ["MltrailCallback"]
