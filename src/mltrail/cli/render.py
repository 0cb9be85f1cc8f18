"""Formatting for the terminal (durations, times, numbers, sizes, status colors) and JSON-safe conversion."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import math
import time
from collections.abc import Mapping, Sequence
from pathlib import PurePath
from typing import Any

import orjson
import typer
from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from mltrail.json_floats import encode_float

__all__ = [
    "STATUS_STYLES",
    "echo_json",
    "format_bytes",
    "format_duration",
    "format_number",
    "format_relative",
    "format_timestamp",
    "format_value",
    "json_safe",
    "pairs",
    "sparkline",
    "status_text",
    "stderr_console",
    "stdout_console",
]

STATUS_STYLES = {"running": "cyan", "finished": "green", "failed": "red", "crashed": "magenta"}
_SPARKS = "▁▂▃▄▅▆▇█"


def stdout_console() -> Console:
    """A console on the current ``sys.stdout`` (created per command so test runners' swaps are seen).

    Plain lines are not wrapped (ids, paths and digests stay whole when piped); tables fit the width."""
    return Console(highlight=False, soft_wrap=True)


def stderr_console() -> Console:
    return Console(stderr=True, highlight=False)


def format_duration(seconds: float | None) -> str:
    """``0.35s``, ``42s``, ``1m 23s``, ``2h 05m``, ``3d 4h``; ``-`` when unknown."""
    if seconds is None or not math.isfinite(seconds):
        return "-"
    if seconds < 10:
        return f"{seconds:.2f}s" if seconds < 1 else f"{seconds:.1f}s"
    total = round(seconds)
    if total < 60:
        return f"{total}s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"


def format_relative(timestamp: float | None, now: float | None = None) -> str:
    """``just now``, ``5m ago``, ``3h ago``, ``2d ago``; older than 30 days as a date."""
    if timestamp is None:
        return "-"
    now = time.time() if now is None else now
    delta = now - timestamp
    if delta < 0:
        return format_timestamp(timestamp)
    if delta < 10:
        return "just now"
    if delta < 60:
        return f"{int(delta)}s ago"
    if delta < 3600:
        return f"{int(delta // 60)}m ago"
    if delta < 86400:
        return f"{int(delta // 3600)}h ago"
    if delta < 30 * 86400:
        return f"{int(delta // 86400)}d ago"
    return dt.datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d")


def format_timestamp(timestamp: float | None) -> str:
    """Local time, to the second, with the UTC offset."""
    if timestamp is None:
        return "-"
    return dt.datetime.fromtimestamp(timestamp).astimezone().strftime("%Y-%m-%d %H:%M:%S %z")


def format_number(value: float | int | None) -> str:
    """Integers as they are; floats to 4 significant digits (``0.001235``, ``1.235e+06``); NaN and ±inf."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value)}" if abs(value) >= 1e4 else f"{value:g}"
    return f"{value:.4g}"


def format_value(value: Any) -> str:
    """A param, tag or summary value for a table cell."""
    if value is None:
        return "null"
    if isinstance(value, bool | int | float):
        return format_number(value)
    if isinstance(value, str):
        return value
    return orjson.dumps(json_safe(value)).decode()


def format_bytes(size: int | None) -> str:
    if size is None:
        return "-"
    amount = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if amount < 1024 or unit == "TB":
            return f"{int(amount)} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    raise AssertionError("unreachable")


def status_text(status: str) -> Text:
    return Text(status, style=STATUS_STYLES.get(status, ""))


def pairs(rows: Sequence[tuple[str, RenderableType | str]], *, fold: bool = False) -> Table:
    """Key and value rows, keys in bold; a string value is plain text, never markup (descriptions, tags and
    card fields are whatever users typed). ``fold`` wraps long values instead of cutting them."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold" if fold else "ellipsis")
    for key, value in rows:
        table.add_row(key, Text(value) if isinstance(value, str) else value)
    return table


def sparkline(values: Sequence[float], width: int = 60) -> str:
    """A one-line chart of ``values`` (bucket means when longer than ``width``); NaN shows as a space."""
    if not values:
        return ""
    if len(values) > width:
        buckets: list[float] = []
        for i in range(width):
            chunk = values[i * len(values) // width : (i + 1) * len(values) // width]
            finite = [v for v in chunk if math.isfinite(v)]
            buckets.append(sum(finite) / len(finite) if finite else math.nan)
        values = buckets
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return " " * len(values)
    low, high = min(finite), max(finite)
    span = high - low
    out = []
    for v in values:
        if not math.isfinite(v):
            out.append(" ")
        elif span == 0:
            out.append(_SPARKS[len(_SPARKS) // 2])
        else:
            out.append(_SPARKS[min(len(_SPARKS) - 1, int((v - low) / span * len(_SPARKS)))])
    return "".join(out)


def json_safe(value: Any) -> Any:
    """Plain JSON data: dataclasses become dicts, enums their values, paths strings, and non-finite floats
    the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"`` (orjson would write them as null)."""
    if isinstance(value, float):
        return encode_float(value)
    if value is None or isinstance(value, bool | int | str):
        return value.value if isinstance(value, enum.Enum) else value
    if isinstance(value, enum.Enum):
        return json_safe(value.value)
    if isinstance(value, PurePath):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: json_safe(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def echo_json(value: Any) -> None:
    """Write ``value`` as one JSON document to stdout (and nothing else)."""
    typer.echo(orjson.dumps(json_safe(value), option=orjson.OPT_INDENT_2).decode())
