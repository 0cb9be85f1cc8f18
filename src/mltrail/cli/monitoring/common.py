"""What the ``mltrail monitor`` commands share: the monitoring client, data files read in batches, periods,
JSON."""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import orjson
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import typer

from mltrail.cli.context import services
from mltrail.cli.registry.common import default_user
from mltrail.entities import Alert, Monitor
from mltrail.errors import InvalidInputError
from mltrail.sdk.monitoring.client import MonitorClient
from mltrail.sdk.monitoring.client import alerts_of_period as _of_period
from mltrail.services.accounts.audit import parse_time
from mltrail.services.monitoring.alerts import report_alert

__all__ = [
    "DataFile",
    "MonitorArg",
    "alerts_of_period",
    "echo_report_json",
    "granularity_of",
    "monitoring",
    "open_data",
    "period",
    "utc_window",
    "with_alerts",
]

MonitorArg = Annotated[str, typer.Argument(metavar="NAME", help="The monitor's name.")]
_BATCH_ROWS = 50_000
_GRANULARITY = {"1d": "day", "d": "day", "day": "day", "1h": "hour", "h": "hour", "hour": "hour"}


def monitoring(ctx: typer.Context, user: str | None = None) -> MonitorClient:
    """The monitors where the command acts: the database directly (as ``user``, default ``MLTRAIL_USER`` or
    the operating-system user) or the team server (as the API key's user)."""
    return services(ctx).connection().monitoring.as_user((user or "").strip() or default_user(ctx))


@dataclass(frozen=True)
class DataFile:
    """A Parquet or CSV file read batch by batch; ``rows`` is exact for Parquet, counted lines for CSV."""

    path: Path
    rows: int | None
    columns: tuple[str, ...]

    def batches(self, columns: Sequence[str] | None = None) -> Iterator[pa.RecordBatch]:
        if self.path.suffix.lower() in (".csv", ".tsv"):
            options = pacsv.ReadOptions(block_size=8 << 20)
            parse = pacsv.ParseOptions(delimiter="\t" if self.path.suffix.lower() == ".tsv" else ",")
            include = None if columns is None else list(columns)
            convert = pacsv.ConvertOptions(include_columns=include)
            with pacsv.open_csv(
                self.path, read_options=options, parse_options=parse, convert_options=convert
            ) as reader:
                yield from reader
            return
        yield from pq.ParquetFile(self.path).iter_batches(batch_size=_BATCH_ROWS, columns=columns)


def open_data(path: Path, *, field: str = "file") -> DataFile:
    """A readable Parquet or CSV file, else ``InvalidInputError`` naming ``field``."""
    path = path.expanduser()
    if not path.is_file():
        raise InvalidInputError(f"{path} is not a file", field=field)
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".tsv"):
            with pacsv.open_csv(
                path,
                parse_options=pacsv.ParseOptions(delimiter="\t" if suffix == ".tsv" else ","),
            ) as reader:
                names = tuple(reader.schema.names)
            return DataFile(path, _count_lines(path), names)
        if suffix in (".parquet", ".pq"):
            meta = pq.ParquetFile(path)
            return DataFile(path, meta.metadata.num_rows, tuple(meta.schema_arrow.names))
    except (pa.ArrowException, OSError) as exc:
        raise InvalidInputError(f"cannot read {path}: {exc}", field=field) from None
    raise InvalidInputError(f"{path}: give a .parquet or .csv file", field=field)


def _count_lines(path: Path) -> int | None:
    """Data rows of a CSV for the progress bar (quoted newlines make it an estimate)."""
    count, last = 0, b"\n"
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    count += last != b"\n"
    return max(0, count - 1)


def granularity_of(window: str | None) -> str | None:
    if window is None:
        return None
    try:
        return _GRANULARITY[window.strip().lower()]
    except KeyError:
        raise InvalidInputError(f"--window must be 1d or 1h, got {window!r}", field="window") from None


def period(
    last: str | None, since: str | None, until: str | None, now: float | None = None
) -> tuple[float | None, float | None]:
    """[since, until) in epoch seconds; ``--since`` wins over ``--last``; read as in ``mltrail audit``."""
    now = time.time() if now is None else now
    end = parse_time(until, now, field="until")
    start = parse_time(since, now, field="since")
    if start is None and last:
        start = parse_time(last if last[-1:].isalpha() else f"{last}d", end or now, field="last")
    if start is not None and end is not None and start >= end:
        raise InvalidInputError("--since must be before --until", field="since")
    return start, end


def utc_window(start: float | None, granularity: str) -> str:
    """A window's start as a UTC date (``2025-12-01``), with the hour for hourly windows."""
    if start is None or not math.isfinite(start):
        return "-"
    when = dt.datetime.fromtimestamp(start, tz=dt.UTC)
    return when.strftime("%Y-%m-%d %H:%M" if granularity == "hour" else "%Y-%m-%d")


def alerts_of_period(
    client: MonitorClient, monitor: Monitor, since: float | None, until: float | None
) -> list[Alert]:
    """The monitor's alerts still open or acknowledged, and the resolved ones of a window in the period."""
    return _of_period(client.list_alerts(monitor, None, 1000), since, until)


def with_alerts(report: dict[str, Any], alerts: Sequence[Alert], monitor: Monitor) -> dict[str, Any]:
    """The report with its alerts in the shape the HTML report reads (``report_alert``)."""
    return {**report, "alerts": [report_alert(a, monitor) for a in alerts]}


def _default(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if isinstance(value, Mapping):
        return dict(value)
    return str(value)


def echo_report_json(value: Any) -> None:
    """A report as one JSON document: numpy values as numbers, NaN and infinity as null (like the API)."""
    option = orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
    typer.echo(orjson.dumps(value, default=_default, option=option).decode())
