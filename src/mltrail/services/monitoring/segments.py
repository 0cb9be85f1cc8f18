"""Segments of monitored traffic: a column (one segment per value) or a rule such as ``age < 25``."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from mltrail.comparisons import parse_literal, split_comparison
from mltrail.errors import InvalidInputError
from mltrail.stats.profile import DatasetProfile, profile_batches

__all__ = [
    "MAX_SEGMENT_VALUES",
    "SegmentSpec",
    "parse_segment",
    "profile_reference",
    "rule_mask",
    "segment_spec",
    "split_segments",
]

# A column segment keeps at most this many distinct values per batch (the most frequent): a high-cardinality
# column (a user id) must not turn into thousands of windows.
MAX_SEGMENT_VALUES = 50
_OPS = {
    "<": pc.less,
    "<=": pc.less_equal,
    ">": pc.greater,
    ">=": pc.greater_equal,
    "==": pc.equal,
    "=": pc.equal,
}


@dataclass(frozen=True, slots=True)
class SegmentSpec:
    spec: str
    column: str
    op: str | None = None  # None: one segment per value of ``column``
    value: float | str | None = None


def parse_segment(spec: str) -> SegmentSpec:
    """``country`` (by value) or ``age < 25`` / ``plan == "pro"`` (a rule: column, comparison, literal)."""
    text = spec.strip() if isinstance(spec, str) else ""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.\-]*", text):
        return SegmentSpec(text, text)
    parts = split_comparison(text)
    if parts is None:
        raise InvalidInputError(
            f"a segment is a column name or a rule like 'age < 25'; got {spec!r}", field="segments"
        )
    column, op, literal = parts
    try:
        value = parse_literal(literal)
    except ValueError as exc:
        raise InvalidInputError(f"segment {spec!r}: {exc}", field="segments") from None
    return SegmentSpec(text, column, op, value)


def rule_mask(table: pa.Table, seg: SegmentSpec) -> pa.ChunkedArray | None:
    """The rows a rule segment holds (nulls as False); None when the table cannot be compared."""
    if seg.column not in table.column_names:
        return None
    column = table.column(seg.column)
    assert seg.op is not None
    try:
        compare = pc.not_equal if seg.op == "!=" else _OPS[seg.op]
        mask = compare(column, seg.value)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None  # a rule comparing a number with a text column matches nothing
    return pc.fill_null(mask, False)


def split_segments(
    table: pa.Table, specs: Sequence[SegmentSpec], *, rare: list[str] | None = None
) -> Iterator[tuple[str, pa.Table]]:
    """Each segment's rows: ``("age < 25", rows)`` for a rule, ``("country=DE", rows)`` per value (the
    ``MAX_SEGMENT_VALUES`` most frequent; the names of the others are appended to ``rare`` when given)."""
    for seg in specs:
        if seg.op is not None:
            mask = rule_mask(table, seg)
            if mask is not None:
                part = table.filter(mask)
                if part.num_rows:
                    yield seg.spec, part
            continue
        if seg.column not in table.column_names:
            continue
        column = table.column(seg.column)
        if pa.types.is_floating(column.type):
            continue  # a float column is split with a rule, not by value
        counts = pc.value_counts(column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column)
        pairs = sorted(
            (
                (v.as_py(), c.as_py())
                for v, c in zip(counts.field("values"), counts.field("counts"), strict=True)
            ),
            key=lambda vc: -int(vc[1]),
        )
        if rare is not None:
            rare.extend(f"{seg.column}={v}" for v, _ in pairs[MAX_SEGMENT_VALUES:] if v is not None)
        for value, _ in pairs[:MAX_SEGMENT_VALUES]:
            if value is None:
                continue
            part = table.filter(pc.fill_null(pc.equal(column, pa.scalar(value, column.type)), False))
            yield f"{seg.column}={value}", part


def profile_reference(
    table: pa.Table, segments: Sequence[str], *, columns: Sequence[str] | None = None
) -> DatasetProfile:
    """The reference's profile with, in ``segments``, each segment's own profile of the same rows, so that
    a monitor compares each segment with the same segment of the reference. A spec whose column the
    reference lacks is left out (its segments are then compared with the whole reference); values beyond
    the ``MAX_SEGMENT_VALUES`` most frequent are listed without a profile."""
    profile = profile_batches(table, columns=columns)
    for spec in segments:
        seg = parse_segment(spec)
        if seg.column not in table.column_names:
            continue
        rare: list[str] = []
        parts: dict[str, DatasetProfile | None] = {
            name: profile_batches(rows, columns=columns)
            for name, rows in split_segments(table, [seg], rare=rare)
        }
        parts.update(dict.fromkeys(rare))
        profile.segments[seg.spec] = parts
    return profile


def segment_spec(segment: str, specs: Sequence[str]) -> SegmentSpec | None:
    """The spec a segment name comes from: ``age < 25`` itself, ``country`` for ``country=DE``."""
    parsed = [parse_segment(s) for s in specs]
    for seg in parsed:
        if seg.op is not None and seg.spec == segment:
            return seg
    for seg in parsed:
        if seg.op is None and segment.startswith(f"{seg.column}="):
            return seg
    return None
