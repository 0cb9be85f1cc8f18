"""How floats that JSON cannot hold travel, in one place: NaN and ±infinity as the strings ``"NaN"``,
``"Infinity"`` and ``"-Infinity"`` (the API, its clients, the CLI's ``--json`` and the journal agree)."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["NON_FINITE", "decode_float", "encode_float", "encode_floats"]

NON_FINITE = ("NaN", "Infinity", "-Infinity")
_DECODE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def encode_float(value: float) -> float | str:
    """A float for JSON: non-finite values as ``"NaN"``, ``"Infinity"`` or ``"-Infinity"``."""
    if math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def decode_float(value: Any) -> float:
    """A float from JSON: a number, or one of the three strings above (anything else: ValueError)."""
    if isinstance(value, str):
        try:
            return _DECODE[value]
        except KeyError:
            raise ValueError(f"not a number: {value!r}") from None
    return float(value)


def encode_floats(value: Any) -> Any:
    """``value`` with every non-finite float inside dicts, lists and tuples encoded, at any depth."""
    if isinstance(value, float):
        return encode_float(value)
    if isinstance(value, dict):
        return {k: encode_floats(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode_floats(v) for v in value]
    return value
