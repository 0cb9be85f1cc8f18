"""One reading of ``COLUMN OP LITERAL`` (``age < 25``, ``plan == "pro"``, ``amount > 10000``): segment rules
of monitors and the conditions of deployments' output rules. Each caller says which operators it takes,
checks what it needs beyond this (finite numbers, text only with equality) and names its own field."""

from __future__ import annotations

import re

__all__ = ["parse_literal", "split_comparison"]

_COMPARISON = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.\-]*)\s*(<=|>=|==|!=|<|>|=)\s*(.+?)\s*$")


def split_comparison(text: object) -> tuple[str, str, str] | None:
    """(column, operator, literal text) of ``text``, or None if it is not a comparison."""
    match = _COMPARISON.match(text) if isinstance(text, str) else None
    if match is None:
        return None
    column, op, literal = match.groups()
    return column, op, literal


def parse_literal(literal: str) -> float | str:
    """A quoted string (single or double quotes) without its quotes, else a number; ValueError otherwise."""
    if literal[:1] in "\"'" and literal[-1:] == literal[:1] and len(literal) >= 2:
        return literal[1:-1]
    try:
        return float(literal)
    except ValueError:
        raise ValueError(f"{literal!r} is not a number or a quoted string") from None
