"""Tracking's entities: projects, runs, metrics, datasets and artifacts; plain data the store returns."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Artifact",
    "DatasetLink",
    "DatasetVersion",
    "Fingerprint",
    "MetricHistory",
    "MetricPoint",
    "MetricSummary",
    "MetricsBatch",
    "Project",
    "Run",
    "RunPage",
    "RunStatus",
    "SortKey",
    "Value",
]

# A param, tag or summary value as the user gave it: JSON-representable.
Value = str | int | float | bool | None | list[Any] | dict[str, Any]


class RunStatus(enum.StrEnum):
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    CRASHED = "crashed"


@dataclass(frozen=True, slots=True)
class Project:
    id: int
    name: str
    created_at: float
    run_count: int = 0
    last_run_at: float | None = None


@dataclass(frozen=True, slots=True)
class MetricSummary:
    """What a run's metric came to: its last value (at the highest step) and its extremes.

    NaN values are kept in the history but left out of ``min`` and ``max`` (they are ``None`` when every value
    was NaN); ``last`` may be NaN.
    """

    key: str
    last: float
    last_step: int
    min: float | None
    max: float | None
    count: int


@dataclass(slots=True)
class Run:
    id: str
    project: str
    name: str
    status: RunStatus
    user: str | None
    start_time: float
    end_time: float | None = None
    heartbeat_at: float | None = None
    notes: str | None = None
    # Why a failed run failed: exception type, message and formatted traceback.
    error: dict[str, str] | None = None
    params: dict[str, Value] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    summary: dict[str, Value] = field(default_factory=dict)
    metrics: dict[str, MetricSummary] = field(default_factory=dict)
    # Captured context: git, command, environment, packages, hardware (see sdk/capture).
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def duration(self) -> float | None:
        """Seconds from start to end, or to the last heartbeat while running or crashed."""
        end = self.end_time if self.end_time is not None else self.heartbeat_at
        return None if end is None else max(0.0, end - self.start_time)


@dataclass(frozen=True, slots=True)
class ActivityCell:
    """One user's runs in one ISO week of a project: how many, their seconds (``Run.duration``), failures
    (failed or crashed)."""

    week_start: float  # Monday 00:00 UTC, epoch seconds
    user: str | None
    runs: int
    seconds: float
    failed: int


@dataclass(frozen=True, slots=True)
class MetricPoint:
    step: int
    value: float
    wall_time: float


@dataclass(frozen=True, slots=True)
class MetricHistory:
    """A metric's points ordered by step; ``downsampled`` says whether some were dropped."""

    run_id: str
    key: str
    steps: list[int]
    values: list[float]
    wall_times: list[float]
    total_points: int
    downsampled: bool = False


@dataclass(slots=True)
class MetricsBatch:
    """Columnar points of one run, as the writer sends them: point i is (keys[i], steps[i], values[i], ...).

    ``client_id`` and ``seq`` identify the batch so that a store or server can apply it at most once.
    Writing the same (key, step) twice keeps the last value written.
    """

    keys: list[str]
    steps: list[int]
    values: list[float]
    wall_times: list[float]
    client_id: str = ""
    seq: int = 0

    def __len__(self) -> int:
        return len(self.keys)


@dataclass(frozen=True, slots=True)
class DatasetVersion:
    """One version of a data set: identified by the sha256 of its content."""

    id: int
    project: str
    name: str
    version: int
    digest: str
    source: str | None
    kind: str  # file, folder, table
    num_rows: int | None
    num_bytes: int | None
    schema: list[dict[str, Any]]
    summary: dict[str, Any]
    created_at: float


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


@dataclass(frozen=True, slots=True)
class DatasetLink:
    run_id: str
    role: str  # train, validation, test, other
    dataset: DatasetVersion


@dataclass(frozen=True, slots=True)
class Artifact:
    run_id: str
    path: str
    digest: str
    size: int
    created_at: float


@dataclass(frozen=True, slots=True)
class SortKey:
    """Sort by ``field`` (e.g. ``metrics.acc``, ``params.lr``, ``start_time``); ``agg`` picks last/min/max."""

    field: str
    descending: bool = False
    agg: str = "last"


@dataclass(frozen=True, slots=True)
class RunPage:
    runs: list[Run]
    total: int
    offset: int
    limit: int
