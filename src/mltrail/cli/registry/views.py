"""Rich views of the registry: models, versions, model cards, gates, requests, policies and the trail."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from mltrail.cli.render import (
    format_bytes,
    format_number,
    format_relative,
    format_timestamp,
    format_value,
    pairs,
)
from mltrail.entities import (
    ApprovalPolicy,
    GateResult,
    ModelVersion,
    RegisteredModel,
    RegistryEvent,
    RequestStatus,
    Stage,
    TransitionRequest,
)

__all__ = [
    "STAGE_STYLES",
    "events_table",
    "gates_table",
    "models_table",
    "policy_table",
    "render_card",
    "render_model",
    "request_summary",
    "requests_table",
    "stage_text",
    "versions_table",
]

STAGE_STYLES = {"production": "green", "staging": "cyan", "archived": "dim", "none": ""}
_REQUEST_STYLES = {"pending": "yellow", "approved": "green", "rejected": "red", "cancelled": "dim"}


def stage_text(stage: Stage | str) -> Text:
    value = stage.value if isinstance(stage, Stage) else stage
    return Text(value, style=STAGE_STYLES.get(value, ""))


def _aliases(aliases: Mapping[str, int] | Sequence[str]) -> str:
    if isinstance(aliases, Mapping):
        return ", ".join(f"@{a}→{v}" for a, v in sorted(aliases.items())) or "-"
    return ", ".join(f"@{a}" for a in aliases) or "-"


def models_table(models: Sequence[RegisteredModel], production: Mapping[str, int | None]) -> Table:
    table = Table(box=None, header_style="bold")
    for column in ("name", "project", "latest", "production", "aliases", "owner", "updated"):
        table.add_column(column, no_wrap=column in ("name", "latest", "production", "updated"))
    for m in models:
        prod = production.get(m.name)
        table.add_row(
            m.name,
            m.project,
            str(m.latest_version) if m.latest_version else "-",
            Text(str(prod), style="green") if prod else "-",
            _aliases(m.aliases),
            m.owner or "-",
            format_relative(m.updated_at),
        )
    return table


def policy_table(policy: ApprovalPolicy) -> Table:
    return pairs(
        [
            ("protected stages", ", ".join(policy.protected_stages) or "-"),
            ("protected aliases", ", ".join(policy.protected_aliases) or "-"),
            ("approvals needed", str(policy.required_approvals)),
            ("approver roles", ", ".join(r.value for r in policy.approver_roles)),
            ("gates", "\n".join(policy.gates) or "-"),
            ("require datasets", "yes" if policy.require_datasets else "no"),
            ("require signature", "yes" if policy.require_signature else "no"),
            ("on production", "archive the previous" if policy.archive_previous else "keep the previous"),
        ]
    )


def render_model(model: RegisteredModel) -> Panel:
    rows: list[tuple[str, RenderableType | str]] = [
        ("project", model.project),
        ("owner", model.owner or "-"),
        ("versions", str(model.latest_version)),
        ("aliases", _aliases(model.aliases)),
        ("created", format_timestamp(model.created_at)),
        ("updated", format_timestamp(model.updated_at)),
    ]
    if model.tags:
        rows.append(("tags", ", ".join(f"{k}={v}" for k, v in sorted(model.tags.items()))))
    for key, value in model.card.items():
        rows.append((key.replace("_", " "), format_value(value)))
    parts: list[RenderableType] = []
    if model.description:
        parts += [Text(model.description), Text("")]
    parts += [pairs(rows), Text(""), Text("Policy", style="bold underline"), policy_table(model.policy)]
    return Panel(Group(*parts), title=f"[bold]{model.name}[/bold]", title_align="left", expand=False)


def versions_table(versions: Sequence[ModelVersion]) -> Table:
    table = Table(box=None, header_style="bold")
    for column in ("version", "stage", "aliases", "flavor", "run", "created by", "created"):
        table.add_column(column, no_wrap=True, justify="right" if column == "version" else "left")
    for v in versions:
        table.add_row(
            str(v.version),
            stage_text(v.stage),
            _aliases(v.aliases),
            f"{v.flavor} ({v.format})",
            (v.run_id or "-")[:12],
            v.created_by or "-",
            format_timestamp(v.created_at),
        )
    return table


def _kv_table(title: str, values: Mapping[str, Any], numeric: bool = False) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", box=None, header_style="bold")
    table.add_column("key")
    table.add_column("value", justify="right" if numeric else "left")
    for key, value in sorted(values.items()):
        table.add_row(Text(key), format_number(value) if numeric else Text(format_value(value)))
    return table


def render_card(version: ModelVersion, card: Mapping[str, Any]) -> Group:
    """The version's details, then its model card: lineage, params, metrics and datasets."""
    details = pairs(
        [
            ("stage", stage_text(version.stage)),
            ("aliases", _aliases(version.aliases)),
            ("flavor", f"{version.flavor} ({version.format})"),
            ("runs code on load", "yes" if version.executes_code else "no"),
            ("digest", version.digest),
            ("files", f"{len(version.files)} ({format_bytes(version.size)})"),
            ("signature", "yes" if version.signature else "no"),
            ("registered", f"{format_timestamp(version.created_at)} by {version.created_by or '-'}"),
            ("description", version.description or "-"),
            ("tags", ", ".join(f"{k}={v}" for k, v in sorted(version.tags.items())) or "-"),
        ]
    )
    parts: list[RenderableType] = [
        Panel(details, title=f"[bold]{version.ref}[/bold]", title_align="left", expand=False)
    ]
    run = card.get("run")
    lineage: list[RenderableType] = []
    if run:
        commit = run.get("commit")
        code = "-" if not commit else f"{commit[:12]} ({run.get('branch') or '-'})"
        if run.get("dirty"):
            code += " + uncommitted changes"
        lineage.append(
            pairs(
                [
                    ("run", f"{run['id']} ({run.get('name') or '-'})"),
                    ("status", str(run.get("status"))),
                    ("user", run.get("user") or "-"),
                    ("commit", code),
                ]
            )
        )
        if run.get("params"):
            lineage += [Text(""), _kv_table("Params", run["params"])]
    else:
        lineage.append(Text("No source run (it was deleted, or the version has none).", style="dim"))
    if card.get("metrics"):
        lineage += [Text(""), _kv_table("Metrics (last values)", card["metrics"], numeric=True)]
    if card.get("datasets"):
        data = Table(
            title="Datasets", title_justify="left", title_style="bold", box=None, header_style="bold"
        )
        for column in ("role", "name", "version", "rows", "digest"):
            data.add_column(column)
        for d in card["datasets"]:
            rows = d.get("rows")
            data.add_row(
                Text(d["role"]),
                Text(d["name"]),
                str(d["version"]),
                "-" if rows is None else str(rows),
                d["digest"][:12],
            )
        lineage += [Text(""), data]
    parts.append(Panel(Group(*lineage), title="[bold]Model card[/bold]", title_align="left", expand=False))
    return Group(*parts)


def gates_table(gates: Sequence[GateResult]) -> Table:
    table = Table(box=None, header_style="bold")
    table.add_column("gate")
    table.add_column("passed", justify="center")
    table.add_column("detail")
    for g in gates:
        mark = Text("✓", style="green") if g.passed else Text("✗", style="red")
        table.add_row(Text(g.gate), mark, Text(g.detail))
    return table


def requests_table(requests: Sequence[TransitionRequest]) -> Table:
    table = Table(box=None, header_style="bold")
    for column in ("id", "model", "version", "target", "status", "requested by", "approvals", "created"):
        table.add_column(column, no_wrap=True, justify="right" if column in ("id", "version") else "left")
    table.add_column("comment")
    for r in requests:
        target = r.target if r.kind == "stage" else f"@{r.target}"
        table.add_row(
            str(r.id),
            r.model,
            str(r.version),
            target,
            Text(r.status.value, style=_REQUEST_STYLES.get(r.status.value, "")),
            r.requested_by or "-",
            f"{r.approvals}/{r.required_approvals}",
            format_relative(r.created_at),
            Text(r.comment),
        )
    return table


def request_summary(request: TransitionRequest) -> Text:
    target = request.target if request.kind == "stage" else f"@{request.target}"
    status = request.status
    if status is RequestStatus.PENDING:
        left = request.required_approvals - request.approvals
        return Text(
            f"Request {request.id}: {request.model}:{request.version} → {target} is pending"
            f" ({request.approvals}/{request.required_approvals} approvals; {left} more needed).",
            style="yellow",
        )
    style = "green" if status is RequestStatus.APPROVED else "red"
    return Text(
        f"Request {request.id}: {request.model}:{request.version} → {target} {status.value}.", style=style
    )


def events_table(events: Sequence[RegistryEvent]) -> Table:
    table = Table(box=None, header_style="bold")
    for column in ("time", "user", "action", "model", "version", "project", "client"):
        table.add_column(column, no_wrap=True)
    table.add_column("details", overflow="fold")
    for e in events:
        table.add_row(
            format_timestamp(e.time),
            e.user or "-",
            e.action,
            e.model,
            "-" if e.version is None else str(e.version),
            e.project or "-",
            e.client or "-",
            Text(format_value(e.details) if e.details else ""),
        )
    return table
