"""The profile data model: ColumnProfile and DatasetProfile, their merge and (de)serialization."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from mltrail.stats.profile_categorical import CategoryCounts
from mltrail.stats.profile_numeric import NumericSummary

__all__ = ["ColumnProfile", "DatasetProfile", "Kind", "merge_kind"]

Kind = Literal["numeric", "categorical", "other", "null"]
_FORMAT = "mltrail.dataset_profile"
_VERSION = 1


class ColumnProfile:
    """Profile of one column; treat as immutable once built (``merged`` returns a new one)."""

    __slots__ = (
        "absent",
        "categories",
        "count",
        "infinite",
        "kind",
        "name",
        "nan",
        "nulls",
        "numeric",
        "types",
    )

    def __init__(
        self,
        name: str,
        kind: Kind,
        *,
        types: Iterable[str] = (),
        count: int = 0,
        nulls: int = 0,
        nan: int = 0,
        infinite: int = 0,
        absent: int = 0,
        numeric: NumericSummary | None = None,
        categories: CategoryCounts | None = None,
    ) -> None:
        self.name = name
        self.kind: Kind = kind
        self.types: tuple[str, ...] = tuple(sorted(set(types)))
        self.count = count
        self.nulls = nulls
        self.nan = nan
        self.infinite = infinite
        self.absent = absent
        self.numeric = numeric
        self.categories = categories

    @property
    def missing(self) -> int:
        """Null or NaN values among the rows where the column was present."""
        return self.nulls + self.nan

    @property
    def valid(self) -> int:
        """Values that entered the summary (not missing, not ±inf)."""
        return self.count - self.missing - self.infinite

    @property
    def missing_rate(self) -> float | None:
        """(missing + absent) / (count + absent); None for a profile of no rows."""
        rows = self.count + self.absent
        return (self.missing + self.absent) / rows if rows else None

    def merged(self, other: ColumnProfile) -> ColumnProfile:
        """Profile of the rows of both; raises TypeError if one is numeric and the other categorical."""
        kind = merge_kind(self.name, self.kind, other.kind)
        out = ColumnProfile(
            self.name,
            kind,
            types=self.types + other.types,
            count=self.count + other.count,
            nulls=self.nulls + other.nulls,
            nan=self.nan + other.nan,
            infinite=self.infinite + other.infinite,
            absent=self.absent + other.absent,
        )
        if kind == "numeric":
            nums = [p.numeric for p in (self, other) if p.numeric is not None]
            out.numeric = nums[0].merged(nums[1] if len(nums) == 2 else NumericSummary.empty(nums[0].kll.k))
        elif kind == "categorical":
            cats = [p.categories for p in (self, other) if p.categories is not None]
            out.categories = cats[0].merged(
                cats[1] if len(cats) == 2 else CategoryCounts(cats[0].cap, cats[0].lg_k)
            )
        return out

    @classmethod
    def merge_all(cls, parts: list[ColumnProfile]) -> ColumnProfile:
        """``merged`` over all ``parts`` (at least one) at once, deterministically (numeric sketches by
        ``NumericSummary.merge_all``; label counts and frequent items merge deterministically anyway)."""
        first = parts[0]
        kind = first.kind
        for part in parts[1:]:
            kind = merge_kind(first.name, kind, part.kind)
        out = ColumnProfile(
            first.name,
            kind,
            types=tuple(t for p in parts for t in p.types),
            count=sum(p.count for p in parts),
            nulls=sum(p.nulls for p in parts),
            nan=sum(p.nan for p in parts),
            infinite=sum(p.infinite for p in parts),
            absent=sum(p.absent for p in parts),
        )
        if kind == "numeric":
            nums = [p.numeric for p in parts if p.numeric is not None]
            out.numeric = NumericSummary.merge_all(nums)
        elif kind == "categorical":
            cats = [p.categories for p in parts if p.categories is not None]
            merged = cats[0].merged(CategoryCounts(cats[0].cap, cats[0].lg_k))
            for other in cats[1:]:
                merged = merged.merged(other)
            out.categories = merged
        return out

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "types": list(self.types),
            "count": self.count,
            "nulls": self.nulls,
            "nan": self.nan,
            "infinite": self.infinite,
            "absent": self.absent,
        }
        if self.numeric is not None:
            out["numeric"] = self.numeric.to_dict()
        if self.categories is not None:
            out["categories"] = self.categories.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColumnProfile:
        kind = data["kind"]
        if kind not in ("numeric", "categorical", "other", "null"):
            raise ValueError(f"unknown column kind {kind!r}")
        return cls(
            str(data["name"]),
            kind,
            types=data["types"],
            count=int(data["count"]),
            nulls=int(data["nulls"]),
            nan=int(data["nan"]),
            infinite=int(data["infinite"]),
            absent=int(data["absent"]),
            numeric=NumericSummary.from_dict(data["numeric"]) if "numeric" in data else None,
            categories=CategoryCounts.from_dict(data["categories"]) if "categories" in data else None,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ColumnProfile):
            return False
        mine, theirs = self.to_dict(), other.to_dict()
        mine.pop("categories", None)
        theirs.pop("categories", None)
        return mine == theirs and self.categories == other.categories

    __hash__ = None  # type: ignore[assignment]  # mutable while built; equality is by content

    def __repr__(self) -> str:
        return f"ColumnProfile({self.name!r}, {self.kind}, count={self.count}, missing={self.missing})"


class DatasetProfile:
    """Profiles of the columns of a data set, and its total row count.

    ``segments`` (a reference built for a monitor with segments): per segment spec (``country``,
    ``age < 25``), each segment's profile of the same rows (``country=DE`` → its profile), or None for a
    value too rare to be kept on its own; a spec listed there with a segment missing means the data had
    no row of that segment. Kept in the bytes, so it travels with the profile to a server."""

    __slots__ = ("columns", "rows", "segments")

    def __init__(
        self,
        rows: int,
        columns: dict[str, ColumnProfile],
        segments: dict[str, dict[str, DatasetProfile | None]] | None = None,
    ) -> None:
        self.rows = rows
        self.columns = columns
        self.segments = segments or {}

    def __getitem__(self, name: str) -> ColumnProfile:
        return self.columns[name]

    def merge(self, other: DatasetProfile) -> DatasetProfile:
        """Profile of the rows of both. A column only one side has counts the other side's rows as absent."""
        columns: dict[str, ColumnProfile] = {}
        for name in [*self.columns, *(n for n in other.columns if n not in self.columns)]:
            mine = self.columns.get(name) or ColumnProfile(name, "null", absent=self.rows)
            theirs = other.columns.get(name) or ColumnProfile(name, "null", absent=other.rows)
            columns[name] = mine.merged(theirs)
        return DatasetProfile(self.rows + other.rows, columns)

    @classmethod
    def merge_all(cls, profiles: Sequence[DatasetProfile]) -> DatasetProfile | None:
        """The profile of all ``profiles`` (None for none), the same every time for the same profiles in
        the same order — what a report reads. ``merge`` is deterministic too (it merges two at a time, as
        ingestion folds a batch into its window); this pools every sketch at once, which is more exact."""
        if not profiles:
            return None
        names: dict[str, None] = {}
        for profile in profiles:
            names.update(dict.fromkeys(profile.columns))
        columns = {
            name: ColumnProfile.merge_all(
                [p.columns.get(name) or ColumnProfile(name, "null", absent=p.rows) for p in profiles]
            )
            for name in names
        }
        return DatasetProfile(sum(p.rows for p in profiles), columns)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (sketches as base64); ``from_dict`` gives back an equal profile."""
        return {
            "format": _FORMAT,
            "version": _VERSION,
            "rows": self.rows,
            "columns": [c.to_dict() for c in self.columns.values()],
            **(
                {
                    "segments": {
                        spec: {name: None if p is None else p.to_dict() for name, p in parts.items()}
                        for spec, parts in self.segments.items()
                    }
                }
                if self.segments
                else {}
            ),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DatasetProfile:
        if data.get("format") != _FORMAT or data.get("version") != _VERSION:
            raise ValueError(
                f"not a version {_VERSION} {_FORMAT}: {data.get('format')!r} {data.get('version')!r}"
            )
        columns = [ColumnProfile.from_dict(c) for c in data["columns"]]
        segments = {
            str(spec): {str(name): None if p is None else cls.from_dict(p) for name, p in dict(parts).items()}
            for spec, parts in dict(data.get("segments") or {}).items()
        }
        return cls(int(data["rows"]), {c.name: c for c in columns}, segments)

    def to_bytes(self) -> bytes:
        # allow_nan=False: no NaN or inf can be stored (moments are of finite values), so strict JSON holds.
        return json.dumps(self.to_dict(), separators=(",", ":"), allow_nan=False).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> DatasetProfile:
        return cls.from_dict(json.loads(data))

    def __eq__(self, other: object) -> bool:
        """Same rows and columns in the same order; KLL sketches compared byte for byte."""
        return (
            isinstance(other, DatasetProfile)
            and self.rows == other.rows
            and list(self.columns.items()) == list(other.columns.items())
            and self.segments == other.segments
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"DatasetProfile(rows={self.rows}, columns={list(self.columns)})"


def merge_kind(name: str, a: Kind, b: Kind) -> Kind:
    if a == "null":
        return b
    if b in ("null", a):
        return a
    raise TypeError(f"column {name!r} is {a} in one part and {b} in the other; pass numeric= or categorical=")
