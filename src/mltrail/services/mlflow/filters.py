"""MLflow's run search syntax (``metrics.acc > 0.9 and params.lr = '0.01'``) translated to mltrail's filter
syntax tree, and its ``order_by`` clauses to sort keys; the store compiles both, as for mltrail's own filters.

Covered: ``metrics.``, ``params.``, ``tags.`` and ``attributes.`` (``run_id``, ``run_name``, ``status``,
``user_id``, ``start_time``, ``end_time``, ``created``) with ``= != < <= > >=``, ``IN``/``NOT IN``,
``IS NULL``/``IS NOT NULL`` and ``LIKE`` whose pattern is a plain text or ``%text%``; conditions joined by
``AND`` (MLflow has no ``OR``). Anything else is an ``InvalidFilterError`` that names what is unsupported.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from mltrail.entities import SortKey
from mltrail.errors import InvalidFilterError
from mltrail.query_ast import And, Comparison, Exists, Expr, FieldRef, Not, Or, Scalar

__all__ = [
    "DELETED_TAG",
    "MLFLOW_STATUS",
    "parse_mlflow_filter",
    "parse_mlflow_order",
]

# A run deleted through MLflow's API is kept (MLflow deletes softly and can restore) with this tag.
DELETED_TAG = "mltrail.mlflow.deleted_at"
# MLflow's run status → mltrail's; KILLED is kept as failed (see MlflowTracking.update_run).
MLFLOW_STATUS = {
    "RUNNING": "running",
    "SCHEDULED": "running",
    "FINISHED": "finished",
    "FAILED": "failed",
    "KILLED": "failed",
}
_ATTRIBUTES = {
    "run_id": "id",
    "run_uuid": "id",
    "run_name": "name",
    "name": "name",
    "status": "status",
    "user_id": "user",
    "start_time": "start_time",
    "created": "start_time",
    "end_time": "end_time",
}
_TIME_ATTRIBUTES = ("start_time", "end_time")  # milliseconds in MLflow, seconds in mltrail
_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
    | (?P<backquoted>`(?:[^`]|``)*`)
    | (?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)
    | (?P<op>!=|<>|>=|<=|==|=|<|>|\(|\)|,)
    | (?P<word>[A-Za-z_][A-Za-z0-9_\-/:@]*(?:\.[A-Za-z0-9_\-/:@]+)*\.?)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    text: str
    pos: int


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise InvalidFilterError(f"unexpected character {text[pos:].lstrip()[:1]!r}", text, pos, "filter")
        kind = match.lastgroup or "word"
        out.append(_Token(kind, match.group(kind), match.start(kind)))
        pos = match.end()
    return out


def _unquote(token: _Token) -> str:
    body = token.text[1:-1]
    if token.kind == "backquoted":
        return body.replace("``", "`")
    return re.sub(r"\\(.)", r"\1", body)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokens(text)
        self.i = 0

    def error(self, message: str, pos: int | None = None) -> InvalidFilterError:
        where = len(self.text) if pos is None else pos
        return InvalidFilterError(message, self.text, where, "filter")

    def peek(self) -> _Token | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def next(self, what: str) -> _Token:
        tok = self.peek()
        if tok is None:
            raise self.error(f"expected {what}, found the end")
        self.i += 1
        return tok

    def word(self, *words: str) -> bool:
        tok = self.peek()
        if tok is not None and tok.kind == "word" and tok.text.upper() in words:
            self.i += 1
            return True
        return False

    def parse(self) -> Expr | None:
        if not self.toks:
            return None
        items = [self.condition()]
        while self.peek() is not None:
            if self.word("AND"):
                items.append(self.condition())
                continue
            tok = self.next("AND")
            if tok.kind == "word" and tok.text.upper() == "OR":
                raise self.error("MLflow's search syntax has no OR; join conditions with AND", tok.pos)
            raise self.error(f"expected AND or the end, found {tok.text!r}", tok.pos)
        return items[0] if len(items) == 1 else And(tuple(items))

    def identifier(self) -> tuple[str, str, int]:
        """(entity type, key, position) of ``metrics.x``, ``params."a b"``, ``attributes.status``,
        ``status``."""
        tok = self.next("a field such as metrics.acc")
        if tok.kind != "word":
            raise self.error(f"expected a field such as metrics.acc, found {tok.text!r}", tok.pos)
        head, dot, rest = tok.text.partition(".")
        if not dot:
            return "attributes", head, tok.pos
        if rest == "":  # metrics.`key with spaces` or params."quoted"
            quoted = self.next("a key after the dot")
            if quoted.kind not in ("backquoted", "string"):
                raise self.error("expected a key after the dot", quoted.pos)
            return head, _unquote(quoted), tok.pos
        return head, rest, tok.pos

    def value(self) -> tuple[str, Scalar]:
        tok = self.next("a value")
        if tok.kind == "string":
            return "string", _unquote(tok)
        if tok.kind == "number":
            number = float(tok.text)
            return "number", int(number) if number.is_integer() and "." not in tok.text else number
        raise self.error(f"expected a quoted string or a number, found {tok.text!r}", tok.pos)

    def condition(self) -> Expr:
        entity, key, pos = self.identifier()
        field = _field(entity, key, self, pos)
        if self.word("IS"):
            negated = self.word("NOT")
            if not self.word("NULL"):
                raise self.error("expected NULL after IS", pos)
            present: Expr = Exists(field) if field.namespace != "attr" else Comparison(field, "!=", None)
            return present if negated else Not(present)
        negated = self.word("NOT")
        if self.word("IN"):
            return self._in(field, negated, pos)
        if negated:
            raise self.error("expected IN after NOT", pos)
        if self.word("LIKE"):
            return self._like(field, pos)
        if self.word("ILIKE"):
            raise self.error("ILIKE (case-insensitive match) is not supported by mltrail; use LIKE", pos)
        op_tok = self.next("an operator")
        if op_tok.kind != "op" or op_tok.text in ("(", ")", ","):
            raise self.error(f"expected an operator, found {op_tok.text!r}", op_tok.pos)
        op = {"==": "=", "<>": "!="}.get(op_tok.text, op_tok.text)
        kind, value = self.value()
        return _comparison(field, op, kind, value, self, op_tok.pos)

    def _in(self, field: FieldRef, negated: bool, pos: int) -> Expr:
        opening = self.next("(")
        if opening.text != "(":
            raise self.error("expected '(' after IN", opening.pos)
        values: list[Scalar] = []
        while True:
            kind, value = self.value()
            if kind != "string":
                raise self.error("IN takes quoted strings", pos)
            values.append(value)
            tok = self.next("',' or ')'")
            if tok.text == ")":
                break
            if tok.text != ",":
                raise self.error(f"expected ',' or ')', found {tok.text!r}", tok.pos)
        if field.namespace == "metrics":
            raise self.error("IN is for params, tags and attributes, not metrics", pos)
        return Comparison(field, "not_in" if negated else "in", tuple(values))

    def _like(self, field: FieldRef, pos: int) -> Expr:
        kind, pattern = self.value()
        if kind != "string" or not isinstance(pattern, str):
            raise self.error("LIKE takes a quoted pattern", pos)
        inner = pattern[1:-1] if len(pattern) >= 2 and pattern[0] == pattern[-1] == "%" else None
        if "%" not in pattern and "_" not in pattern:
            return Comparison(field, "=", pattern)
        if inner is not None and "%" not in inner and "_" not in inner:
            return Comparison(field, "contains", inner)
        raise self.error(
            f"LIKE {pattern!r}: mltrail matches LIKE patterns of the form '%text%' or a plain text only",
            pos,
        )


def _field(entity: str, key: str, parser: _Parser, pos: int) -> FieldRef:
    entity = entity.lower()
    if entity in ("metric", "metrics"):
        return FieldRef("metrics", key)
    if entity in ("param", "params", "parameter", "parameters"):
        return FieldRef("params", key)
    if entity in ("tag", "tags"):
        if key == "mlflow.runName":
            return FieldRef("attr", "name")
        if key == "mlflow.user":
            return FieldRef("attr", "user")
        return FieldRef("tags", key)
    if entity in ("attribute", "attributes", "attr", "run"):
        name = _ATTRIBUTES.get(key)
        if name is None:
            raise parser.error(
                f"attribute {key!r} is not searchable in mltrail"
                f" (searchable: {', '.join(sorted(_ATTRIBUTES))})",
                pos,
            )
        return FieldRef("attr", name)
    if entity in ("dataset", "datasets"):
        raise parser.error("searching runs by datasets is not supported by mltrail", pos)
    raise parser.error(f"unknown entity {entity!r}: use metrics., params., tags. or attributes.", pos)


def _comparison(field: FieldRef, op: str, kind: str, value: Scalar, parser: _Parser, pos: int) -> Expr:
    if field.namespace == "metrics":
        if kind != "number":
            raise parser.error(f"metrics.{field.key} is compared with a number", pos)
        return Comparison(field, op, float(value))  # type: ignore[arg-type]
    if field.namespace == "attr" and field.key in _TIME_ATTRIBUTES:
        if kind != "number":
            raise parser.error(f"{field.key} is compared with milliseconds since the epoch", pos)
        return Comparison(field, op, float(value) / 1000.0)  # type: ignore[arg-type]
    if kind != "string":
        raise parser.error(f"{field} is compared with a quoted string", pos)
    assert isinstance(value, str)
    if field.namespace == "attr" and field.key == "status":
        status = MLFLOW_STATUS.get(value.upper())
        if status is None:
            raise parser.error(f"status {value!r} is not one of {', '.join(MLFLOW_STATUS)}", pos)
        return Comparison(field, op, status)
    if field.namespace == "params" and op in ("=", "!="):
        # MLflow params are text; a param logged by mltrail's SDK may be a number: either matches.
        number = _number(value)
        if number is not None:
            either = Or((Comparison(field, "=", value), Comparison(field, "=", number)))
            return either if op == "=" else And((Exists(field), Not(either)))
    return Comparison(field, op, value)


def _number(text: str) -> int | float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    if not math.isfinite(number):
        return None
    return int(number) if re.fullmatch(r"[-+]?\d+", text.strip()) else number


def parse_mlflow_filter(text: str | None) -> Expr | None:
    """The syntax tree of an MLflow run filter; None for an empty one."""
    if text is None or not text.strip():
        return None
    return _Parser(text).parse()


_ORDER = re.compile(r"^\s*(?P<field>.+?)\s*(?:\s(?P<dir>ASC|DESC))?\s*$", re.IGNORECASE)


def parse_mlflow_order(clauses: list[str]) -> list[SortKey]:
    """Sort keys from MLflow's ``order_by`` (``metrics.acc DESC``, ``attributes.start_time``)."""
    keys: list[SortKey] = []
    for clause in clauses:
        match = _ORDER.match(clause)
        if match is None or not match.group("field"):
            raise InvalidFilterError(f"cannot read order_by {clause!r}", clause, 0, "order_by")
        parser = _Parser(match.group("field"))
        entity, key, pos = parser.identifier()
        if parser.peek() is not None:
            raise InvalidFilterError(f"cannot read order_by {clause!r}", clause, 0, "order_by")
        try:
            field = _field(entity, key, parser, pos)
        except InvalidFilterError as exc:
            raise InvalidFilterError(exc.message, clause, 0, "order_by") from exc
        name = field.key if field.namespace == "attr" else f"{field.namespace}.{field.key}"
        keys.append(SortKey(field=name, descending=(match.group("dir") or "").upper() == "DESC"))
    return keys
