"""A column whose kind changes (numbers in one batch, text in the next; an alias that moved to a version
whose output is labels where the last one gave codes): the data is kept and the change reported, never a
failed merge.

A window keeps one kind per column, the first it was profiled as. A batch of the other kind is read as
that kind where its values allow (``conform`` does it row by row: numbers become labels, labels that are
numbers become numbers; ``stats.profile_convert`` does it for whole profiles: class codes as labels); what
cannot be read so is kept beside the column under ``name⟂kind`` (``side_name``), merged with the same kind
of later batches, left out of drift tests (it is not in the reference), and listed by ``kind_changes``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mltrail.entities import Monitor
from mltrail.errors import InvalidInputError
from mltrail.stats.profile import ColumnProfile, DatasetProfile
from mltrail.stats.profile_convert import as_kind

__all__ = [
    "SIDE",
    "kind_changes",
    "merge_all_profiles",
    "merge_profiles",
    "output_as",
    "output_kind",
    "side_name",
]

SIDE = "\u27c2"  # ⟂ between a column's name and the kind its values of another kind are kept as


def side_name(column: str, kind: str) -> str:
    return f"{column}{SIDE}{kind}"


def _settled(base: ColumnProfile, other: ColumnProfile) -> tuple[ColumnProfile | None, ColumnProfile | None]:
    """``other`` as ``base``'s kind (first) or, when it cannot be read so, as a side column (second)."""
    if base.kind in ("null", other.kind) or other.kind == "null":
        return other, None
    seen = as_kind(other, base.kind)
    if seen is not None:
        return seen, None
    return None, other


def merge_all_profiles(profiles: Sequence[DatasetProfile]) -> DatasetProfile | None:
    """``DatasetProfile.merge_all`` that never fails on a kind change: each column keeps the kind it has
    in the first profile that types it; parts of another kind are read as it, or kept as side columns.
    Deterministic for the same profiles in the same order, as ``merge_all`` is."""
    if not profiles:
        return None
    kinds: dict[str, ColumnProfile] = {}
    for profile in profiles:
        for name, column in profile.columns.items():
            if name not in kinds or kinds[name].kind == "null":
                kinds[name] = column
    settled: list[DatasetProfile] = []
    for profile in profiles:
        columns: dict[str, ColumnProfile] = {}
        for name, column in profile.columns.items():
            same, side = _settled(kinds[name], column)
            if same is not None:
                columns[name] = same
            if side is not None:
                key = side_name(name, side.kind)
                columns[key] = ColumnProfile.merge_all([columns[key], side]) if key in columns else side
        settled.append(DatasetProfile(profile.rows, columns))
    try:
        return DatasetProfile.merge_all(settled)
    except TypeError:  # a side column of a third kind: keep the parts that agree (never expected)
        return DatasetProfile.merge_all([p for p in settled if p.columns.keys() == settled[0].columns.keys()])


def output_kind(monitor: Monitor) -> str:
    """The kind the model's output is profiled as: the reference's when it has one, else the task's (class
    labels are categories, regression outputs numbers), so every window agrees."""
    column = DatasetProfile.from_bytes(monitor.reference).columns.get(monitor.prediction)
    if column is not None and column.kind in ("numeric", "categorical"):
        return column.kind
    return "categorical" if monitor.task == "classification" else "numeric"


def output_as(profile: DatasetProfile, column: str, kind: str) -> DatasetProfile:
    """``profile`` (and its segments' profiles) with the output ``column`` seen as ``kind``."""
    found = profile.columns.get(column)
    if found is None or found.kind not in ("numeric", "categorical") or found.kind == kind:
        return profile
    seen = as_kind(found, kind)
    if seen is None:
        held = "class labels (text)" if kind == "categorical" else "numbers"
        raise InvalidInputError(
            f"the reference holds {column} as {found.kind} values that cannot be read as {held}, which this"
            f" monitor's windows hold: give {column} as {held}",
            field=f"reference.{column}",
        )
    segments = {
        spec: {name: None if part is None else output_as(part, column, kind) for name, part in parts.items()}
        for spec, parts in profile.segments.items()
    }
    return DatasetProfile(profile.rows, {**profile.columns, column: seen}, segments)


def merge_profiles(a: bytes, b: bytes) -> bytes:
    """The store's merge of a window's profile with a batch's (``a`` stored, ``b`` new)."""
    first, second = DatasetProfile.from_bytes(a), DatasetProfile.from_bytes(b)
    try:
        return first.merge(second).to_bytes()
    except TypeError:
        merged = merge_all_profiles([first, second])
        assert merged is not None
        return merged.to_bytes()


def kind_changes(windows: Sequence[tuple[float, DatasetProfile]]) -> list[dict[str, Any]]:
    """The columns kept in another kind beside their own, per window: column, kind, rows, window starts."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for start, profile in windows:
        for name, column in profile.columns.items():
            if SIDE not in name:
                continue
            base, kind = name.rsplit(SIDE, 1)
            entry = found.setdefault((base, kind), {"column": base, "kind": kind, "rows": 0, "windows": []})
            entry["rows"] += column.count
            entry["windows"].append(start)
    return [found[key] for key in sorted(found)]
