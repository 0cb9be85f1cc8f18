"""Run search: the filter AST compiled to EXISTS subqueries, sorts via outer joins, pages loaded in bulk."""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from mltrail.entities import RunPage, SortKey
from mltrail.errors import InvalidInputError
from mltrail.query_ast import ATTRIBUTES, NAMESPACES, And, Comparison, Exists, Expr, FieldRef, Not, Or, Scalar
from mltrail.store.sql import schema as t
from mltrail.store.sql.core import SqlBase, reads
from mltrail.store.sql.loading import RUN_COLUMNS, load_runs
from mltrail.store.sql.metric_sort import metric_sorted_rows

__all__ = ["SearchMixin", "compile_filter"]

Cond = ColumnElement[bool]
_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_METRIC_AGGS = ("last", "min", "max")
# Above this many terms, PostgreSQL plans a search in the order the filter is written (see search_runs).
COLLAPSE_ABOVE = 8
_STRING_ATTRS = ("id", "name", "status", "user", "git.commit", "git.branch")


def _bad(message: str, field: str = "filter") -> InvalidInputError:
    return InvalidInputError(message, field=field)


def _number(value: Scalar) -> float | None:
    """The numeric form of a literal (bools are 1/0), or None for strings and null."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        try:
            return float(value)
        except OverflowError:  # an integer literal beyond the float range compares like ±infinity
            return math.inf if value > 0 else -math.inf
    return None


class _Compiler:
    """Compiles one filter for one dialect; every literal becomes a bound parameter."""

    def __init__(self, dialect: str, project: str) -> None:
        self.dialect = dialect
        self.project = project
        self.runs = t.runs

    def compile(self, expr: Expr) -> Cond:
        if isinstance(expr, And):
            return sa.and_(sa.true(), *(self.compile(item) for item in expr.items))
        if isinstance(expr, Or):
            return sa.or_(sa.false(), *(self.compile(item) for item in expr.items))
        if isinstance(expr, Not):
            return sa.not_(self.compile(expr.item))
        if isinstance(expr, Exists):
            return self._exists(expr.field)
        if isinstance(expr, Comparison):
            return self._comparison(expr)
        raise _bad(f"unknown filter node {type(expr).__name__}")

    # -- pieces ----------------------------------------------------------------------------------------
    def _contains(self, column: Any, text: str) -> Cond:
        # Case-sensitive substring on both dialects (LIKE is case-insensitive on SQLite).
        func = sa.func.instr if self.dialect == "sqlite" else sa.func.strpos
        return sa.and_(column.is_not(None), func(column, sa.literal(text, sa.Text)) > 0)

    def _keyed(self, table: sa.Table, key: str, cond: Cond) -> Cond:
        return sa.exists().where(table.c.run_id == self.runs.c.id, table.c.key == key, cond)

    def _exists(self, ref: FieldRef) -> Cond:
        if ref.namespace == "attr":
            column = self._attr_column(ref.key)
            return sa.true() if column is None else column.is_not(None)
        table = self._table(ref.namespace)
        return sa.exists().where(table.c.run_id == self.runs.c.id, table.c.key == ref.key)

    def _table(self, namespace: str) -> sa.Table:
        tables = {"params": t.params, "summary": t.summaries, "tags": t.tags, "metrics": t.metric_keys}
        if namespace not in tables:
            raise _bad(f"unknown namespace {namespace!r}: use one of {', '.join(NAMESPACES)}")
        return tables[namespace]

    def _attr_column(self, key: str) -> Any:
        r = self.runs.c
        columns: dict[str, Any] = {
            "id": r.id,
            "name": r.name,
            "status": r.status,
            "user": r.user,
            "start_time": r.start_time,
            "end_time": r.end_time,
            "duration": sa.func.coalesce(r.end_time, r.heartbeat_at) - r.start_time,
            "project": None,
            "git.commit": self._context_text(r.context, "git", "commit"),
            "git.branch": self._context_text(r.context, "git", "branch"),
        }
        if key not in columns:
            raise _bad(f"unknown attribute {key!r}: use one of {', '.join(ATTRIBUTES)}")
        return columns[key]

    def _context_text(self, context: Any, *path: str) -> Any:
        """A text field of the run's context (a JSON object in a text column); NULL when absent."""
        if self.dialect == "sqlite":
            text = sa.func.json_extract(context, "$." + ".".join(path))
            # json_extract gives numbers and booleans as such: only strings are text here, as in GitPublic.
            return sa.case((sa.func.json_type(context, "$." + ".".join(path)) == "text", text), else_=None)
        # PostgreSQL: the same rule through jsonb (->> would turn a number into its text). Imported here: the
        # PostgreSQL dialect and its drivers cost an SQLite store's command ~50 ms to import.
        from sqlalchemy.dialects.postgresql import JSONB

        node: Any = sa.cast(context, JSONB)
        for part in path[:-1]:
            node = node.op("->")(part)
        is_text = sa.func.jsonb_typeof(node.op("->")(path[-1])) == "string"
        return sa.case((is_text, node.op("->>")(path[-1])), else_=None)

    def _comparison(self, cmp: Comparison) -> Cond:
        ref, op = cmp.field, cmp.op
        if op in ("in", "not_in"):
            values = cmp.value if isinstance(cmp.value, tuple) else (cmp.value,)
        elif isinstance(cmp.value, tuple):
            raise _bad(f"operator {op!r} takes one value, not a list")
        else:
            values = (cmp.value,)
        if op not in _OPS and op not in ("in", "not_in", "contains"):
            raise _bad(f"unknown operator {op!r}")
        if op == "contains" and not isinstance(values[0], str):
            raise _bad(f"'contains' needs a string, got {values[0]!r}")
        if ref.agg != "last" and ref.namespace != "metrics":
            raise _bad(f"{ref.agg}() applies to metrics only, not {ref}")
        if ref.namespace == "attr":
            return self._attr_comparison(ref.key, op, values)
        table = self._table(ref.namespace)
        if ref.namespace == "metrics":
            if ref.agg not in _METRIC_AGGS:
                raise _bad(f"unknown aggregate {ref.agg!r}: use last, min or max")
            return self._keyed(table, ref.key, self._match_number(table.c[ref.agg], op, values, str(ref)))
        if ref.namespace == "tags":
            return self._keyed(table, ref.key, self._match_text(table.c.value, op, values))
        return self._keyed(table, ref.key, self._match_typed(table, op, values))

    def _match_number(self, column: Any, op: str, values: tuple[Scalar, ...], name: str) -> Cond:
        numbers = [_number(v) for v in values]
        if any(n is None for n in numbers) or op == "contains":
            raise _bad(f"{name} is numeric: compare it with numbers")
        # NaN is stored as NULL (the key's row exists): `= nan` finds it, `!= nan` finds numbers, and NaN
        # is neither smaller nor larger than anything.
        real = [n for n in numbers if n is not None and not math.isnan(n)]
        want_nan = len(real) < len(numbers)
        present: Cond = column.is_not(None)
        if op == "in":
            found = sa.and_(present, column.in_(real)) if real else sa.false()
            return sa.or_(found, column.is_(None)) if want_nan else found
        if op == "not_in":
            return sa.and_(present, column.not_in(real)) if real else present
        if want_nan:
            is_nan: Cond = column.is_(None)
            if op == "=":
                return is_nan
            return present if op == "!=" else sa.false()
        return sa.and_(present, _OPS[op](column, real[0]))

    def _match_text(self, column: Any, op: str, values: tuple[Scalar, ...]) -> Cond:
        texts = [_text(v) for v in values]
        if op == "contains":
            return self._contains(column, texts[0])
        present = column.is_not(None)
        if op == "in":
            return sa.and_(present, column.in_(texts))
        if op == "not_in":
            return sa.and_(present, column.not_in(texts))
        return sa.and_(present, _OPS[op](column, texts[0]))

    def _match_typed(self, table: sa.Table, op: str, values: tuple[Scalar, ...]) -> Cond:
        """Params and summaries: numbers match ``num_value``, strings ``str_value``, null by type."""
        c = table.c
        if op == "contains":
            return self._contains(c.str_value, str(values[0]))
        if op in ("in", "not_in"):
            found = sa.or_(sa.false(), *(self._typed_eq(table, v) for v in values))
            return found if op == "in" else sa.not_(found)
        value = values[0]
        if value is None:
            is_null = c.value_type == "null"
            if op == "=":
                return is_null
            if op == "!=":
                return sa.not_(is_null)
            raise _bad(f"null can only be compared with = or !=, not {op!r}")
        number = _number(value)
        if number is not None and math.isnan(number):
            # A NaN value is a float whose numeric copy is NULL.
            is_nan = sa.and_(c.value_type == "float", c.num_value.is_(None))
            if op == "=":
                return is_nan
            return c.num_value.is_not(None) if op == "!=" else sa.false()
        if number is not None:
            return sa.and_(c.num_value.is_not(None), _OPS[op](c.num_value, number))
        return sa.and_(c.str_value.is_not(None), _OPS[op](c.str_value, str(value)))

    @staticmethod
    def _typed_eq(table: sa.Table, value: Scalar) -> Cond:
        c = table.c
        if value is None:
            return c.value_type == "null"
        number = _number(value)
        if number is not None and math.isnan(number):
            return sa.and_(c.value_type == "float", c.num_value.is_(None))
        if number is not None:
            return sa.and_(c.num_value.is_not(None), c.num_value == number)
        return sa.and_(c.str_value.is_not(None), c.str_value == str(value))

    def _attr_comparison(self, key: str, op: str, values: tuple[Scalar, ...]) -> Cond:
        column = self._attr_column(key)
        if key == "project":
            return sa.true() if _python_match(self.project, op, values) else sa.false()
        if op in ("=", "!=") and values == (None,):
            # `end_time = null`, `git.commit != null` (the parser allows null only where it can occur).
            is_null: Cond = column.is_(None) if op == "=" else column.is_not(None)
            return is_null
        if key in _STRING_ATTRS:
            return self._match_text(column, op, values)
        return self._match_number(column, op, values, key)


def _text(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _python_match(actual: str, op: str, values: tuple[Scalar, ...]) -> bool:
    texts = [_text(v) for v in values]
    if op == "contains":
        return texts[0] in actual
    if op == "in":
        return actual in texts
    if op == "not_in":
        return actual not in texts
    return bool(_OPS[op](actual, texts[0]))


def compile_filter(expr: Expr, dialect: str, project: str) -> Cond:
    """The WHERE condition (over ``runs``) of a filter; raises InvalidInputError for a malformed tree."""
    return _Compiler(dialect, project).compile(expr)


def _sort_field(key: SortKey) -> FieldRef:
    text = key.field.strip()
    namespace, dot, rest = text.partition(".")
    if namespace == "summaries":
        namespace = "summary"
    if dot and namespace in NAMESPACES and rest:
        return FieldRef(namespace, rest, key.agg or "last")
    if text in ATTRIBUTES:
        return FieldRef("attr", text)
    raise _bad(
        f"cannot sort by {key.field!r}: use params.X, metrics.X, tags.X, summary.X or an attribute", "sort"
    )


class SearchMixin(SqlBase):
    """``search_runs``."""

    @reads
    def search_runs(
        self,
        conn: Connection,
        project: str,
        filter: Expr | None = None,
        sort: Sequence[SortKey] = (),
        offset: int = 0,
        limit: int = 100,
    ) -> RunPage:
        if offset < 0 or limit < 0:
            raise InvalidInputError("offset and limit must be ≥ 0", field="offset" if offset < 0 else "limit")
        if not self._sqlite:
            # psycopg prepares a statement run 5 times, and PostgreSQL may then plan it once for any values:
            # that generic plan cannot see how many runs a filter matches and picked a nested loop 40x slower
            # than the plan made for the actual values (2.2 s instead of 55 ms over 10,000 runs).
            conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
            if filter is not None and _terms(filter) > COLLAPSE_ABOVE:
                # Each term is a semi-join; left free to reorder dozens of them, PostgreSQL's planner spent
                # 42 s planning 100 'and' terms over 500 runs. In the order written it plans in a blink
                # (0.87 s for the whole query), and a filter this long gains little from reordering.
                conn.exec_driver_sql("SET LOCAL join_collapse_limit = 1")
                conn.exec_driver_sql("SET LOCAL from_collapse_limit = 1")
        project_id = self._project_id(conn, project)
        r = t.runs.c
        where: list[Cond] = [r.project_id == project_id]
        by_metric = _metric_last(sort) if filter is None else None
        if by_metric is not None:
            rows = (
                metric_sorted_rows(conn, project_id, by_metric[0], by_metric[1], offset, limit)
                if limit
                else []
            )
            total = int(
                conn.execute(sa.select(sa.func.count()).select_from(t.runs).where(*where)).scalar_one()
            )
            return RunPage(runs=load_runs(conn, rows), total=total, offset=offset, limit=limit)
        if filter is not None:
            where.append(compile_filter(filter, self._dialect, project))
        source: Any = t.runs.join(t.projects, t.projects.c.id == r.project_id)
        order: list[Any] = []
        for i, key in enumerate(sort):
            source, keys = self._sort_join(source, key, i, self._dialect)
            order.extend(keys)
        order.extend([r.start_time.desc(), r.id])
        # With a filter the page carries the number of matches (a window count), so the filter runs once,
        # not twice. Without one a separate count is cheaper: the page can then stop after `limit` rows of
        # the (project, start_time) index. An empty page (offset past the end) always counts on its own.
        columns = (
            [*RUN_COLUMNS, sa.func.count().over().label("matches")] if filter is not None else RUN_COLUMNS
        )
        query = sa.select(*columns).select_from(source).where(*where).order_by(*order)
        rows = conn.execute(query.offset(offset).limit(limit)).all() if limit else []
        if rows and filter is not None:
            total = int(rows[0].matches)
        else:
            total = int(
                conn.execute(sa.select(sa.func.count()).select_from(t.runs).where(*where)).scalar_one()
            )
        return RunPage(runs=load_runs(conn, rows), total=total, offset=offset, limit=limit)

    @staticmethod
    def _sort_join(source: Any, key: SortKey, i: int, dialect: str) -> tuple[Any, list[Any]]:
        """The source joined to the sort key's table, and ORDER BY terms; missing values sort last."""
        ref = _sort_field(key)

        def direction(column: Any) -> Any:
            return column.desc() if key.descending else column.asc()

        def missing_last(column: Any) -> Any:
            # NULLS LAST on both dialects (SQLite sorts NULL first, PostgreSQL last, by default).
            return sa.case((column.is_(None), 1), else_=0)

        if ref.namespace == "attr":
            if ref.key == "project":
                return source, []
            column = _Compiler(dialect, "")._attr_column(ref.key)
            return source, [missing_last(column), direction(column)]
        table = {"params": t.params, "summary": t.summaries, "tags": t.tags, "metrics": t.metric_keys}[
            ref.namespace
        ]
        alias = table.alias(f"sort_{i}")
        source = source.outerjoin(alias, sa.and_(alias.c.run_id == t.runs.c.id, alias.c.key == ref.key))
        if ref.namespace == "metrics":
            if ref.agg not in _METRIC_AGGS:
                raise _bad(f"unknown aggregate {ref.agg!r}: use last, min or max", "sort")
            column = alias.c[ref.agg]
            return source, [missing_last(column), direction(column)]
        if ref.namespace == "tags":
            return source, [missing_last(alias.c.value), direction(alias.c.value)]
        # Numbers before strings; other values (lists, null) after them, then missing runs.
        num, text = alias.c.num_value, alias.c.str_value
        rank = sa.case(
            (num.is_not(None), 0), (text.is_not(None), 1), (alias.c.run_id.is_not(None), 2), else_=3
        )
        return source, [rank, direction(num), direction(text)]


def _metric_last(sort: Sequence[SortKey]) -> tuple[str, bool] | None:
    """(key, descending) when the sort is by one metric's last value alone (``metric_sort``'s fast path)."""
    if len(sort) != 1:
        return None
    ref = _sort_field(sort[0])
    if ref.namespace != "metrics" or ref.agg != "last":
        return None
    return ref.key, sort[0].descending


def _terms(expr: Expr) -> int:
    """How many comparisons and ``exists`` a filter holds."""
    if isinstance(expr, And | Or):
        return sum(_terms(e) for e in expr.items)
    if isinstance(expr, Not):
        return _terms(expr.item)
    return 1
