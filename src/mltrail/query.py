"""The run filter and sort languages: text → ``query_ast`` (``parse_filter``, ``parse_sort``) and back."""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Collection
from dataclasses import dataclass

from mltrail.entities import RunStatus, SortKey
from mltrail.errors import InvalidFilterError
from mltrail.query_ast import ATTRIBUTES, NAMESPACES, And, Comparison, Exists, Expr, FieldRef, Not, Or, Scalar

__all__ = [
    "TABLE_COLUMN",
    "format_filter",
    "parse_filter",
    "parse_sort",
    "parse_sorts",
    "parse_table_filter",
    "parse_table_sorts",
]

# The namespace of a field in a table filter: a column of the table, named bare or in backquotes.
TABLE_COLUMN = "column"

_ALIASES = {"param": "params", "metric": "metrics", "tag": "tags"}
_AGGS = ("min", "max", "last")
_STATUSES = tuple(s.value for s in RunStatus)
_ORDERING = ("<", "<=", ">", ">=")
_OPS = {"=": "=", "==": "=", "!=": "!=", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_KEYWORDS = ("and", "or", "not", "in", "exists", "contains", "true", "false", "null")
# Attribute value types; the store compiles each to one column type, so mixing would fail on PostgreSQL.
_NUMERIC_ATTRS = ("start_time", "end_time", "duration")
_NULLABLE_ATTRS = ("user", "end_time", "duration", "git.commit", "git.branch")

_KEY_RE = re.compile(r"[A-Za-z0-9_/\-.:@]+")
# A word is a field, keyword or number; `1e+5` is matched whole although `+` is not a key character.
_WORD_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)[eE][+-]\d+(?![A-Za-z0-9_/\-.:@])|\+?[A-Za-z0-9_/\-.:@]+")
_NUMBER_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_SPECIAL_RE = re.compile(r"([+-]?)(inf|infinity|nan)")
_SPECIAL_FLOATS = {"inf": math.inf, "infinity": math.inf, "nan": math.nan}
_HINTS = {"&": "use 'and'", "|": "use 'or'", "!": "use 'not'"}

# Limits, so that no filter can exhaust the parser's stack or the database (docs/FILTERS.md): a 400 naming
# the limit, never a 500 or a query that runs for minutes.
MAX_FILTER_CHARS = 20_000
MAX_DEPTH = 32  # parentheses and 'not', nested
MAX_CONDITIONS = 100  # comparisons, 'in', 'exists' and 'contains' terms
MAX_IN_VALUES = 1_000
MAX_SORT_KEYS = 10


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # word, string, backquoted, op, (, ), ",", end
    text: str  # the source text, or the unescaped content of a string / backquoted key
    pos: int


def _tokenize(text: str, start: int = 0) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = start, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c in "(),":
            tokens.append(_Token(c, c, i))
            i += 1
        elif c in "<>=!" and (op := _match_op(text, i)):
            tokens.append(_Token("op", op, i))
            i += len(op)
        elif c in "\"'":
            value, end = _read_quoted(text, i, c)
            tokens.append(_Token("string", value, i))
            i = end
        elif c == "`":
            value, end = _read_quoted(text, i, c)
            tokens.append(_Token("backquoted", value, i))
            i = end
        elif m := _WORD_RE.match(text, i):
            tokens.append(_Token("word", m.group(), i))
            i = m.end()
        else:
            hint = _HINTS.get(c, "keys with other characters go in backquotes, e.g. params.`my key`")
            raise InvalidFilterError(f"unexpected character {c!r} — {hint}", text, i)
    tokens.append(_Token("end", "", n))
    return tokens


def _match_op(text: str, i: int) -> str | None:
    two = text[i : i + 2]
    if two in _OPS:
        return two
    return text[i] if text[i] in _OPS else None


def _read_quoted(text: str, start: int, quote: str) -> tuple[str, int]:
    """Content of the string or backquoted key opening at ``start``, and the offset after its end."""
    out: list[str] = []
    i = start + 1
    while i < len(text):
        c = text[i]
        if c == quote:
            if quote == "`" and text.startswith("``", i):
                out.append("`")
                i += 2
                continue
            return "".join(out), i + 1
        if c == "\\" and quote != "`":
            if i + 1 < len(text) and text[i + 1] in "\"'\\":
                out.append(text[i + 1])
                i += 2
                continue
            raise InvalidFilterError("unknown escape in string: use \\\" \\' or \\\\", text, i)
        out.append(c)
        i += 1
    what = "backquoted key" if quote == "`" else "string"
    raise InvalidFilterError(f"unterminated {what}: missing closing {quote}", text, start)


def _describe(tok: _Token) -> str:
    return "the end of the filter" if tok.kind == "end" else repr(tok.text)


class _Parser:
    def __init__(
        self, text: str, field: str = "filter", start: int = 0, columns: Collection[str] | None = None
    ) -> None:
        self.text = text
        self.field = field
        self.columns = columns  # a table filter: fields are these columns
        if len(text) > MAX_FILTER_CHARS:
            raise InvalidFilterError(
                f"the {field} is {len(text):,} characters long; at most {MAX_FILTER_CHARS:,} are accepted",
                text[:200],
                0,
                field=field,
            )
        self.tokens = _tokenize(text, start)
        self.i = 0
        self.depth = 0
        self.conditions = 0

    def error(self, message: str, pos: int) -> InvalidFilterError:
        return InvalidFilterError(message, self.text, pos, field=self.field)

    @property
    def tok(self) -> _Token:
        return self.tokens[self.i]

    def advance(self) -> _Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def at_word(self, *words: str) -> bool:
        return self.tok.kind == "word" and self.tok.text.lower() in words

    def expect(self, kind: str, message: str) -> _Token:
        if self.tok.kind != kind:
            raise self.error(message, self.tok.pos)
        return self.advance()

    # -- boolean structure --------------------------------------------------------------------------------
    def parse(self) -> Expr:
        expr = self.or_expr()
        if self.tok.kind == ")":
            raise self.error("unexpected ')'", self.tok.pos)
        if self.tok.kind != "end":
            raise self.error("expected 'and' or 'or' between conditions", self.tok.pos)
        return expr

    def or_expr(self) -> Expr:
        items = [self.and_expr()]
        while self.at_word("or"):
            self.advance()
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else Or(_flatten(items, Or))

    def and_expr(self) -> Expr:
        items = [self.unary()]
        while self.at_word("and"):
            self.advance()
            items.append(self.unary())
        return items[0] if len(items) == 1 else And(_flatten(items, And))

    def nest(self, tok: _Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"the filter nests deeper than {MAX_DEPTH} levels of '(' and 'not'", tok.pos)

    def unary(self) -> Expr:
        if self.at_word("not"):
            self.nest(self.advance())
            inner = self.unary()
            self.depth -= 1
            return Not(inner)
        if self.tok.kind == "(":
            opening = self.advance()
            self.nest(opening)
            if self.tok.kind == ")":
                raise self.error("expected a condition inside '()'", self.tok.pos)
            expr = self.or_expr()
            if self.tok.kind != ")":
                if self.tok.kind == "end":
                    raise self.error(f"missing ')' to match the '(' at offset {opening.pos}", self.tok.pos)
                raise self.error("expected 'and', 'or' or ')'", self.tok.pos)
            self.advance()
            self.depth -= 1
            return expr
        return self.predicate()

    # -- conditions -----------------------------------------------------------------------------------------
    def predicate(self) -> Expr:
        self.conditions += 1
        if self.conditions > MAX_CONDITIONS:
            raise self.error(f"the filter has more than {MAX_CONDITIONS} conditions", self.tok.pos)
        field = self.field_ref()
        tok = self.tok
        if tok.kind == "op":
            self.advance()
            return self.comparison(field, _OPS[tok.text], tok)
        if self.at_word("in"):
            self.advance()
            return self.membership(field, "in", tok)
        if self.at_word("not"):
            self.advance()
            if not self.at_word("in"):
                raise self.error("expected 'in' after 'not'", self.tok.pos)
            self.advance()
            return self.membership(field, "not_in", tok)
        if self.at_word("exists"):
            self.advance()
            if field.namespace == "attr":
                raise self.error(
                    f"'exists' applies to params, metrics, tags and summary, not {field}", tok.pos
                )
            if field.agg != "last":
                raise self.error(f"'exists' takes a plain field, e.g. metrics.{field.key} exists", tok.pos)
            return Exists(field)
        if self.at_word("contains"):
            self.advance()
            if _kind_of(field)[0] in ("number", "status"):
                raise self.error(f"'contains' applies to text fields, not {field}", tok.pos)
            value_tok = self.tok
            if value_tok.kind != "string":
                raise self.error("'contains' needs a quoted string", value_tok.pos)
            self.advance()
            return Comparison(field, "contains", value_tok.text)
        ops = "=, !=, <, <=, >, >=, in, not in, exists or contains"
        raise self.error(f"expected an operator after '{field}' ({ops}), found {_describe(tok)}", tok.pos)

    def comparison(self, field: FieldRef, op: str, op_tok: _Token) -> Comparison:
        value_tok = self.tok
        value = self.value(f"expected a value after '{op_tok.text}'")
        self.check_value(field, op, value, value_tok)
        return Comparison(field, op, _normalize(field, value))

    def membership(self, field: FieldRef, op: str, op_tok: _Token) -> Comparison:
        self.expect("(", f"expected '(' after '{'not in' if op == 'not_in' else 'in'}', e.g. in (1, 2)")
        values: list[Scalar] = []
        while True:
            value_tok = self.tok
            value = self.value("expected a value in the list")
            self.check_value(field, "=", value, value_tok)
            values.append(_normalize(field, value))
            if len(values) > MAX_IN_VALUES:
                raise self.error(f"an 'in' list holds at most {MAX_IN_VALUES:,} values", value_tok.pos)
            if self.tok.kind == ")":
                self.advance()
                return Comparison(field, op, tuple(values))
            self.expect(",", "expected ',' or ')' in the list")

    def value(self, message: str) -> Scalar:
        tok = self.tok
        if tok.kind == "string":
            self.advance()
            return tok.text
        if tok.kind == "word":
            ok, value = _word_value(tok.text)
            if ok:
                self.advance()
                return value
            raise self.error(f'{message}: text needs quotes, e.g. "{tok.text}"', tok.pos)
        raise self.error(message, tok.pos)

    def check_value(self, field: FieldRef, op: str, value: Scalar, tok: _Token) -> None:
        kind, nullable = _kind_of(field)
        if op in _ORDERING and (value is None or isinstance(value, bool)):
            raise self.error(f"'{op}' needs a number or a string, not {tok.text.lower()}", tok.pos)
        if value is None:
            if nullable:
                return
            hint = "; use 'exists' to test for a key" if field.namespace != "attr" else ""
            raise self.error(f"{field} is never null{hint}", tok.pos)
        if kind == "number" and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise self.error(f"{field} is a number: expected a number, found {_describe(tok)}", tok.pos)
        if kind in ("text", "status") and not isinstance(value, str):
            raise self.error(f'{field} is text: put the value in quotes, e.g. "{tok.text}"', tok.pos)
        if kind == "status" and isinstance(value, str) and value.lower() not in _STATUSES:
            raise self.error(f"status must be one of {', '.join(_STATUSES)}", tok.pos)

    # -- fields ---------------------------------------------------------------------------------------------
    def field_ref(self) -> FieldRef:
        if self.columns is not None:
            return _column_ref(self)
        tok = self.tok
        if tok.kind != "word":
            raise self.error(f"expected a field such as params.lr, found {_describe(tok)}", tok.pos)
        lower = tok.text.lower()
        if lower in _AGGS and self.tokens[self.i + 1].kind == "(":
            self.i += 2
            inner = self.field_ref()
            if inner.namespace != "metrics" or inner.agg != "last":
                raise self.error(f"{lower}() applies to metrics only, e.g. {lower}(metrics.loss)", tok.pos)
            self.expect(")", f"expected ')' to close {lower}(")
            return FieldRef("metrics", inner.key, lower)
        self.advance()
        if lower in ATTRIBUTES:
            return FieldRef("attr", lower)
        ns, dot, key = tok.text.partition(".")
        namespace = _ALIASES.get(ns.lower(), ns.lower())
        if dot and namespace in NAMESPACES:
            nxt = self.tok
            if not key and nxt.kind == "backquoted" and nxt.pos == tok.pos + len(tok.text):
                self.advance()
                key = nxt.text
            if not key:
                raise self.error(f"expected a key after '{tok.text}', e.g. {namespace}.lr", tok.pos)
            return FieldRef(namespace, key)
        raise self.error(_unknown_field(tok.text), tok.pos)


def _column_ref(parser: _Parser) -> FieldRef:
    tok = parser.tok
    columns = parser.columns
    assert columns is not None
    if tok.kind not in ("word", "backquoted"):
        raise parser.error(f"expected a column of the table, found {_describe(tok)}", tok.pos)
    parser.advance()
    if tok.text not in columns:
        close = difflib.get_close_matches(tok.text, list(columns)[:10_000], n=1, cutoff=0.6)
        hint = f" — did you mean '{close[0]}'?" if close else "; names with other characters go in backquotes"
        raise parser.error(f"the table has no column '{tok.text}'{hint}", tok.pos)
    return FieldRef(TABLE_COLUMN, tok.text)


def _word_value(word: str) -> tuple[bool, Scalar]:
    """(True, value) when an unquoted word is a number, true, false or null; else (False, None)."""
    lower = word.lower()
    if lower in ("true", "false", "null"):
        return True, None if lower == "null" else lower == "true"
    if _NUMBER_RE.fullmatch(word):
        return True, float(word) if any(c in word for c in ".eE") else int(word)
    m = _SPECIAL_RE.fullmatch(lower)
    if m is None:
        return False, None
    special = _SPECIAL_FLOATS[m.group(2)]
    return True, -special if m.group(1) == "-" else special


def _kind_of(field: FieldRef) -> tuple[str, bool]:
    """The value type a field takes (number, text, status or any) and whether it can be null."""
    if field.namespace == "metrics":
        return "number", False
    if field.namespace == "tags":
        return "text", False
    if field.namespace != "attr":
        return "any", True
    nullable = field.key in _NULLABLE_ATTRS
    if field.key in _NUMERIC_ATTRS:
        return "number", nullable
    return ("status" if field.key == "status" else "text"), nullable


def _normalize(field: FieldRef, value: Scalar) -> Scalar:
    if field.namespace == "attr" and field.key == "status" and isinstance(value, str):
        return value.lower()
    return value


def _flatten(items: list[Expr], cls: type[And] | type[Or]) -> tuple[Expr, ...]:
    out: list[Expr] = []
    for item in items:
        out.extend(item.items if isinstance(item, cls) else (item,))
    return tuple(out)


def _unknown_field(word: str) -> str:
    ns, dot, key = word.partition(".")
    if word.lower() in NAMESPACES or word.lower() in _ALIASES:
        return f"'{word}' needs a key, e.g. {_ALIASES.get(word.lower(), word.lower())}.lr"
    if word.lower() in _KEYWORDS:
        return f"expected a field such as params.lr, found '{word}'"
    if dot:
        close = difflib.get_close_matches(ns.lower(), [*NAMESPACES, *_ALIASES], n=1, cutoff=0.6)
        if close:
            return f"unknown field '{word}' — did you mean '{_ALIASES.get(close[0], close[0])}.{key}'?"
    else:
        close = difflib.get_close_matches(word.lower(), ATTRIBUTES, n=1, cutoff=0.6)
        if close:
            return f"unknown field '{word}' — did you mean '{close[0]}'?"
    fields = ", ".join(f"{ns}.<key>" for ns in NAMESPACES)
    return f"unknown field '{word}' — use {fields} or one of {', '.join(ATTRIBUTES)}"


def parse_filter(text: str) -> Expr | None:
    """Parse a run filter such as ``metrics.acc > 0.9 and params.opt in ("adam", "sgd")``; None if blank.

    Raises ``InvalidFilterError`` whose ``position`` points at the offending token.
    """
    if not text.strip():
        return None
    return _Parser(text).parse()


def parse_sort(text: str) -> SortKey:
    """Parse one sort key: ``metrics.acc``, ``-metrics.acc``, ``+params.lr``, ``-max(metrics.acc)``,
    ``start_time``, ``params.lr desc``."""
    stripped = text.lstrip()
    offset = len(text) - len(stripped)
    sign = stripped[:1] if stripped[:1] in ("+", "-") else ""
    if sign:
        offset += 1
    parser = _Parser(text, field="sort", start=offset)
    if parser.tok.kind == "end":
        raise InvalidFilterError("expected a field to sort by, e.g. -metrics.acc", text, len(text), "sort")
    ref = parser.field_ref()
    descending = sign == "-"
    if parser.at_word("asc", "desc"):
        if sign:
            raise parser.error("use either a leading '+'/'-' or 'asc'/'desc', not both", parser.tok.pos)
        descending = parser.advance().text.lower() == "desc"
    if parser.tok.kind != "end":
        raise parser.error(
            f"expected 'asc', 'desc' or the end, found {_describe(parser.tok)}", parser.tok.pos
        )
    name = ref.key if ref.namespace == "attr" else f"{ref.namespace}.{ref.key}"
    return SortKey(field=name, descending=descending, agg=ref.agg)


def parse_sorts(items: list[str]) -> list[SortKey]:
    """Parse several sort keys, the first one sorting first (at most ``MAX_SORT_KEYS``)."""
    if len(items) > MAX_SORT_KEYS:
        raise InvalidFilterError(
            f"{len(items)} sort keys given; at most {MAX_SORT_KEYS} are accepted",
            items[MAX_SORT_KEYS][:200],
            0,
            "sort",
        )
    return [parse_sort(item) for item in items]


# -- printing ------------------------------------------------------------------------------------------------
def parse_table_filter(text: str, columns: Collection[str]) -> Expr | None:
    """Parse a filter over a table's ``columns`` (``y_true = 1 and `age group` = "30-40"``); None if
    blank. Fields are column names (``FieldRef("column", name)``); an unknown one is an error naming it."""
    if not text.strip():
        return None
    return _Parser(text, columns=columns).parse()


def parse_table_sorts(items: list[str], columns: Collection[str]) -> list[SortKey]:
    """Sort keys over a table's columns: ``-proba``, ``age desc``, ```my col``` (``SortKey.field`` is the
    column's name)."""
    if len(items) > MAX_SORT_KEYS:
        raise InvalidFilterError(
            f"{len(items)} sort keys given; at most {MAX_SORT_KEYS} are accepted", items[0][:200], 0, "sort"
        )
    keys = []
    for text in items:
        stripped = text.lstrip()
        offset = len(text) - len(stripped)
        sign = stripped[:1] if stripped[:1] in ("+", "-") else ""
        parser = _Parser(text, field="sort", start=offset + len(sign), columns=columns)
        if parser.tok.kind == "end":
            raise InvalidFilterError("expected a column to sort by, e.g. -proba", text, len(text), "sort")
        ref = parser.field_ref()
        descending = sign == "-"
        if not sign and parser.at_word("asc", "desc"):
            descending = parser.advance().text.lower() == "desc"
        if parser.tok.kind != "end":
            raise parser.error(
                f"expected 'asc', 'desc' or the end, found {_describe(parser.tok)}", parser.tok.pos
            )
        keys.append(SortKey(field=ref.key, descending=descending))
    return keys


def format_filter(expr: Expr) -> str:
    """Print ``expr`` as filter text; ``parse_filter(format_filter(e)) == e`` for every flattened tree."""
    if isinstance(expr, Comparison):
        field = _format_field(expr.field)
        if isinstance(expr.value, tuple):
            op = "not in" if expr.op == "not_in" else "in"
            return f"{field} {op} ({', '.join(_format_value(v) for v in expr.value)})"
        return f"{field} {expr.op} {_format_value(expr.value)}"
    if isinstance(expr, Exists):
        return f"{_format_field(expr.field)} exists"
    if isinstance(expr, Not):
        inner = format_filter(expr.item)
        return f"not ({inner})" if isinstance(expr.item, And | Or) else f"not {inner}"
    joiner = " and " if isinstance(expr, And) else " or "
    return joiner.join(
        f"({format_filter(e)})" if isinstance(e, And | Or) else format_filter(e) for e in expr.items
    )


def _format_field(field: FieldRef) -> str:
    if field.namespace == "attr":
        base = field.key
    elif _KEY_RE.fullmatch(field.key):
        base = f"{field.namespace}.{field.key}"
    else:
        base = f"{field.namespace}.`{field.key.replace('`', '``')}`"
    return base if field.agg == "last" else f"{field.agg}({base})"


def _format_value(value: Scalar) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value).replace("e+", "e")
    if isinstance(value, int):
        return str(value)
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
