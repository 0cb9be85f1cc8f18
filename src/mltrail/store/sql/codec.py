"""Encoding of typed values, JSON documents and NaN-able floats into portable columns, and back."""

from __future__ import annotations

import math
from typing import Any

import orjson

from mltrail.entities import Value
from mltrail.errors import InvalidInputError

__all__ = ["decode_value", "dump_json", "encode_value", "from_db_float", "load_json", "to_db_float"]


def _big_ints_as_text(data: Any) -> Any:
    """The document with integers beyond 64 bits (which orjson cannot write) as their ``str``."""
    if isinstance(data, int) and not isinstance(data, bool):
        return data if -(2**63) <= data < 2**64 else str(data)
    if isinstance(data, dict):
        return {_big_ints_as_text(k): _big_ints_as_text(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_big_ints_as_text(v) for v in data]
    return data


def dump_json(data: Any) -> str:
    """JSON text of a document; values that JSON cannot hold (and integers beyond 64 bits) become their
    ``str``. A document nested too deeply (over 255 levels) is an InvalidInputError."""
    try:
        return orjson.dumps(data, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        try:
            return orjson.dumps(_big_ints_as_text(data), default=str, option=orjson.OPT_NON_STR_KEYS).decode()
        except (TypeError, RecursionError) as exc:
            raise InvalidInputError(f"the document cannot be stored as JSON: {exc}") from exc


def load_json(text: str | None) -> Any:
    return None if text is None else orjson.loads(text)


def to_db_float(value: float) -> float | None:
    """NaN is stored as NULL: SQLite cannot keep NaN, and both dialects must behave alike."""
    return None if math.isnan(value) else value


def from_db_float(value: float | None) -> float:
    return math.nan if value is None else float(value)


def encode_value(value: Value, field: str) -> tuple[str, str, float | None, str | None]:
    """``(value_type, value_json, num_value, str_value)`` of a param or summary value."""
    if value is None:
        return "null", "null", None, None
    if isinstance(value, bool):
        return "bool", "true" if value else "false", 1.0 if value else 0.0, None
    if isinstance(value, int):
        try:
            num: float | None = float(value)
        except OverflowError:
            num = None
        return "int", str(value), num, None
    if isinstance(value, float):
        # repr keeps every bit and spells non-finite values as nan/inf, which float() reads back.
        return "float", repr(value), to_db_float(value), None
    if isinstance(value, str):
        return "str", dump_json(value), None, value
    if isinstance(value, list):
        return "list", dump_json(value), None, None
    if isinstance(value, dict):
        return "dict", dump_json(value), None, None
    raise InvalidInputError(f"unsupported value type {type(value).__name__}", field=field)


def decode_value(value_type: str, value_json: str) -> Value:
    if value_type == "float":
        return float(value_json)
    if value_type == "int":
        return int(value_json)
    decoded: Value = orjson.loads(value_json)
    return decoded
