"""The storage interface of runs' rich media, part of ``Store``: one record per (run, name, step) naming its
blobs (image, mask, SVG, PNG, plotly JSON) with what is not a blob (sizes, boxes, histogram counts)."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any

from mltrail.entities import MediaFile, MediaName, RunMedia

__all__ = ["MediaStore"]


class MediaStore(abc.ABC):
    """``NotFoundError`` for a missing run or media item."""

    @abc.abstractmethod
    def add_run_media(
        self,
        run_id: str,
        name: str,
        step: int | None,
        *,
        kind: str,
        files: Sequence[MediaFile],
        meta: dict[str, Any],
    ) -> RunMedia:
        """Record the item; ``step`` None means one past the name's last step (0 for the first). The same step
        again replaces the record. A name keeps the kind it was first logged with (``InvalidInputError``)."""

    @abc.abstractmethod
    def list_run_media(self, run_id: str) -> list[MediaName]:
        """The run's media names, each with its kind and steps."""

    @abc.abstractmethod
    def get_run_media(self, run_id: str, name: str, step: int | None = None) -> RunMedia:
        """The item at ``step``, or at the name's last step when None."""

    @abc.abstractmethod
    def page_run_media(
        self, run_id: str, name: str, *, offset: int = 0, limit: int = 50
    ) -> tuple[list[RunMedia], int]:
        """Items of ``name`` by step, ``offset`` to ``offset + limit``, and how many steps it has."""
