"""A report's markdown source: text, with live panels as fenced ``mltrail-panel`` blocks of ``key: value``
lines (docs/REPORTS.md), parsed into blocks, checked, and written back.

    ```mltrail-panel
    type: runs
    filter: metrics.acc > 0.9
    ```
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from mltrail.entities import PANEL_TYPES, ReportBlock
from mltrail.errors import InvalidFilterError, InvalidInputError

__all__ = [
    "FENCE",
    "MAX_BLOCKS",
    "PANEL_OPTIONS",
    "blocks_from_json",
    "format_source",
    "parse_source",
    "split_list",
    "validate_blocks",
]

FENCE = "mltrail-panel"
MAX_BLOCKS = 200
MAX_TEXT = 200_000
# Each panel type's options: required ones first, then optional; every panel also takes ``title`` and
# ``project`` (another project than the report's).
PANEL_OPTIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "runs": ((), ("filter", "sort", "columns", "limit")),
    "metrics": (("runs", "keys"), ("max_points",)),
    "compare": (("runs",), ()),
    "samples": (("runs", "table"), ("top",)),
    "model": (("model",), ()),
    "monitor": (("monitor",), ("granularity",)),
}
_COMMON = ("title", "project")
_OPEN = re.compile(r"^(`{3,}|~{3,})\s*" + re.escape(FENCE) + r"\s*$")
_KEY = re.compile(r"^\s*([A-Za-z_]+)\s*:\s*(.*?)\s*$")
_LIMITS = {"limit": (1, 100), "max_points": (2, 2000), "top": (1, 100)}


def split_list(text: str) -> list[str]:
    """``a, b ,c`` → ``["a", "b", "c"]``."""
    return [part.strip() for part in text.split(",") if part.strip()]


def parse_source(text: str) -> list[ReportBlock]:
    """Blocks of a markdown source: the text between panels as markdown blocks (blank ones dropped), each
    ``mltrail-panel`` fence as a panel. A mistake is an InvalidInputError naming the line (field
    ``source``)."""
    if len(text) > MAX_TEXT:
        raise InvalidInputError(f"a report's source has at most {MAX_TEXT} characters", field="source")
    blocks: list[ReportBlock] = []
    lines = text.replace("\r\n", "\n").split("\n")
    prose: list[str] = []

    def flush() -> None:
        joined = "\n".join(prose).strip("\n")
        if joined.strip():
            blocks.append(ReportBlock("markdown", text=joined))
        prose.clear()

    i = 0
    while i < len(lines):
        opened = _OPEN.match(lines[i])
        if opened is None:
            prose.append(lines[i])
            i += 1
            continue
        flush()
        fence, start = opened.group(1), i + 1
        options: dict[str, str] = {}
        i += 1
        while i < len(lines) and lines[i].strip() != fence:
            line = lines[i]
            if line.strip() and not line.lstrip().startswith("#"):
                found = _KEY.match(line)
                if found is None:
                    raise InvalidInputError(
                        f"line {i + 1}: a panel line is `key: value`, got {line.strip()!r}", field="source"
                    )
                options[found.group(1).lower()] = found.group(2)
            i += 1
        if i == len(lines):
            raise InvalidInputError(
                f"line {start}: the {FENCE} block is never closed with {fence}", field="source"
            )
        i += 1
        kind = options.pop("type", "")
        try:
            blocks.append(_panel(kind, options, f"line {start}"))
        except InvalidInputError as exc:
            raise InvalidInputError(str(exc), field="source") from None
    flush()
    return validate_blocks(blocks, field="source")


def _panel(kind: str, options: Mapping[str, str], where: str) -> ReportBlock:
    if kind not in PANEL_OPTIONS:
        raise InvalidInputError(
            f"{where}: a panel's type must be one of {', '.join(PANEL_TYPES)}, got {kind!r}", field="type"
        )
    required, optional = PANEL_OPTIONS[kind]
    known = (*required, *optional, *_COMMON)
    for key, value in options.items():
        if key not in known:
            raise InvalidInputError(
                f"{where}: a {kind} panel takes {', '.join(known)}; {key!r} is not one of them", field=key
            )
        if "\n" in value or "\r" in value:
            raise InvalidInputError(f"{where}: {key} must be one line", field=key)
        if len(value) > 10_000:
            raise InvalidInputError(f"{where}: {key} is longer than 10,000 characters", field=key)
    for key in required:
        if not options.get(key, "").strip():
            raise InvalidInputError(f"{where}: a {kind} panel needs {key}", field=key)
    for key, (lo, hi) in _LIMITS.items():
        if key in options:
            value = options[key].strip()
            if not value.isdigit() or not lo <= int(value) <= hi:
                raise InvalidInputError(f"{where}: {key} must be a whole number from {lo} to {hi}", field=key)
    runs = split_list(options.get("runs", ""))
    if kind in ("compare", "samples") and len(runs) != 2:
        raise InvalidInputError(f"{where}: a {kind} panel compares two runs: runs: A, B", field="runs")
    if kind == "metrics" and not 1 <= len(runs) <= 20:
        raise InvalidInputError(f"{where}: a metrics panel charts 1 to 20 runs", field="runs")
    if kind == "runs":
        from mltrail.query import parse_filter, parse_sorts

        try:
            parse_filter(options.get("filter", ""))
            parse_sorts(split_list(options.get("sort", "")))
        except InvalidFilterError as exc:
            raise InvalidInputError(f"{where}: {exc}", field="filter") from None
    return ReportBlock(kind, options=dict(options))


def validate_blocks(blocks: Sequence[ReportBlock], field: str = "blocks") -> list[ReportBlock]:
    """``blocks`` after checking each (the panel types and options above), errors naming the block."""
    if len(blocks) > MAX_BLOCKS:
        raise InvalidInputError(f"a report has at most {MAX_BLOCKS} blocks", field=field)
    checked: list[ReportBlock] = []
    for index, block in enumerate(blocks):
        if block.type == "markdown":
            checked.append(block)
            continue
        where = f"{field}[{index}]"
        try:
            checked.append(_panel(block.type, block.options, where))
        except InvalidInputError as exc:
            name = field if field == "source" else f"{where}.{exc.field or 'type'}"
            raise InvalidInputError(str(exc), field=name) from None
    return checked


def blocks_from_json(items: Sequence[Any]) -> list[ReportBlock]:
    """Blocks from their JSON form (``ReportBlock.to_dict``), checked."""
    blocks = []
    for index, item in enumerate(items):
        if not isinstance(item, Mapping) or not isinstance(item.get("type"), str):
            raise InvalidInputError(
                f"blocks[{index}] must be an object with a type", field=f"blocks[{index}]"
            )
        options = item.get("options") or {}
        if not isinstance(options, Mapping):
            raise InvalidInputError(
                f"blocks[{index}].options must be an object", field=f"blocks[{index}].options"
            )
        blocks.append(ReportBlock.from_dict(dict(item)))
    return validate_blocks(blocks)


def format_source(blocks: Sequence[ReportBlock]) -> str:
    """The markdown source of ``blocks``; ``parse_source`` reads it back to the same blocks."""
    parts = []
    for block in blocks:
        if block.type == "markdown":
            parts.append(block.text)
            continue
        lines = [f"```{FENCE}", f"type: {block.type}"]
        lines += [f"{key}: {value}" for key, value in block.options.items()]
        parts.append("\n".join([*lines, "```"]))
    return "\n\n".join(parts) + "\n"
