"""``mltrail.runs`` and ``mltrail.run``: finished (or running) runs as Python objects, from the embedded
store or a team server through the same seam (``mltrail.connect``)::

    best = mltrail.runs("churn", filter="metrics.val/acc > 0.9", sort="-metrics.val/acc", limit=10)
    best[0].params["lr"], best[0].metrics["val/acc"], best[0].history("val/loss").values
    best.to_pandas()  # one row per run: params.lr, metrics.val/acc, tags.team, summary.best, …
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

from mltrail.entities import Artifact, DatasetLink, MetricHistory, MetricSummary, Run, RunStatus, Value
from mltrail.errors import InvalidInputError, NotFoundError

if TYPE_CHECKING:
    import pandas

    from mltrail.sdk.tracking.reader import RunReader

__all__ = ["RunView", "Runs", "run", "runs"]

PAGE = 1000  # the largest page the store and the API hand out


class RunView:
    """One run as recorded: ``id, name, project, user, status, start_time, end_time, duration, params,
    tags, summary, metrics`` (each metric's last value; ``metric_summaries`` has last, min, max, count),
    ``notes``, ``error``, ``context``; ``history(key)``, ``artifacts()``, ``artifact(path)``,
    ``download(path, to)`` and ``datasets()`` read more from where the run lives."""

    __slots__ = ("_reader", "_run")

    def __init__(self, run: Run, reader: RunReader) -> None:
        self._run = run
        self._reader = reader

    # -- what the run recorded --------------------------------------------------------------------------
    @property
    def id(self) -> str:
        return self._run.id

    @property
    def name(self) -> str:
        return self._run.name

    @property
    def project(self) -> str:
        return self._run.project

    @property
    def user(self) -> str | None:
        return self._run.user

    @property
    def status(self) -> RunStatus:
        return self._run.status

    @property
    def start_time(self) -> float:
        """Epoch seconds."""
        return self._run.start_time

    @property
    def end_time(self) -> float | None:
        return self._run.end_time

    @property
    def duration(self) -> float | None:
        """Seconds from start to end (to the last heartbeat while running)."""
        return self._run.duration

    @property
    def params(self) -> dict[str, Value]:
        return dict(self._run.params)

    @property
    def tags(self) -> dict[str, str]:
        return dict(self._run.tags)

    @property
    def summary(self) -> dict[str, Value]:
        return dict(self._run.summary)

    @property
    def metrics(self) -> dict[str, float]:
        """Each metric's last value."""
        return {key: m.last for key, m in self._run.metrics.items()}

    @property
    def metric_summaries(self) -> dict[str, MetricSummary]:
        return dict(self._run.metrics)

    @property
    def notes(self) -> str | None:
        return self._run.notes

    @property
    def error(self) -> dict[str, str] | None:
        return self._run.error

    @property
    def context(self) -> dict[str, Any]:
        """Git, code, command and environment as captured (empty in ``mltrail.runs`` listings: use
        ``mltrail.run(id)`` for one run's context)."""
        return self._run.context

    @property
    def entity(self) -> Run:
        """The underlying ``mltrail.entities.Run``."""
        return self._run

    # -- reading more -----------------------------------------------------------------------------------
    def history(
        self,
        key: str,
        max_points: int | None = None,
        min_step: int | None = None,
        max_step: int | None = None,
    ) -> MetricHistory:
        """A metric's points (``steps``, ``values``, ``wall_times``); ``max_points`` downsamples keeping
        each bucket's min and max."""
        return self._reader.history(self.id, key, max_points, min_step=min_step, max_step=max_step)

    def artifacts(self, prefix: str | None = None) -> list[Artifact]:
        return self._reader.artifacts(self.id, prefix)

    def artifact(self, path: str) -> bytes:
        """A (small) artifact's bytes, verified against its sha256."""
        return self._reader.read_artifact(self.id, path)

    def download(self, path: str, to: str | Path = ".") -> Path:
        """An artifact or a folder of them into the folder ``to`` (created if missing), verified; returns
        the file or folder written."""
        folder = Path(to)
        folder.mkdir(parents=True, exist_ok=True)
        return self._reader.download(self.id, path, folder)

    def datasets(self) -> list[DatasetLink]:
        return self._reader.datasets(self.id)

    def to_dict(self) -> dict[str, Any]:
        """One flat row: the run's fields, then ``params.…``, ``metrics.…`` (last values), ``tags.…`` and
        ``summary.…``."""
        row: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "project": self.project,
            "user": self.user,
            "status": self.status.value,
            "start_time": self.start_time,
            "end_time": self.end_time,
            "duration": self.duration,
        }
        for prefix, values in (
            ("params", self._run.params),
            ("metrics", self.metrics),
            ("tags", self._run.tags),
            ("summary", self._run.summary),
        ):
            row.update({f"{prefix}.{key}": value for key, value in values.items()})
        return row

    def __repr__(self) -> str:
        fields = f"id={self.id[:12]!r}, name={self.name!r}, project={self.project!r}"
        return f"RunView({fields}, status={self.status.value!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RunView) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)


class Runs(Sequence[RunView]):
    """The runs ``mltrail.runs`` found, in order; ``total`` is how many matched (beyond ``limit`` too)."""

    def __init__(self, items: list[RunView], total: int) -> None:
        self._items = items
        self.total = total

    @overload
    def __getitem__(self, index: int) -> RunView: ...

    @overload
    def __getitem__(self, index: slice) -> list[RunView]: ...

    def __getitem__(self, index: int | slice) -> RunView | list[RunView]:
        return self._items[index]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[RunView]:
        return iter(self._items)

    def __repr__(self) -> str:
        return f"Runs({len(self)} of {self.total})"

    def to_pandas(self) -> pandas.DataFrame:
        """One row per run with flat columns (``id``, ``name``, …, ``params.lr``, ``metrics.val/acc``, …);
        needs pandas."""
        try:
            import pandas
        except ImportError as exc:
            raise ImportError(
                "Runs.to_pandas() needs pandas, which is not installed: pip install pandas"
            ) from exc
        rows = [r.to_dict() for r in self._items]
        columns: dict[str, None] = {}
        for row in rows:
            columns.update(dict.fromkeys(row))
        return pandas.DataFrame(rows, columns=list(columns))


def _reader(server: str | None, api_key: str | None) -> RunReader:
    """The runs of ``connect(server, api_key)``; an embedded SQLite file that does not exist is a
    ``NotFoundError`` rather than a new, empty database in the working directory."""
    from mltrail.sdk.client.connection import connect

    connection = connect(server, api_key)
    url = connection.settings.db_url
    if connection.embedded and url.startswith("sqlite:///") and ":memory:" not in url:
        path = Path(url.removeprefix("sqlite:///").split("?", 1)[0])
        if not path.exists():
            raise NotFoundError(
                f"no mltrail database at {path}: set MLTRAIL_DIR (or MLTRAIL_DB), or MLTRAIL_SERVER or "
                "server= for a team server"
            )
    return connection.runs


def runs(
    project: str,
    filter: str | None = None,
    sort: str | Sequence[str] | None = None,
    limit: int = 100,
    *,
    server: str | None = None,
    api_key: str | None = None,
) -> Runs:
    """A project's runs, newest first unless ``sort`` says otherwise, at most ``limit`` of them.

    ``filter`` and ``sort`` are the filter language of ``mltrail runs list`` (docs/FILTERS.md), e.g.
    ``filter="metrics.acc > 0.9 and params.opt = 'adam'"``, ``sort="-metrics.acc"`` or a list of keys. Where
    the runs are read is decided as for ``mltrail.init``: ``server`` (``""`` forces the embedded store),
    else ``MLTRAIL_SERVER`` or the server of ``mltrail login``, else the embedded store.
    """
    if limit < 1:
        raise InvalidInputError("limit must be at least 1", field="limit")
    keys = [sort] if isinstance(sort, str) else list(sort or [])
    reader = _reader(server, api_key)
    found: list[RunView] = []
    total = 0
    while len(found) < limit:
        page = reader.search(
            project, filter=filter, sort=keys, offset=len(found), limit=min(PAGE, limit - len(found))
        )
        total = page.total
        found.extend(RunView(r, reader) for r in page.runs)
        if not page.runs or len(found) >= total:
            break
    return Runs(found, total)


def run(
    ref: str, project: str | None = None, *, server: str | None = None, api_key: str | None = None
) -> RunView:
    """One run by id, unique id prefix (4+ characters) or unique name (within ``project``, if given), with
    its captured context; read where ``mltrail.runs`` reads."""
    reader = _reader(server, api_key)
    return RunView(reader.get(ref, project), reader)
