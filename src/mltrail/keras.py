"""keras: ``MltrailCallback``; see ``mltrail.sdk.autolog.keras`` and docs/AUTOLOG.md."""

from mltrail.sdk.autolog.keras import MltrailCallback

__all__ = ["MltrailCallback"]
