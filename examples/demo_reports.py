"""The demo's stakeholder report: markdown with live panels over the demo project, exported as HTML and PDF.

Run by ``examples/demo.py`` after the registry, monitor and gateway demos. The report lists the best runs,
charts the two best runs' validation accuracy, compares them, shows the samples that changed between them
when both logged the same predictions table, the production model's card with its approvals, and the
production monitor's drift summary. It is saved in the demo project (a new version when the demo runs again),
written as one self-contained HTML file and, when Chromium is installed, as a PDF under the demo's home.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

import mltrail
from mltrail.errors import MltrailError, NotFoundError
from mltrail.query import parse_sorts
from mltrail.sdk.client.connection import embedded_transport
from mltrail.sdk.reports.export import write_html, write_pdf
from mltrail.settings import Settings

__all__ = ["run_reports_demo"]

REPORT = "model-review"


def _common_predictions_table(settings: Settings, a: str, b: str) -> str | None:
    tables = embedded_transport(settings).services.tables
    names = [{t.name for t in tables.list(run) if t.kind == "predictions"} for run in (a, b)]
    common = sorted(names[0] & names[1])
    return common[0] if common else None


def report_source(settings: Settings, project: str, model: str, monitor: str) -> str:
    """The demo report's markdown: panels over the project's two best runs, the model and its monitor."""
    tracking = embedded_transport(settings).services.tracking
    best = tracking.search_runs(project, sort=parse_sorts(["-metrics.val/acc"]), limit=2).runs
    first, second = best[0].name, best[1].name
    parts = [
        "# Breast-cancer classifier: model review",
        f"The grid of **{project}** was searched over three model families; the best run, `{first}`, was "
        f"registered as **{model}** and approved for production after its gates passed. This report is "
        "evaluated whenever it is opened: the tables and charts below are today's figures.",
        "## The best runs",
        _panel(type="runs", filter="metrics.val/acc >= 0.9", sort="-metrics.val/acc", limit="8"),
        "## Training curves of the two best runs",
        _panel(type="metrics", runs=f"{first}, {second}", keys="val/acc", title="Validation accuracy"),
        _panel(type="compare", runs=f"{second}, {first}", title=f"What differs between {second} and {first}"),
    ]
    table = _common_predictions_table(settings, best[1].id, best[0].id)
    if table is not None:
        parts += [
            "## Which samples changed",
            _panel(type="samples", runs=f"{second}, {first}", table=table, top="8"),
        ]
    parts += [
        "## In production",
        _panel(type="model", model=f"{model}@production"),
        _panel(type="monitor", monitor=monitor, title="Production drift and performance"),
        "*Questions: the ML team's channel.*",
    ]
    return "\n\n".join(parts) + "\n"


def _panel(**options: str) -> str:
    lines = "\n".join(f"{key}: {value}" for key, value in options.items())
    return f"```mltrail-panel\n{lines}\n```"


def run_reports_demo(settings: Settings, console: Console, project: str, model: str, monitor: str) -> None:
    reports = mltrail.connect(settings=settings).reports("ana")
    source = report_source(settings, project, model, monitor)
    try:
        saved = reports.update(project, REPORT, source)
    except NotFoundError:
        saved = reports.create(project, REPORT, source)
    report = reports.read(project, REPORT)
    states = [b.get("status") for b in report["blocks"] if b["type"] != "markdown"]
    folder = Path(settings.home) / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    html = write_html(report, folder / f"{REPORT}.html")
    others = {state: states.count(state) for state in ("hidden", "error") if state in states}
    said = ", ".join(f"{n} {state}" for state, n in {"ok": states.count("ok"), **others}.items())
    console.print(
        f"report [bold]{project}/{REPORT}[/] version {saved['version']}: {len(states)} panels ({said})"
    )
    console.print(f"  HTML: [cyan]{html}[/]")
    try:
        pdf = write_pdf(report, folder / f"{REPORT}.pdf")
        console.print(f"  PDF:  [cyan]{pdf}[/]")
    except MltrailError as exc:
        console.print(f"  PDF: not written ({exc})")
    console.print(f"  CLI:  mltrail reports show {project} {REPORT}\n")
