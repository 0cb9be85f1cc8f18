"""``mltrail reports``: create a report from a markdown file with panel directives, list, show, update,
delete, and export it as one HTML file or a PDF, on the database directly or on a team server
(``CliContext.connection()``), through the SDK's ``ReportsClient``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from mltrail.cli.context import services
from mltrail.cli.registry.common import JsonOpt, UserOpt, default_user
from mltrail.cli.render import echo_json, format_number, format_timestamp, stdout_console
from mltrail.errors import InvalidInputError
from mltrail.sdk.reports.client import ReportsClient

__all__ = ["app"]

app = typer.Typer(
    help="Stakeholder reports: markdown with live panels of runs, charts, samples, models and monitors.",
    no_args_is_help=True,
)
ProjectArg = Annotated[str, typer.Argument(help="The project the report belongs to.")]
NameArg = Annotated[str, typer.Argument(help="The report's name (letters, digits, '.', '_', '-').")]
FromOpt = Annotated[
    str,
    typer.Option(
        "--from", help="A markdown file with ```mltrail-panel blocks (- reads stdin); docs/REPORTS.md."
    ),
]
TitleOpt = Annotated[str | None, typer.Option("--title", help="Default: the first heading, else the name.")]


def _client(ctx: typer.Context, user: str | None = None) -> ReportsClient:
    acting = (user or "").strip() or default_user(ctx)
    return services(ctx).connection().reports(acting)


def _read_source(path: str) -> str:
    try:
        raw = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        raise InvalidInputError(f"cannot read {path}: {exc.strerror or exc}", field="--from") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInputError(f"{path} is not UTF-8 text", field="--from") from None


def _said(report: dict[str, Any], what: str) -> None:
    stdout_console().print(
        f"{what} report [bold]{report['name']}[/bold] in {report['project']} (version {report['version']},"
        f" {len(report['blocks'])} blocks)"
    )


@app.command("create")
def create(
    ctx: typer.Context,
    project: ProjectArg,
    name: NameArg,
    source: FromOpt,
    title: TitleOpt = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create report NAME in PROJECT from a markdown file with panel directives."""
    made = _client(ctx, user).create(project, name, _read_source(source), title=title)
    echo_json(made) if as_json else _said(made, "Created")


@app.command("update")
def update(
    ctx: typer.Context,
    project: ProjectArg,
    name: NameArg,
    source: Annotated[str | None, typer.Option("--from", help="The new markdown (- reads stdin).")] = None,
    title: TitleOpt = None,
    expected_version: Annotated[
        int | None, typer.Option("--expected-version", help="Refuse if someone saved another version since.")
    ] = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Save a new version of report NAME (its source from --from, its title from --title)."""
    text = None if source is None else _read_source(source)
    if text is None and title is None:
        raise InvalidInputError(
            "give --from FILE or --title TEXT: there is nothing to change", field="--from"
        )
    saved = _client(ctx, user).update(project, name, text, title=title, expected_version=expected_version)
    echo_json(saved) if as_json else _said(saved, "Saved")


@app.command("list")
def list_reports(ctx: typer.Context, project: ProjectArg, as_json: JsonOpt = False) -> None:
    """The reports of PROJECT."""
    found, total = _client(ctx).list_reports(project, limit=1000)
    if as_json:
        echo_json({"reports": found, "total": total})
        return
    table = Table("name", "title", "version", "updated", "by", box=None)
    for r in found:
        table.add_row(
            r["name"], r["title"], str(r["version"]), format_timestamp(r["updated_at"]), r["updated_by"] or ""
        )
    stdout_console().print(table)


@app.command("show")
def show(
    ctx: typer.Context,
    project: ProjectArg,
    name: NameArg,
    source: Annotated[bool, typer.Option("--source", help="Print the markdown source only.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Report NAME with its panels evaluated now (--source: its markdown; --json: everything)."""
    client = _client(ctx)
    if source:
        typer.echo(client.get(project, name)["source"], nl=False)
        return
    report = client.read(project, name)
    if as_json:
        echo_json(report)
        return
    console = stdout_console()
    console.print(
        f"[bold]{report['title']}[/bold]  {report['project']}/{report['name']} v{report['version']}"
    )
    for block in report["blocks"]:
        if block["type"] == "markdown":
            from rich.markdown import Markdown

            console.print(Markdown(block["text"]))
            continue
        status = block["status"]
        note = "" if status == "ok" else f" — {block.get('message', '')}"
        console.print(f"[cyan]▣ {block['title']}[/cyan] ({block['type']}: {status}){note}")
        data = block.get("data") or {}
        if block["type"] == "runs" and status == "ok":
            table = Table(*data["columns"], box=None)
            for row in data["rows"]:
                table.add_row(*(_cell(v) for v in row))
            console.print(table)


@app.command("delete")
def delete(ctx: typer.Context, project: ProjectArg, name: NameArg, user: UserOpt = None) -> None:
    """Delete report NAME of PROJECT."""
    _client(ctx, user).delete(project, name)
    stdout_console().print(f"Deleted report {name} of {project}")


@app.command("export")
def export(
    ctx: typer.Context,
    project: ProjectArg,
    name: NameArg,
    html: Annotated[
        Path | None, typer.Option("--html", help="Write one self-contained HTML file here.")
    ] = None,
    pdf: Annotated[
        Path | None, typer.Option("--pdf", help="Print a PDF here with headless Chromium.")
    ] = None,
    chromium: Annotated[
        str | None, typer.Option("--chromium", help="The browser that prints (default: /usr/bin/chromium).")
    ] = None,
) -> None:
    """Export report NAME, its panels evaluated now, as HTML (--html) and/or PDF (--pdf)."""
    from mltrail.sdk.reports.export import find_chromium, write_html, write_pdf

    if html is None and pdf is None:
        raise InvalidInputError("give --html FILE and/or --pdf FILE", field="--html")
    if pdf is not None:
        find_chromium(chromium)  # before any work: a missing browser is said at once
    report = _client(ctx).read(project, name)
    console = stdout_console()
    if html is not None:
        console.print(f"Wrote {write_html(report, html)}")
    if pdf is not None:
        console.print(f"Wrote {write_pdf(report, pdf, chromium=chromium)}")


def _cell(value: Any) -> str:
    """A runs panel's cell: floats as ``runs list`` shows them (``0.82``, not ``0.8200000000000001``)."""
    if value is None:
        return ""
    return format_number(value) if isinstance(value, float) else str(value)
