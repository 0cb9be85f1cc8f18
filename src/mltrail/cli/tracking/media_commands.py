"""``mltrail runs media``: a run's media names with their kinds and steps, one item's meta, or one of its
files written out (checked against its sha256)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from mltrail.cli.context import services
from mltrail.cli.render import echo_json, stdout_console

__all__ = ["register"]

ProjectOpt = Annotated[str | None, typer.Option("--project", "-p", help="Look runs up in this project only.")]


def register(app: typer.Typer) -> None:
    app.command("media")(show_media)


def _steps(steps: list[int]) -> str:
    return (
        ", ".join(map(str, steps))
        if len(steps) <= 6
        else f"{steps[0]}, {steps[1]} … {steps[-1]} ({len(steps)})"
    )


def show_media(
    ctx: typer.Context,
    run: Annotated[str, typer.Argument(help="A run id, a unique id prefix, or a unique run name.")],
    name: Annotated[str | None, typer.Argument(help="A media name: show that item.")] = None,
    step: Annotated[int | None, typer.Option("--step", help="The item's step (default: its last).")] = None,
    file: Annotated[
        str | None, typer.Option("--file", help="Write this file of the item: image, mask, svg, png, plotly.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Where --file goes (default: NAME-STEP.ext).")
    ] = None,
    project: ProjectOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
) -> None:
    """List a run's images, histograms and figures (docs/MEDIA.md), show one item, or save a file of it."""
    runs = services(ctx).runs()
    found = runs.get(run, project)
    console = stdout_console()
    if name is None:
        names = runs.media(found.id)
        if as_json:
            echo_json({"run_id": found.id, "media": [dataclasses.asdict(m) for m in names]})
            return
        if not names:
            console.print(f"Run {found.id[:8]} ({found.name}) has no media.")
            return
        table = Table(box=None, header_style="bold")
        for column in ("name", "kind", "steps"):
            table.add_column(column)
        for m in names:
            table.add_row(m.name, m.kind, _steps(m.steps))
        console.print(table)
        return
    if file is not None:
        item, data = runs.media_file(found.id, name, file, step)
        mime = next(f.mime for f in item.files if f.role == file)
        ext = {"image/png": "png", "image/jpeg": "jpg", "image/svg+xml": "svg"}.get(mime, "json")
        target = out or Path(f"{name}-{item.step}.{ext}")
        target.write_bytes(data)
        console.print(f"wrote {target} ({len(data):,} bytes, sha256 checked)")
        return
    item = runs.media_item(found.id, name, step)
    if as_json:
        echo_json(dataclasses.asdict(item))
        return
    console.print(f"[bold]{item.name}[/] step {item.step} · {item.kind}")
    for f in item.files:
        console.print(f"  {f.role:7} {f.mime:14} {f.size:>10,} B  {f.digest[:12]}…")
    for key, value in item.meta.items():
        if value not in (None, [], {}):
            text = repr(value)
            console.print(f"  {key}: {text if len(text) <= 200 else text[:200] + '…'}")
