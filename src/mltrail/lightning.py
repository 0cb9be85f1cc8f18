"""lightning: ``MltrailLogger``; see ``mltrail.sdk.autolog.lightning`` and docs/AUTOLOG.md."""

from mltrail.sdk.autolog.lightning import MltrailLogger

__all__ = ["MltrailLogger"]
