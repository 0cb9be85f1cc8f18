"""The runs table fits the terminal: automatic columns give way, chosen and sort columns stay."""

from __future__ import annotations

import itertools

from rich.console import Console

from mltrail.cli.tracking.run_views import column_widths, fit_columns, runs_table, table_width
from mltrail.entities import MetricSummary, Run, RunStatus


def _run(i: int) -> Run:
    return Run(
        id=f"{i:032x}",
        project="p",
        name=f"run-{i}",
        status=RunStatus.FINISHED,
        user="ana",
        start_time=1.0,
        end_time=2.0,
        params={f"a_rather_long_parameter_name_{k}": k * i for k in range(6)},
        metrics={
            f"metric_{k}": MetricSummary(
                key=f"metric_{k}", last=0.5 * i, last_step=1, min=0.0, max=1.0, count=2
            )
            for k in range(4)
        },
    )


def test_narrow_terminals_hide_params_before_metrics_and_keep_the_sort_key() -> None:
    runs = [_run(i) for i in range(1, 4)]
    columns = [f"params.a_rather_long_parameter_name_{k}" for k in range(6)]
    columns += [f"metrics.metric_{k}" for k in range(4)]
    kept, hidden = fit_columns(runs, columns, 110, keep=["metrics.metric_3"])
    assert hidden > 0 and len(kept) + hidden == len(columns)
    assert "metrics.metric_3" in kept
    dropped = [c for c in columns if c not in kept]
    # Every dropped metric comes after every param was dropped.
    if any(c.startswith("metrics.") for c in dropped):
        assert all(c.startswith("metrics.") for c in kept)
    wide, none_hidden = fit_columns(runs, columns, 1000)
    assert wide == columns and none_hidden == 0


def test_summed_column_widths_equal_the_measured_table() -> None:
    # fit_columns measures each column once and adds; it must agree with rich measuring the whole table.
    runs = [_run(i) for i in range(1, 6)]
    runs[0].params["a_rather_long_parameter_name_0"] = "[red]markup-looking[/red] text"
    runs[1].params["a_rather_long_parameter_name_1"] = float("nan")
    runs[2].tags["note"] = "wide 漢字 and emoji 🚀"
    columns = ["params.a_rather_long_parameter_name_0", "params.a_rather_long_parameter_name_1"]
    columns += ["metrics.metric_0", "min(metrics.metric_1)", "tags.note", "summary.missing"]
    widths = column_widths(runs, columns)
    measure = Console(width=100_000)
    for size in range(len(columns) + 1):
        for subset in itertools.combinations(columns, size):
            expected = measure.measure(runs_table(runs, subset)).maximum
            assert table_width(widths, subset) == expected, subset
