"""Request and response bodies of ``/api/v1``: separate ``…In``/``…Create`` and ``…Public`` models per entity.

JSON has no NaN or infinity. Every float in a response is written with non-finite values as the strings
``"NaN"``, ``"Infinity"`` and ``"-Infinity"``, and float fields of requests (metric values above all) accept
those strings back, so NaN/±inf metrics round-trip exactly.
"""

from __future__ import annotations

import base64
import uuid
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from mltrail.api.tracking.content_types import content_type
from mltrail.entities import (
    ActivityCell,
    Artifact,
    DatasetLink,
    DatasetVersion,
    MetricHistory,
    MetricsBatch,
    MetricSummary,
    Project,
    Run,
    RunPage,
    RunStatus,
)
from mltrail.errors import InvalidInputError
from mltrail.json_floats import NON_FINITE
from mltrail.services.tracking.fingerprint import Fingerprint
from mltrail.stats.profile import DatasetProfile

__all__ = [
    "ArtifactPublic",
    "ContextIn",
    "DatasetIn",
    "DatasetLinkPublic",
    "DatasetVersionPublic",
    "FinishIn",
    "GitPublic",
    "HistoryPublic",
    "MetricSummaryPublic",
    "MetricsAck",
    "MetricsBatchIn",
    "NotesIn",
    "ParamsIn",
    "ProjectKeysPublic",
    "ProjectPublic",
    "RunCreate",
    "RunPagePublic",
    "RunPublic",
    "SummaryIn",
    "TagsIn",
]


# The largest integer the database columns hold (BIGINT); larger ones are a 400, not a driver error.
INT64_MAX = 2**63 - 1
# A float as it travels: a JSON number, or one of these strings for the values JSON cannot hold. The OpenAPI
# document says so, so clients generated from it accept NaN metrics.
JsonFloat = Annotated[
    float, WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "string", "enum": list(NON_FINITE)}]})
]


class _Out(BaseModel):
    model_config = ConfigDict(ser_json_inf_nan="strings", populate_by_name=True)


class _In(BaseModel):
    model_config = ConfigDict(ser_json_inf_nan="strings", extra="forbid", populate_by_name=True)


# -- projects -----------------------------------------------------------------------------------------------
class ProjectPublic(_Out):
    id: int
    name: str
    created_at: JsonFloat
    run_count: int
    last_run_at: JsonFloat | None

    @classmethod
    def of(cls, project: Project) -> ProjectPublic:
        return cls(
            id=project.id,
            name=project.name,
            created_at=project.created_at,
            run_count=project.run_count,
            last_run_at=project.last_run_at,
        )


# -- runs ---------------------------------------------------------------------------------------------------
class RunCreate(_In):
    run_id: str = Field(default_factory=lambda: uuid.uuid4().hex, pattern=r"^[0-9A-Za-z_-]{8,64}$")
    project: str
    name: str
    user: str | None = None
    config: dict[str, Any] = Field(default_factory=dict)
    tags: dict[str, str] = Field(default_factory=dict)
    notes: str | None = None
    context: dict[str, Any] = Field(default_factory=dict)
    start_time: JsonFloat | None = None
    # Continue the run ``run_id`` if it exists (``mltrail.init(id=…, resume=True)``), else start it.
    resume: bool = False


class MetricSummaryPublic(_Out):
    key: str
    last: JsonFloat
    last_step: int
    min: JsonFloat | None
    max: JsonFloat | None
    count: int

    @classmethod
    def of(cls, m: MetricSummary) -> MetricSummaryPublic:
        return cls(key=m.key, last=m.last, last_step=m.last_step, min=m.min, max=m.max, count=m.count)


class GitPublic(_Out):
    """The run's code version, from its captured context: small enough for every row of a runs list."""

    commit: str | None
    branch: str | None
    dirty: bool | None

    @classmethod
    def of(cls, context: dict[str, Any]) -> GitPublic | None:
        git = context.get("git")
        if not isinstance(git, dict):
            return None
        commit, branch, dirty = git.get("commit"), git.get("branch"), git.get("dirty")
        if not isinstance(commit, str) and not isinstance(branch, str):
            return None  # git capture was skipped (not a repository, git missing): its note is in context
        return cls(
            commit=commit if isinstance(commit, str) else None,
            branch=branch if isinstance(branch, str) else None,
            dirty=dirty if isinstance(dirty, bool) else None,
        )


class RunPublic(_Out):
    id: str
    project: str
    name: str
    status: RunStatus
    user: str | None
    start_time: JsonFloat
    end_time: JsonFloat | None
    heartbeat_at: JsonFloat | None
    duration: JsonFloat | None
    notes: str | None
    error: dict[str, str] | None
    params: dict[str, Any]
    tags: dict[str, str]
    summary: dict[str, Any]
    metrics: dict[str, MetricSummaryPublic]
    # None in search results (the captured context is large); the run itself carries it.
    context: dict[str, Any] | None
    # Commit, branch and dirty flag of ``context.git``, in search results too (null: git was not captured).
    git: GitPublic | None = None

    @classmethod
    def of(cls, run: Run, *, with_context: bool = True) -> RunPublic:
        return cls(
            id=run.id,
            project=run.project,
            name=run.name,
            status=run.status,
            user=run.user,
            start_time=run.start_time,
            end_time=run.end_time,
            heartbeat_at=run.heartbeat_at,
            duration=run.duration,
            notes=run.notes,
            error=run.error,
            params=run.params,
            tags=run.tags,
            summary=run.summary,
            metrics={k: MetricSummaryPublic.of(m) for k, m in run.metrics.items()},
            context=run.context if with_context else None,
            git=GitPublic.of(run.context),
        )


class ProjectKeysPublic(_Out):
    """The keys a project's runs use, per kind, sorted."""

    LIMIT: ClassVar[int] = 10_000
    params: list[str]
    metrics: list[str]
    tags: list[str]
    summary: list[str]


class RunPagePublic(_Out):
    runs: list[RunPublic]
    total: int
    offset: int
    limit: int

    @classmethod
    def of(cls, page: RunPage) -> RunPagePublic:
        runs = [RunPublic.of(r, with_context=False) for r in page.runs]
        return cls(runs=runs, total=page.total, offset=page.offset, limit=page.limit)


class NotesIn(_In):
    notes: str


class ParamsIn(_In):
    config: dict[str, Any]


class TagsIn(_In):
    tags: dict[str, str]


class SummaryIn(_In):
    values: dict[str, Any]


class ContextIn(_In):
    context: dict[str, Any]


class FinishIn(_In):
    status: RunStatus = RunStatus.FINISHED
    error: dict[str, str] | None = None
    end_time: JsonFloat | None = None


# -- metrics ------------------------------------------------------------------------------------------------
class MetricsBatchIn(_In):
    """Columnar points: point i is ``(keys[i], steps[i], values[i], wall_times[i])``.

    ``client_id`` and ``seq`` identify the batch; the server applies a given (run, client_id, seq) once.
    """

    keys: list[str]
    steps: list[int]
    values: list[JsonFloat]
    wall_times: list[JsonFloat]
    client_id: str = Field("", max_length=100)
    seq: int = Field(0, ge=0, le=INT64_MAX)

    def to_entity(self) -> MetricsBatch:
        return MetricsBatch(
            keys=self.keys,
            steps=self.steps,
            values=self.values,
            wall_times=self.wall_times,
            client_id=self.client_id,
            seq=self.seq,
        )


class MetricsAck(_Out):
    applied: bool  # False when this (client_id, seq) had been applied before
    points: int


class HistoryPublic(_Out):
    run_id: str
    key: str
    steps: list[int]
    values: list[JsonFloat]
    wall_times: list[JsonFloat]
    total_points: int
    downsampled: bool

    @classmethod
    def of(cls, h: MetricHistory) -> HistoryPublic:
        return cls(
            run_id=h.run_id,
            key=h.key,
            steps=h.steps,
            values=h.values,
            wall_times=h.wall_times,
            total_points=h.total_points,
            downsampled=h.downsampled,
        )


class ActivityUserPublic(_Out):
    runs: int
    seconds: float
    failed: int


class ActivityWeekPublic(_Out):
    week_start: float
    users: dict[str, ActivityUserPublic]


class ActivityPublic(_Out):
    """``GET /projects/{p}/activity``: per ISO week (newest first), per user (``(unknown)`` for none)."""

    since: float | None
    weeks: list[ActivityWeekPublic]

    @classmethod
    def of(cls, cells: list[ActivityCell], since: float | None) -> ActivityPublic:
        weeks: dict[float, dict[str, ActivityUserPublic]] = {}
        for c in cells:
            users = weeks.setdefault(c.week_start, {})
            name = c.user if c.user is not None else "(unknown)"
            had = users.get(name)  # a user named "(unknown)" and runs without a user add up
            users[name] = ActivityUserPublic(
                runs=c.runs + (had.runs if had else 0),
                seconds=c.seconds + (had.seconds if had else 0.0),
                failed=c.failed + (had.failed if had else 0),
            )
        return cls(since=since, weeks=[ActivityWeekPublic(week_start=w, users=u) for w, u in weeks.items()])


class HistoriesPublic(_Out):
    """``GET /metrics/history``: several runs' histories, run by run."""

    histories: list[HistoryPublic]


# -- datasets -----------------------------------------------------------------------------------------------
class DatasetIn(_In):
    """A ``Fingerprint``'s fields and the role the data played in the run."""

    name: str
    digest: str = Field(pattern=r"^[0-9a-f]{64}$")
    kind: Literal["file", "folder", "table"]
    source: str | None = None
    num_rows: int | None = Field(None, ge=0, le=INT64_MAX)
    num_bytes: int | None = Field(None, ge=0, le=INT64_MAX)
    columns: list[dict[str, Any]] = Field(default_factory=list, alias="schema")
    summary: dict[str, Any] = Field(default_factory=dict)
    role: str = "train"
    # the data's drift profile (stats.DatasetProfile bytes, base64): a monitor's default reference
    profile: str | None = Field(None, max_length=64 * 1024 * 1024)

    def fingerprint(self) -> Fingerprint:
        return Fingerprint(
            name=self.name,
            digest=self.digest,
            kind=self.kind,
            source=self.source,
            num_rows=self.num_rows,
            num_bytes=self.num_bytes,
            schema=self.columns,
            summary=self.summary,
            profile=None if self.profile is None else _profile_bytes(self.profile),
        )


def _profile_bytes(text: str) -> bytes:
    """The profile's bytes once they decode and parse as a ``DatasetProfile`` (else a 400 naming it)."""
    try:
        raw = base64.b64decode(text, validate=True)
        DatasetProfile.from_bytes(raw)
    except (ValueError, TypeError, KeyError, AttributeError, RuntimeError) as exc:
        raise InvalidInputError(f"profile is not a dataset profile: {exc}", field="profile") from exc
    return raw


class DatasetVersionPublic(_Out):
    id: int
    project: str
    name: str
    version: int
    digest: str
    source: str | None
    kind: str
    num_rows: int | None
    num_bytes: int | None
    columns: list[dict[str, Any]] = Field(alias="schema")
    summary: dict[str, Any]
    created_at: JsonFloat

    @classmethod
    def of(cls, d: DatasetVersion) -> DatasetVersionPublic:
        return cls(
            id=d.id,
            project=d.project,
            name=d.name,
            version=d.version,
            digest=d.digest,
            source=d.source,
            kind=d.kind,
            num_rows=d.num_rows,
            num_bytes=d.num_bytes,
            schema=d.schema,
            summary=d.summary,
            created_at=d.created_at,
        )


class DatasetLinkPublic(_Out):
    run_id: str
    role: str
    dataset: DatasetVersionPublic

    @classmethod
    def of(cls, link: DatasetLink) -> DatasetLinkPublic:
        return cls(run_id=link.run_id, role=link.role, dataset=DatasetVersionPublic.of(link.dataset))


# -- artifacts ----------------------------------------------------------------------------------------------
class PresignedPublic(_Out):
    """Where to read a file's bytes straight from the object store (``?presign=true`` on a download
    route): ``url`` works without credentials for ``expires_in`` seconds; the reader checks ``sha256``."""

    url: str
    sha256: str
    size: int
    expires_in: int


class ArtifactPublic(_Out):
    run_id: str
    path: str
    digest: str
    size: int
    created_at: JsonFloat
    # What the name suggests (``content_types``): the UI picks its preview by it.
    content_type: str

    @classmethod
    def of(cls, a: Artifact) -> ArtifactPublic:
        return cls(
            run_id=a.run_id,
            path=a.path,
            digest=a.digest,
            size=a.size,
            created_at=a.created_at,
            content_type=content_type(a.path),
        )
