"""The storage interface of what serving gateways observed per deployment variant, part of ``Store``.

One row per (deployment, replica, minute window, spec version, variant, model) holds that replica's
whole counts of the window so far; a send replaces the rows it names, so sending the same counts again
changes nothing.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

from mltrail.entities import EvidenceWindow

__all__ = ["EvidenceStore"]


class EvidenceStore(abc.ABC):
    """``NotFoundError`` for a missing deployment."""

    @abc.abstractmethod
    def put_evidence(self, name: str, windows: Sequence[EvidenceWindow]) -> int:
        """Replace the rows of each window's (replica, start, spec version) with its counts, in one
        transaction; how many rows were written."""

    @abc.abstractmethod
    def list_evidence(
        self,
        name: str,
        *,
        since: float | None = None,
        until: float | None = None,
        spec_version: int | None = None,
        model: str | None = None,
    ) -> list[EvidenceWindow]:
        """The windows with ``since <= start < until`` (of ``spec_version`` and rows of ``model`` when
        given), oldest first, one per (start, replica, spec version)."""

    @abc.abstractmethod
    def evidence_served(self, model: str) -> list[tuple[str, str, float]]:
        """Where the model version ``model`` (``churn:7``) has counts: (deployment, variant, start of
        its first window) per deployment and variant, by deployment name."""
