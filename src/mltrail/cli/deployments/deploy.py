"""``mltrail deploy``: create, change, show, list, roll back and promote deployment specs, on the database
directly or on a team server (``CliContext.connection()``), through the SDK's ``DeploymentsClient``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

from mltrail.cli.context import services
from mltrail.cli.deployments.views import (
    deployments_table,
    evidence_table,
    history_table,
    render_deployment,
)
from mltrail.cli.registry.common import JsonOpt, UserOpt, default_user
from mltrail.cli.render import echo_json, stdout_console
from mltrail.entities import Deployment
from mltrail.errors import InvalidInputError
from mltrail.sdk.deployments.client import DeploymentsClient

__all__ = ["app"]

app = typer.Typer(
    help="Deployment specs for `mltrail serve`: primary, canary, shadow, fallback, guards; versioned.",
    no_args_is_help=True,
)
NameArg = Annotated[str, typer.Argument(help="The deployment's name.")]
SpecOpt = Annotated[
    str | None,
    typer.Option("--spec", help="A JSON file with the spec (- reads stdin); see docs/DEPLOYMENTS.md."),
]
PrimaryOpt = Annotated[
    str | None, typer.Option("--primary", help="The model that answers: churn@production.")
]
CanaryOpt = Annotated[
    str | None, typer.Option("--canary", help="REF=PERCENT, e.g. churn@challenger=10 (sticky per key).")
]
ShadowOpt = Annotated[
    list[str] | None, typer.Option("--shadow", help="A model scoring a copy of each request (repeatable).")
]
TimeoutOpt = Annotated[
    float | None, typer.Option("--timeout-ms", help="The budget before the fallback answers.")
]
MonitorOpt = Annotated[str | None, typer.Option("--monitor", help="The monitor every request feeds.")]
CommentOpt = Annotated[str | None, typer.Option("--comment", "-m", help="Why, for the history.")]


def _client(ctx: typer.Context, user: str | None) -> DeploymentsClient:
    acting = (user or "").strip() or default_user(ctx)
    return services(ctx).connection().deployments(acting)


def _read_spec(path: str | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        raw = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        raise InvalidInputError(f"cannot read {path}: {exc.strerror or exc}", field="--spec") from None
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidInputError(f"{path} is not JSON: {exc}", field="--spec") from None
    if not isinstance(data, dict):
        raise InvalidInputError(f"{path} must hold a JSON object (the spec)", field="--spec")
    return data


def _canary(text: str) -> dict[str, Any]:
    ref, sep, percent = text.rpartition("=")
    try:
        share = float(percent)
    except ValueError:
        share = None
    if not sep or not ref or share is None:
        raise InvalidInputError(
            f"--canary is REF=PERCENT, e.g. churn@challenger=10; got {text!r}", field="--canary"
        )
    return {"ref": ref, "percent": share}


def _spec(
    base: dict[str, Any],
    primary: str | None,
    canary: str | None,
    shadow: list[str] | None,
    timeout_ms: float | None,
    monitor: str | None,
) -> dict[str, Any]:
    spec = dict(base)
    if primary is not None:
        spec["primary"] = primary
    if canary is not None:
        spec["canary"] = _canary(canary)
    if shadow:
        spec["shadow"] = list(shadow)
    if timeout_ms is not None:
        spec["timeout_ms"] = timeout_ms
    if monitor is not None:
        spec["monitor"] = monitor
    return spec


def _show(deployment: Deployment, as_json: bool) -> None:
    if as_json:
        echo_json(_as_json(deployment))
    else:
        stdout_console().print(render_deployment(deployment))


def _as_json(d: Deployment) -> dict[str, Any]:
    current = d.current
    return {
        "name": d.name,
        "project": d.project,
        "version": d.version,
        "created_at": d.created_at,
        "created_by": d.created_by,
        "spec": current.spec.to_dict(),
        "action": current.action,
        "user": current.user,
        "time": current.time,
        "comment": current.comment,
        "details": current.details,
    }


@app.command("create")
def create(
    ctx: typer.Context,
    name: NameArg,
    spec: SpecOpt = None,
    primary: PrimaryOpt = None,
    canary: CanaryOpt = None,
    shadow: ShadowOpt = None,
    timeout_ms: TimeoutOpt = None,
    monitor: MonitorOpt = None,
    comment: CommentOpt = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a deployment from --spec and/or options; every model reference must name a version."""
    body = _spec(_read_spec(spec), primary, canary, shadow, timeout_ms, monitor)
    _show(_client(ctx, user).create(name, body, comment=comment), as_json)


@app.command("update")
def update(
    ctx: typer.Context,
    name: NameArg,
    spec: SpecOpt = None,
    primary: PrimaryOpt = None,
    canary: CanaryOpt = None,
    shadow: ShadowOpt = None,
    timeout_ms: TimeoutOpt = None,
    monitor: MonitorOpt = None,
    no_canary: Annotated[bool, typer.Option("--no-canary", help="Remove the canary.")] = False,
    comment: CommentOpt = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Change a deployment: --spec replaces the spec, options change parts of the current one."""
    client = _client(ctx, user)
    current = client.get(name)
    base = _read_spec(spec) if spec is not None else current.spec.to_dict()
    body = _spec(base, primary, canary, shadow, timeout_ms, monitor)
    if no_canary:
        body.pop("canary", None)
    changed = client.update(name, body, comment=comment, expected_version=current.version)
    _show(changed, as_json)


@app.command("show")
def show(ctx: typer.Context, name: NameArg, as_json: JsonOpt = False) -> None:
    """Show a deployment's current spec, with the model versions its references named."""
    _show(_client(ctx, None).get(name), as_json)


@app.command("list")
def list_deployments(
    ctx: typer.Context,
    project: Annotated[str | None, typer.Option("--project", "-p", help="Only this project's.")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="At most this many (1-1000).")] = 100,
    as_json: JsonOpt = False,
) -> None:
    """List deployments with their primary model and monitor."""
    if not 1 <= limit <= 1000:
        raise InvalidInputError(f"--limit must be 1-1000, got {limit}", field="limit")
    found, total = _client(ctx, None).list_deployments(project, limit=limit)
    if as_json:
        echo_json([_as_json(d) for d in found])
        return
    console = stdout_console()
    if not found:
        console.print("no deployments")
        return
    console.print(deployments_table(found))
    if total > len(found):
        console.print(f"{len(found)} of {total} shown (--limit)")


@app.command("history")
def history(
    ctx: typer.Context,
    name: NameArg,
    limit: Annotated[int, typer.Option("--limit", "-n", help="At most this many versions.")] = 20,
    as_json: JsonOpt = False,
) -> None:
    """Show who changed the deployment's spec, when, how and why (newest first)."""
    versions, total = _client(ctx, None).history(name, limit=limit)
    if as_json:
        echo_json(
            [
                {
                    "version": v.version,
                    "action": v.action,
                    "user": v.user,
                    "time": v.time,
                    "comment": v.comment,
                    "spec": v.spec.to_dict(),
                    "details": v.details,
                    "client": v.client,
                    "user_agent": v.user_agent,
                }
                for v in versions
            ]
        )
        return
    stdout_console().print(history_table(versions))
    if total > len(versions):
        stdout_console().print(f"{len(versions)} of {total} versions shown (--limit)")


@app.command("evidence")
def evidence(
    ctx: typer.Context,
    name: NameArg,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="From this time: epoch seconds, ISO 8601 or a duration back (1h, 7d); default: the current"
            " spec version's.",
        ),
    ] = None,
    until: Annotated[str | None, typer.Option("--until", help="Before this time (as --since).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Show what the gateways counted per variant (primary, canary, each shadow): requests, error, fallback
    and guard rates, latency p50/p95/p99, a shadow's agreement with the primary, realized performance."""
    found = _client(ctx, None).evidence(name, since=since, until=until)
    if as_json:
        echo_json(found.to_dict())
        return
    stdout_console().print(evidence_table(found))


@app.command("rollback")
def rollback(
    ctx: typer.Context,
    name: NameArg,
    to: Annotated[
        int | None, typer.Option("--to", help="This version's spec (default: the previous).")
    ] = None,
    comment: CommentOpt = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Return the previous spec (or --to's) as a new version."""
    _show(_client(ctx, user).rollback(name, to_version=to, comment=comment), as_json)


@app.command("promote")
def promote(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="The deployment whose spec is copied, e.g. churn-staging.")],
    target: Annotated[str, typer.Argument(help="The deployment that gets it (created when new).")],
    monitor: Annotated[
        str | None, typer.Option("--monitor", help="The target's monitor (default: the one it has).")
    ] = None,
    comment: CommentOpt = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Copy SOURCE's spec to TARGET as a new version; TARGET keeps its own monitor."""
    _show(_client(ctx, user).promote(source, target, monitor=monitor, comment=comment), as_json)
