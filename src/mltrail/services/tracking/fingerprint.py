"""Dataset fingerprints: a content digest, schema, row count and column summary of a file, folder or table.

The ``Fingerprint`` record is light; computing one (``fingerprint``) loads numpy and pyarrow from
``fingerprint_data`` on first use, so a run that logs no data set never imports them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["CHUNK_SIZE", "Fingerprint", "fingerprint"]

CHUNK_SIZE = 1 << 20  # files are hashed 1 MiB at a time, never read whole


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What identifies one version of a data set. ``digest`` is a sha256 hex string; the same content gives
    the same digest. ``schema`` holds ``{name, type, nullable}`` per column; ``summary`` is per column (see
    ``ColumnSummaryBuilder``). ``source`` is the absolute path for files and folders, None in memory."""

    name: str
    digest: str
    kind: str  # file, folder, table
    source: str | None
    num_rows: int | None
    num_bytes: int | None
    schema: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    # The drift profile of the data (stats.DatasetProfile bytes): a monitor's default reference.
    profile: bytes | None = None


def fingerprint(obj: object, *, name: str | None = None) -> Fingerprint:
    """Fingerprint a file, a folder, or an in-memory table (Arrow table or batch, DataFrame, numpy array).

    Raises ``TypeError`` for anything else and ``FileNotFoundError`` for a path that does not exist.
    """
    from mltrail.services.tracking.fingerprint_data import fingerprint as compute

    return compute(obj, name=name)
