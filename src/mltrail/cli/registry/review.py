"""``mltrail models request/approve/reject/cancel/requests/policy``: transitions, the approvals inbox,
policies; on the database directly or on a team server, through the SDK's ``RegistryClient``."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

import typer
from rich.text import Text

from mltrail.cli.context import services
from mltrail.cli.registry.common import JsonOpt, ModelArg, UserOpt, VersionArg, registry
from mltrail.cli.registry.views import gates_table, policy_table, request_summary, requests_table
from mltrail.cli.render import echo_json, stdout_console
from mltrail.entities import RequestStatus, Stage, TransitionRequest
from mltrail.errors import ConflictError, InvalidInputError, NotFoundError
from mltrail.sdk.client.identity import os_user
from mltrail.sdk.registry.client import RegistryClient
from mltrail.services.accounts.service import parse_role

__all__ = ["approve", "cancel", "list_requests", "policy", "reject", "request"]

CommentOpt = Annotated[str | None, typer.Option("--comment", "-m", help="Why (kept with the request).")]
RequestOpt = Annotated[
    int | None,
    typer.Option("--request", help="The request's id (needed when the version has several pending)."),
]
_STAGES = {s.value for s in Stage}


def request(
    ctx: typer.Context,
    name: ModelArg,
    version: VersionArg,
    to: Annotated[
        str, typer.Option("--to", help="A stage (production, staging, archived, none) or an alias name.")
    ],
    comment: CommentOpt = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Move a version to a stage or point an alias at it: at once if the target is not protected, else open
    a request for approval (the policy's gates are checked now)."""
    target = to.strip()
    is_stage = target.lower() in _STAGES
    moved, opened = registry(ctx, user).transition(
        name,
        version,
        stage=target.lower() if is_stage else None,
        alias=None if is_stage else target,
        comment=comment,
    )
    if as_json:
        echo_json(
            {
                "applied": opened is None,
                "version": moved,
                "request": opened,
                "gates": [] if opened is None else opened.gates,
            }
        )
        return
    console = stdout_console()
    shown = target.lower() if is_stage else f"@{target}"
    if opened is None:
        console.print(Text(f"Applied: {name}:{version} → {shown}.", style="green"))
        return
    console.print(Text(f"{shown} is protected: request {opened.id} opened for approval.", style="bold"))
    console.print(request_summary(opened))
    if opened.gates:
        console.print(gates_table(opened.gates))
    else:
        console.print(Text("The policy has no gates.", style="dim"))
    if services(ctx).connection().embedded:
        console.print(f"Approve with: mltrail models approve {name} {version} --user APPROVER")
    else:
        console.print(f"An approver approves with: mltrail models approve {name} {version}")


def _pending_request(
    service: RegistryClient, name: str, version: int, request_id: int | None
) -> TransitionRequest:
    """The request to decide: the one given (it must be of this version), or the version's only pending."""
    if request_id is not None:
        found = service.get_request(request_id)
        if (found.model, found.version) != (name, version):
            raise InvalidInputError(
                f"request {request_id} is for {found.model}:{found.version}, not {name}:{version}",
                field="request",
            )
        return found
    service.get_version(name, version)  # a missing model or version says so, not "no request"
    pending = service.list_requests(name, RequestStatus.PENDING.value)
    mine = [r for r in pending if r.version == version]
    if not mine:
        raise NotFoundError(f"{name}:{version} has no pending request")
    if len(mine) > 1:
        listed = ", ".join(f"{r.id} (→ {r.target})" for r in mine)
        raise ConflictError(
            f"{name}:{version} has several pending requests: {listed}; choose one with --request"
        )
    return mine[0]


def _decide(
    ctx: typer.Context,
    name: str,
    version: int,
    request_id: int | None,
    approve: bool,
    comment: str | None,
    user: str | None,
    as_json: bool,
    as_admin: bool = False,
) -> None:
    _check_acting_user(ctx, user, as_admin)
    service = registry(ctx, user)
    pending = _pending_request(service, name, version, request_id)
    decided = service.decide(pending.id, approve=approve, comment=comment)
    applied = decided.status is RequestStatus.APPROVED
    if as_json:
        echo_json({"request": decided, "applied": applied})
        return
    console = stdout_console()
    console.print(request_summary(decided))
    if applied:
        shown = decided.target if decided.kind == "stage" else f"@{decided.target}"
        console.print(Text(f"Applied: {name}:{version} → {shown}.", style="green"))


def _check_acting_user(ctx: typer.Context, user: str | None, as_admin: bool) -> None:
    """On the database directly, deciding as another user than the one at the keyboard is what only an admin
    may do: whoever holds the database URL could otherwise approve as anyone. ``--as-admin`` says so."""
    settings = services(ctx).settings
    if not settings.embedded or not user or user.strip() == os_user() or as_admin:
        return
    raise InvalidInputError(
        f"deciding as {user!r} on the database directly is admin access (you are {os_user()!r} here):"
        " add --as-admin to do it anyway (the trail records the operating-system user beside it),"
        " or decide through the team server with your own API key",
        field="--user",
    )


AsAdminOpt = Annotated[
    bool,
    typer.Option(
        "--as-admin",
        help="On the database directly, decide as --user although you are another operating-system user "
        "(database access is admin access; the trail records both).",
    ),
]


def approve(
    ctx: typer.Context,
    name: ModelArg,
    version: VersionArg,
    request_id: RequestOpt = None,
    comment: CommentOpt = None,
    user: UserOpt = None,
    as_admin: AsAdminOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Approve the version's pending request (the requester cannot approve their own)."""
    _decide(ctx, name, version, request_id, True, comment, user, as_json, as_admin)


def reject(
    ctx: typer.Context,
    name: ModelArg,
    version: VersionArg,
    comment: Annotated[str, typer.Option("--comment", "-m", help="Why it is rejected (required).")],
    request_id: RequestOpt = None,
    user: UserOpt = None,
    as_admin: AsAdminOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Reject the version's pending request, saying why."""
    if not comment.strip():
        raise InvalidInputError("a rejection needs a --comment saying why", field="comment")
    _decide(ctx, name, version, request_id, False, comment, user, as_json, as_admin)


def cancel(
    ctx: typer.Context,
    name: ModelArg,
    version: VersionArg,
    request_id: RequestOpt = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Withdraw the version's pending request (its requester, or a maintainer of the model's project)."""
    service = registry(ctx, user)
    pending = _pending_request(service, name, version, request_id)
    cancelled = service.cancel(pending.id)
    if as_json:
        echo_json({"request": cancelled})
        return
    stdout_console().print(request_summary(cancelled))


def list_requests(
    ctx: typer.Context,
    model: Annotated[str | None, typer.Option("--model", help="Only this model's requests.")] = None,
    status: Annotated[
        str, typer.Option("--status", help="pending, approved, rejected, cancelled or all.")
    ] = "pending",
    limit: Annotated[int, typer.Option("--limit", "-n", help="At most this many (1-1000).")] = 100,
    as_json: JsonOpt = False,
) -> None:
    """The approvals inbox: transition requests, newest first."""
    chosen = status.strip().lower()
    if chosen != "all" and chosen not in {s.value for s in RequestStatus}:
        raise InvalidInputError(
            f"status must be pending, approved, rejected, cancelled or all, got {status!r}", field="status"
        )
    if not 1 <= limit <= 1000:
        raise InvalidInputError(f"--limit must be 1-1000, got {limit}", field="limit")
    found, total = registry(ctx).requests_page(model, chosen, limit)
    if as_json:
        echo_json({"total": total, "requests": found})
        return
    console = stdout_console()
    if not found:
        console.print(
            f"No {'' if chosen == 'all' else chosen + ' '}requests" + (f" for {model}." if model else ".")
        )
        return
    console.print(requests_table(found))
    console.print(Text(f"{len(found)} of {total} requests", style="dim"))


def _listed(values: list[str] | None) -> tuple[str, ...] | None:
    """A repeated option's values; ``''`` alone empties the list."""
    if values is None:
        return None
    return tuple(v.strip() for v in values if v.strip())


def policy(
    ctx: typer.Context,
    name: ModelArg,
    approvals: Annotated[
        int | None, typer.Option("--approvals", help="Approvals a request needs (1-10).")
    ] = None,
    approver_role: Annotated[
        list[str] | None,
        typer.Option(
            "--approver-role",
            help="A role whose holders may approve (member, maintainer, admin); repeatable.",
        ),
    ] = None,
    protect_stage: Annotated[
        list[str] | None,
        typer.Option("--protect-stage", help="A stage reached only by approval; repeatable; '' for none."),
    ] = None,
    protect_alias: Annotated[
        list[str] | None,
        typer.Option("--protect-alias", help="An alias moved only by approval; repeatable; '' for none."),
    ] = None,
    gate: Annotated[
        list[str] | None,
        typer.Option(
            "--gate",
            help="A filter the source run must match, e.g. 'metrics.auc >= 0.85'; repeatable; '' for none.",
        ),
    ] = None,
    require_datasets: Annotated[
        bool | None,
        typer.Option("--require-datasets/--no-require-datasets", help="Require recorded training datasets."),
    ] = None,
    require_signature: Annotated[
        bool | None,
        typer.Option("--require-signature/--no-require-signature", help="Require a model signature."),
    ] = None,
    archive_previous: Annotated[
        bool | None,
        typer.Option(
            "--archive-previous/--keep-previous",
            help="Archive the previous production version on promotion, or keep it there.",
        ),
    ] = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show a model's approval policy, or change the fields given (each list option replaces the list)."""
    service = registry(ctx, user)
    current = service.get_model(name).policy
    changes: dict[str, Any] = {
        "required_approvals": approvals,
        "protected_stages": _listed(protect_stage),
        "protected_aliases": _listed(protect_alias),
        "gates": _listed(gate),
        "require_datasets": require_datasets,
        "require_signature": require_signature,
        "archive_previous": archive_previous,
    }
    roles = _listed(approver_role)
    if roles is not None:
        changes["approver_roles"] = tuple(parse_role(r, "approver-role") for r in roles)
    changes = {k: v for k, v in changes.items() if v is not None}
    updated = current
    if changes:
        updated = dataclasses.replace(current, **changes)
        updated = service.set_policy(name, updated).policy
    if as_json:
        echo_json({"model": name, "policy": updated.to_dict(), "changed": sorted(changes)})
        return
    console = stdout_console()
    heading = f"Policy of {name} updated ({', '.join(sorted(changes))})" if changes else f"Policy of {name}"
    console.print(Text(heading, style="bold"))
    console.print(policy_table(updated))
