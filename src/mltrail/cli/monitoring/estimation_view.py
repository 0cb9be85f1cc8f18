"""The terminal view of a report's performance estimated before labels: per window each metric's estimate
with its confidence band, and the realized value beside it once labels arrived."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.table import Table
from rich.text import Text

from mltrail.cli.monitoring.common import utc_window
from mltrail.cli.render import format_number

__all__ = ["estimation_table"]

_SHOWN = ("accuracy", "f1", "roc_auc")


def _cell(estimated: Mapping[str, Any] | None, realized: Any) -> Text:
    if not estimated:
        return Text("-", style="dim")
    lower, upper = estimated.get("lower"), estimated.get("upper")
    band = "" if lower is None or upper is None else f" [{format_number(lower)}–{format_number(upper)}]"
    text = Text(f"{format_number(estimated.get('value'))}{band}")
    if isinstance(realized, int | float):
        outside = lower is not None and upper is not None and not lower <= realized <= upper
        text.append(f" · {format_number(realized)}", style="red" if outside else "green")
    return text


def estimation_table(report: Mapping[str, Any]) -> Table | Text | None:
    """None when the report has no estimation section; a one-line note when the monitor is not calibrated."""
    section = report.get("estimation") or {}
    if not section:
        return None
    if not section.get("calibrated"):
        return Text(f"Estimated performance: {section.get('note') or 'not calibrated'}", style="dim")
    gran = str((report.get("monitor") or {}).get("granularity") or "day")
    table = Table(
        title=f"Estimated performance ({section.get('method')}; \\[band] ± 3 SE · realized once labelled)",
        title_justify="left",
        title_style="bold",
        box=None,
        header_style="bold",
    )
    table.add_column("window (UTC)", no_wrap=True)
    shown = _SHOWN if section.get("method") != "DLE" else ("mae", "rmse")
    for metric in shown:
        table.add_column(metric)
    for w in report.get("windows") or []:
        estimated, realized = w.get("estimated") or {}, w.get("performance") or {}
        table.add_row(
            utc_window(w.get("start"), gran),
            *(_cell(estimated.get(m), realized.get(m)) for m in shown),
        )
    return table
