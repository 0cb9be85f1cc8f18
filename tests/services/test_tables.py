"""Evaluation tables through the services: pages with filter, sort, offset and columns, and bad input."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from mltrail.errors import InvalidFilterError, InvalidInputError, NotFoundError
from mltrail.services.container import Services
from mltrail.services.tracking.table_data import predictions_table, to_arrow, to_parquet
from mltrail.settings import Settings


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    built = Services(Settings(home=tmp_path / "store"))
    yield built
    built.close()


@pytest.fixture
def run_id(services: Services) -> str:
    run = services.tracking.start_run(
        run_id="r" * 32, project="p", name="r", user=None, config={}, tags={}, context={}, start_time=1.0
    )
    return run.id


def _table(n: int) -> pa.Table:
    rng = np.random.default_rng(5)
    score = rng.normal(size=n)
    score[::97] = np.nan
    return pa.table(
        {
            "id": np.arange(n),
            "score": score,
            "city": pa.array([None if i % 50 == 0 else ["lyon", "paris", "nice"][i % 3] for i in range(n)]),
        }
    )


def test_pages_filter_and_sort_without_reading_everything(services: Services, run_id: str) -> None:
    n = 5_000  # more rows than a row group holds (2,048): pages cross groups
    data = _table(n)
    tables = services.tables
    logged = tables.log(run_id, "eval", to_parquet(data))
    assert (logged.rows, [c.name for c in logged.columns]) == (n, ["id", "score", "city"])
    page = tables.page(run_id, "eval", offset=2_040, limit=20)
    assert page.total == n and [r[0] for r in page.rows] == list(range(2_040, 2_060))
    assert tables.page(run_id, "eval", offset=n + 5).rows == []

    frame = data.to_pandas()
    page = tables.page(run_id, "eval", filter='city = "lyon" and score > 0', sort=["-score"], limit=10)
    expected = frame[(frame.city == "lyon") & (frame.score > 0)].sort_values("score", ascending=False)
    assert page.total == len(expected)
    assert [r[0] for r in page.rows] == expected.id.tolist()[:10]

    # Ascending with missing values last, ties in table order; the next pages come from the cached order.
    order = frame.assign(missing=frame.score.isna()).sort_values(["missing", "score", "id"], kind="stable")
    seen = []
    for offset in (0, 1_000, 4_900):
        seen += [r[0] for r in tables.page(run_id, "eval", sort=["score"], offset=offset, limit=100).rows]
    assert seen == order.id.tolist()[:100] + order.id.tolist()[1_000:1_100] + order.id.tolist()[4_900:5_000]
    assert np.isnan(tables.page(run_id, "eval", sort=["score"], offset=n - 1, limit=1).rows[0][1])

    by_text = tables.page(run_id, "eval", sort=["city desc", "-id"], columns=["city", "id"], limit=3)
    assert [c.name for c in by_text.columns] == ["city", "id"]
    paris = frame[frame.city == "paris"].id.tolist()
    assert by_text.rows == [["paris", i] for i in sorted(paris, reverse=True)[:3]]
    missing = tables.page(run_id, "eval", filter="city = null", limit=1_000)
    assert missing.total == len(range(0, n, 50))
    kept = tables.page(run_id, "eval", filter='city in ("nice", null) and not score < 0', limit=0)
    assert kept.total == int(((frame.city.isna() | (frame.city == "nice")) & ~(frame.score < 0)).sum())


def test_bad_filters_and_arguments_name_their_field(services: Services, run_id: str) -> None:
    services.tables.log(run_id, "eval", to_parquet(_table(10)))
    page = services.tables.page
    with pytest.raises(InvalidFilterError, match="no column 'ctiy' — did you mean 'city'"):
        page(run_id, "eval", filter='ctiy = "x"')
    with pytest.raises(InvalidInputError, match="put the value in quotes") as text:
        page(run_id, "eval", filter="city = 3")
    assert text.value.field == "filter"
    with pytest.raises(InvalidInputError, match="is a number") as number:
        page(run_id, "eval", filter='score > "a"')
    assert number.value.field == "filter"
    with pytest.raises(InvalidInputError) as cols:
        page(run_id, "eval", columns=["nope"])
    assert cols.value.field == "columns"
    with pytest.raises(InvalidInputError) as limit:
        page(run_id, "eval", limit=1_001)
    assert limit.value.field == "limit"
    with pytest.raises(NotFoundError):
        page(run_id, "other")


def test_bad_tables_are_refused_and_nothing_is_kept(services: Services, run_id: str) -> None:
    log = services.tables.log
    with pytest.raises(InvalidInputError, match="not a readable Parquet") as bad:
        log(run_id, "eval", b"PAR1 not really")
    assert bad.value.field == "data"
    with pytest.raises(InvalidInputError) as name:
        log(run_id, "../x", to_parquet(_table(3)))
    assert name.value.field == "name"
    dup = pa.table({"id": [1, 1], "y_true": [0, 1], "y_pred": [0, 0]})
    with pytest.raises(InvalidInputError, match="ids must be unique") as ids:
        log(run_id, "val", to_parquet(dup), kind="predictions")
    assert ids.value.field == "ids"
    with pytest.raises(InvalidInputError) as missing:
        log(run_id, "val", to_parquet(pa.table({"id": [1], "y_true": [0]})), kind="predictions")
    assert missing.value.field == "y_pred"
    with pytest.raises(NotFoundError):
        log("0" * 32, "eval", to_parquet(_table(3)))
    assert services.tables.list(run_id) == []


@pytest.mark.slow
def test_a_table_of_10000_columns(services: Services, run_id: str) -> None:
    tables = services.tables
    wide = tables.log(run_id, "wide", to_parquet(to_arrow({f"c{i}": [i, i + 1] for i in range(10_000)})))
    assert len(wide.columns) == 10_000
    page = tables.page(run_id, "wide", filter="c9999 > 9999", columns=["c0", "c9999"])
    assert page.rows == [[1, 10_000]]


def test_empty_and_non_utf8_tables(services: Services, run_id: str) -> None:
    tables = services.tables
    empty = tables.log(run_id, "empty", to_parquet(pa.table({"a": pa.array([], pa.int64())})))
    assert empty.rows == 0 and tables.page(run_id, "empty", sort=["-a"], filter="a > 1").rows == []
    raw = to_arrow([{"text": "caf\udce9", "blob": b"\xff\xfeok"}, {"text": "ok", "blob": None}])
    tables.log(run_id, "bytes", to_parquet(raw))
    rows = tables.page(run_id, "bytes", sort=["text"]).rows
    assert rows == [["caf\\xe9", "\\xff\\xfeok"], ["ok", None]]
    zero = predictions_table([], np.array([], dtype=int), np.array([], dtype=int))
    summary = tables.log(run_id, "val", to_parquet(zero), kind="predictions").summary
    assert summary["rows"] == 0 and summary["confusion"] == []


def test_a_changed_blob_is_refused_when_opened_and_again_after_it_left_the_cache(
    services: Services, run_id: str
) -> None:
    """A table's file is checked against its sha256 when this process first opens it, whatever the reader
    (pages, or dictionary reads for ``runs samples``), and again once evicted from the open files."""
    from mltrail.errors import IntegrityError
    from mltrail.services.tracking.tables import TableService

    first = services.tables.log(run_id, "first", to_parquet(_table(50)))
    second = services.tables.log(run_id, "second", to_parquet(_table(60)))
    tables = TableService(services.tables.store, services.tables.blobs, services.tables.runs, open_files=1)
    tables.parquet(first)
    tables.parquet(first, read_dictionary=["id"])  # the same file read another way: checked once
    path = Path(str(services.tables.blobs.local_path(first.digest)))
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.chmod(0o644)
    path.write_bytes(bytes(data))
    tables.parquet(first)  # still open (checked before the change): as a long-running reader keeps it
    tables.parquet(second)  # evicts the first file
    with pytest.raises(IntegrityError, match="sha256"):
        tables.parquet(first, read_dictionary=["id"])
    with pytest.raises(IntegrityError, match="sha256"):
        TableService(services.tables.store, services.tables.blobs, services.tables.runs).parquet(first)


def test_pages_read_files_held_in_memory_checked_and_bounded(services: Services, run_id: str) -> None:
    """Pages read a table's file from its bytes held in memory (4x faster than through a mapping here):
    checked against the sha256 when read, again once the byte budget let them go, and a file bigger than
    the per-file bound is read through the mapping as before."""
    from mltrail.errors import IntegrityError
    from mltrail.services.tracking.tables import TableService

    first = services.tables.log(run_id, "first", to_parquet(_table(2_000)))
    second = services.tables.log(run_id, "second", to_parquet(_table(3_000)))
    budget = max(first.size, second.size) + 1  # room for one of them
    tables = TableService(
        services.tables.store, services.tables.blobs, services.tables.runs, memory_bytes=budget
    )
    expected = services.tables.page(run_id, "first", sort=["-score"], filter='city = "lyon"', limit=20)
    got = tables.page(run_id, "first", sort=["-score"], filter='city = "lyon"', limit=20)
    assert (got.rows, got.total) == (expected.rows, expected.total)
    assert list(tables._buffers) == [first.digest]
    tables.page(run_id, "second", limit=5)
    assert list(tables._buffers) == [second.digest]  # the first left: over the budget together

    path = Path(str(services.tables.blobs.local_path(first.digest)))
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.chmod(0o644)
    path.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match="sha256"):  # read into memory again: checked again
        tables.page(run_id, "first", limit=5)
    small = TableService(
        services.tables.store, services.tables.blobs, services.tables.runs, memory_file_bytes=10
    )
    with pytest.raises(IntegrityError, match="sha256"):  # too big to hold: mapped, and checked too
        small.page(run_id, "first", limit=5)
    assert small.page(run_id, "second", limit=5).rows and not small._buffers


def test_pages_deep_in_a_sorted_view_are_the_full_sorts_pages(services: Services, run_id: str) -> None:
    """A page far into a sorted view is found without sorting the rows before it: on ties, infinities,
    missing values, two keys and a filter, every page is the one a full stable sort gives."""
    rng = np.random.default_rng(41)
    n = 12_000
    level = rng.integers(0, 6, n).astype(float)  # heavy ties
    level[rng.random(n) < 0.05] = np.nan
    level[rng.random(n) < 0.01] = np.inf
    level[rng.random(n) < 0.01] = -np.inf
    data = pa.table(
        {
            "id": np.arange(n),
            "level": level,
            "x": rng.normal(size=n).round(1),
            "y": rng.normal(size=n),
            "city": pa.array([None if i % 41 == 0 else ["lyon", "paris", "nice"][i % 3] for i in range(n)]),
        }
    )
    services.tables.log(run_id, "deep", to_parquet(data))
    frame = data.to_pandas()
    views: list[tuple[str | None, list[str], Any]] = [
        (
            None,
            ["level"],
            frame.assign(m=frame.level.isna()).sort_values(["m", "level", "id"], kind="stable"),
        ),
        (
            None,
            ["-level", "x"],
            frame.assign(m=frame.level.isna(), neg=-frame.level, mx=frame.x.isna()).sort_values(
                ["m", "neg", "mx", "x", "id"], kind="stable"
            ),
        ),
        (None, ["city"], frame.assign(m=frame.city.isna()).sort_values(["m", "city", "id"], kind="stable")),
        (
            None,
            ["level", "-y"],
            frame.assign(m=frame.level.isna(), ny=-frame.y).sort_values(
                ["m", "level", "ny", "id"], kind="stable"
            ),
        ),
        (
            "x > 0",
            ["city", "-x"],
            frame[frame.x > 0]
            .assign(m=frame.city.isna(), negx=-frame.x)
            .sort_values(["m", "city", "negx", "id"], kind="stable"),
        ),
    ]
    for filter_text, sort, expected in views:
        ids = expected.id.tolist()
        for offset in (0, 999, 1_000, 2_500, 7_777, len(ids) - 3, len(ids) + 10):
            services.tables.orders = type(services.tables.orders)()  # a fresh process's cache
            for step in (0, 50):  # this page, then the next one from the cache
                page = services.tables.page(
                    run_id, "deep", filter=filter_text, sort=sort, offset=offset + step, limit=50
                )
                assert page.total == len(ids)
                got = [r[0] for r in page.rows]
                assert got == ids[offset + step : offset + step + 50], (filter_text, sort, offset, step)


def test_text_read_as_dictionaries_filters_and_sorts_as_text() -> None:
    """A text column the view names is read as Parquet's dictionaries (each row group its own): every
    filter and sort gives the rows the plain text gives, missing values included."""
    import io

    import pyarrow.parquet as pq

    from mltrail.query import parse_table_filter, parse_table_sorts
    from mltrail.services.tracking.table_pages import row_order

    rng = np.random.default_rng(43)
    n = 3_000
    words = np.array(["lyon", "Paris", "nice", "été", "", "lyon-sud"], dtype=object)
    city = words[rng.integers(0, len(words), n)]
    city[rng.random(n) < 0.1] = None
    data = pa.table({"id": np.arange(n), "city": pa.array(city, pa.string()), "x": rng.normal(size=n)})
    buffer = io.BytesIO()
    pq.write_table(data, buffer, row_group_size=256)  # 12 row groups: 12 dictionaries to unify
    plain = pq.ParquetFile(pa.BufferReader(buffer.getvalue()))
    coded = pq.ParquetFile(pa.BufferReader(buffer.getvalue()), read_dictionary=["city"])
    assert pa.types.is_dictionary(coded.read(columns=["city"]).column("city").type)
    known = {"id", "city", "x"}
    filters = [
        'city = "lyon"',
        'city != "lyon"',
        'city < "nice"',
        'city >= "lyon"',
        'city in ("nice", "été")',
        'city in ("nice", null)',
        'city not in ("nice", "lyon")',
        'city contains "lyon"',
        "city = null",
        "city != null",
        'not city = "Paris" and x > 0',
        'city = "lyon" or x < -1',
        'city = "nowhere"',
    ]

    def rows(parquet: pq.ParquetFile, *args: Any) -> list[int]:
        found = row_order(parquet, *args)[0]
        assert found is not None
        listed: list[int] = found.tolist()
        return listed

    for text in filters:
        expr = parse_table_filter(text, known)
        assert rows(coded, expr, [], n) == rows(plain, expr, [], n), text
    for sort in (["city"], ["-city", "x"], ["city", "-id"]):
        keys = parse_table_sorts(sort, known)
        for start, want in ((0, n), (0, 40), (1_500, 1_600)):
            assert rows(coded, None, keys, want, start) == rows(plain, None, keys, want, start), (sort, start)
