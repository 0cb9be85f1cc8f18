"""``mltrail models``: the model registry — list, show, register, alias, download — on the database directly
or on a team server (``CliContext.connection()``), through the SDK's ``RegistryClient``."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.text import Text

from mltrail.cli.registry import review as models_review
from mltrail.cli.registry import trail as models_trail
from mltrail.cli.registry import webhooks as models_webhooks
from mltrail.cli.registry.common import JsonOpt, ModelArg, UserOpt, registry
from mltrail.cli.registry.views import (
    models_table,
    render_card,
    render_model,
    request_summary,
    versions_table,
)
from mltrail.cli.render import echo_json, format_bytes, json_safe, stderr_console, stdout_console
from mltrail.entities import Stage
from mltrail.errors import InvalidInputError
from mltrail.services.registry.checks import parse_model_ref

__all__ = ["app"]

app = typer.Typer(
    help="The model registry: versions from runs, stages, aliases, approvals, downloads and the trail.",
    no_args_is_help=True,
)
RefArg = Annotated[
    str, typer.Argument(help="NAME, NAME:VERSION, NAME@ALIAS or NAME@STAGE (e.g. churn@production).")
]


@app.command("list")
def list_models(
    ctx: typer.Context,
    project: Annotated[
        str | None, typer.Option("--project", "-p", help="Only this project's models.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="At most this many models (1-1000).")] = 100,
    as_json: JsonOpt = False,
) -> None:
    """List registered models with their latest and production versions and aliases."""
    if not 1 <= limit <= 1000:
        raise InvalidInputError(f"--limit must be 1-1000, got {limit}", field="limit")
    client = registry(ctx)
    models, total = client.models_page(project, limit)
    production: dict[str, int | None] = {}
    for model in models:
        versions, _ = client.versions_page(model.name, stage=Stage.PRODUCTION, limit=1)
        production[model.name] = versions[0].version if versions else None
    if as_json:
        echo_json(
            {
                "total": total,
                "models": [{**json_safe(m), "production_version": production[m.name]} for m in models],
            }
        )
        return
    console = stdout_console()
    if not models:
        console.print("No registered models" + (f" in {project}." if project else "."))
        return
    console.print(models_table(models, production))
    console.print(Text(f"{len(models)} of {total} models", style="dim"))


@app.command("show")
def show_model(ctx: typer.Context, ref: RefArg, as_json: JsonOpt = False) -> None:
    """Show a model and its versions, or one version with its model card (lineage, params, metrics,
    datasets)."""
    client = registry(ctx)
    parsed = parse_model_ref(ref)
    model = client.get_model(parsed.model)
    console = stdout_console()
    if parsed.version is None and parsed.alias is None and parsed.stage is None:
        versions, total = client.versions_page(model.name, limit=1000)
        if as_json:
            echo_json({"model": model, "versions": versions, "total_versions": total})
            return
        console.print(render_model(model))
        if versions:
            console.print(versions_table(versions))
        else:
            console.print(f"{model.name} has no versions yet.")
        return
    version = client.resolve(ref)
    card = client.model_card(version)
    if as_json:
        echo_json({"model": model, "version": version, "card": card})
        return
    console.print(render_model(model))
    console.print(render_card(version, card))


@app.command("register")
def register_version(
    ctx: typer.Context,
    name: ModelArg,
    run: Annotated[str, typer.Argument(help="The run that logged the model: id, unique prefix or name.")],
    path: Annotated[
        str, typer.Option("--path", help="The model folder's artifact path in the run.")
    ] = "model",
    project: Annotated[
        str | None, typer.Option("--project", "-p", help="Look the run up in this project only.")
    ] = None,
    description: Annotated[str | None, typer.Option(help="The version's description.")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="A KEY=VALUE tag; repeatable.")] = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Register the model folder a run logged as the model's next version (the model is created in the
    run's project if new)."""
    tags: dict[str, str] = {}
    for item in tag or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InvalidInputError(f"a tag is KEY=VALUE, got {item!r}", field="tag")
        tags[key.strip()] = value
    client = registry(ctx, user)
    run_id = client.run_id(run, project)
    version = client.register(name, run_id, path, description, tags)
    if as_json:
        echo_json({"version": version})
        return
    stdout_console().print(
        f"Registered {version.ref} ({version.flavor}, {len(version.files)} files,"
        f" {format_bytes(version.size)}) from run {run_id[:12]}; digest {version.digest}"
    )


@app.command("alias")
def alias(
    ctx: typer.Context,
    name: ModelArg,
    alias_name: Annotated[str, typer.Argument(metavar="ALIAS", help="The alias, e.g. champion.")],
    version: Annotated[
        str | None, typer.Argument(help="The version it should point at: a number or NAME:NUMBER.")
    ] = None,
    delete: Annotated[bool, typer.Option("--delete", help="Remove the alias instead.")] = False,
    comment: Annotated[str | None, typer.Option(help="Why (kept in the trail and any request).")] = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Point an alias at a version (a protected alias opens a request), or delete it."""
    if delete == (version is not None):
        raise InvalidInputError("give either VERSION or --delete", field="version")
    client = registry(ctx, user)
    console = stdout_console()
    if version is None:
        client.delete_alias(name, alias_name)
        if as_json:
            echo_json({"model": name, "alias": alias_name, "deleted": True})
        else:
            console.print(f"Deleted alias {name}@{alias_name}.")
        return
    moved, opened = client.set_alias(name, alias_name, version, comment)
    if as_json:
        echo_json({"applied": opened is None, "version": moved, "request": opened})
        return
    if opened is None:
        console.print(f"{name}@{alias_name} → version {moved.version}.")
    else:
        console.print(Text(f"{name}@{alias_name} is protected: a request was opened.", style="bold"))
        console.print(request_summary(opened))


@app.command("download")
def download(
    ctx: typer.Context,
    ref: RefArg,
    into: Annotated[Path, typer.Option("--into", help="A new or empty folder to write the files into.")],
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Copy a version's files into a folder, each checked against its sha256, and record the download
    (a server records each file it serves)."""
    parse_model_ref(ref)  # a malformed reference is bad input (exit 2) wherever the registry is
    client = registry(ctx, user)
    version = client.resolve(ref)
    target = into.expanduser().resolve()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InvalidInputError(f"{target} exists and is not an empty folder", field="into")
    target.parent.mkdir(parents=True, exist_ok=True)
    # Files land in a hidden sibling first, so a corrupt blob leaves no partial model behind.
    staging = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.partial")
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    try:
        with Progress(*columns, console=stderr_console(), transient=True) as progress:
            task = progress.add_task(f"downloading {version.ref}", total=len(version.files))
            for path in client.download_files(version, staging):
                progress.update(task, advance=1, description=path)
        if target.exists():
            target.rmdir()
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    client.record_download(version)
    if as_json:
        echo_json({"version": version.ref, "into": target, "digest": version.digest, "files": version.files})
        return
    stdout_console().print(
        f"Downloaded {version.ref} ({len(version.files)} files, {format_bytes(version.size)}, every sha256"
        f" verified) into {target}\ndigest {version.digest}"
    )


app.command("request")(models_review.request)
app.command("approve")(models_review.approve)
app.command("reject")(models_review.reject)
app.command("requests")(models_review.list_requests)
app.command("cancel")(models_review.cancel)
app.command("policy")(models_review.policy)
app.command("audit")(models_trail.audit)
app.add_typer(models_webhooks.app, name="webhooks")
