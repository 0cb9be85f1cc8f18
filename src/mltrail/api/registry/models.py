"""``/api/v1/models``: registered models, their approval policy and their aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from mltrail.api.registry.access import ActingUser, Limit, Offset, RegistryAccessDep
from mltrail.api.registry.schemas import (
    AliasIn,
    ModelCreate,
    ModelPagePublic,
    ModelPatch,
    ModelPublic,
    PolicyIn,
    TransitionPublic,
)
from mltrail.entities import Role

__all__ = ["router"]

router = APIRouter(prefix="/models", tags=["models"])
NO_CONTENT = status.HTTP_204_NO_CONTENT


@router.get("")
def list_models(
    ra: RegistryAccessDep,
    project: Annotated[str | None, Query(description="only this project's models")] = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> ModelPagePublic:
    """The models of the projects the user may view, by name."""
    if project is not None:
        ra.project(project, Role.VIEWER)
        projects: list[str] | None = [project]
    else:
        projects = ra.visible_projects()
    models, total = ra.registry.list_models(projects=projects, offset=offset, limit=limit)
    return ModelPagePublic(models=[ModelPublic.of(m) for m in models], total=total)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_model(body: ModelCreate, ra: RegistryAccessDep) -> ModelPublic:
    """Register a model name in a project (member; a ``policy`` or ``card`` needs maintainer)."""
    needed = Role.MAINTAINER if body.policy is not None or body.card is not None else Role.MEMBER
    ra.project(body.project, needed)
    model = ra.registry.create_model(
        body.name,
        project=body.project,
        principal=ra.actor(body.user),
        description=body.description,
        owner=body.owner,
        tags=body.tags,
        policy=None if body.policy is None else body.policy.to_policy(),
        card=body.card,
        origin=ra.origin,
    )
    return ModelPublic.of(model)


@router.get("/{name}")
def get_model(name: str, ra: RegistryAccessDep) -> ModelPublic:
    """The model with its policy, aliases, latest version number and card."""
    return ModelPublic.of(ra.model(name, Role.VIEWER))


@router.patch("/{name}")
def update_model(name: str, body: ModelPatch, ra: RegistryAccessDep) -> ModelPublic:
    """Change the description, owner or tags (member) or the card (maintainer); tags and card are merged."""
    ra.model(name, Role.MAINTAINER if body.card is not None else Role.MEMBER)
    model = ra.registry.update_model(
        name,
        principal=ra.actor(body.user),
        description=body.description,
        owner=body.owner,
        tags=body.tags,
        card=body.card,
        origin=ra.origin,
    )
    return ModelPublic.of(model)


@router.put("/{name}/policy")
def set_model_policy(
    name: str, body: PolicyIn, ra: RegistryAccessDep, user: ActingUser = None
) -> ModelPublic:
    """Replace the model's approval policy (maintainer); recorded as ``policy_changed``."""
    ra.model(name, Role.MAINTAINER)
    model = ra.registry.update_model(
        name, principal=ra.actor(user), policy=body.to_policy(), origin=ra.origin
    )
    return ModelPublic.of(model)


@router.put("/{name}/aliases/{alias}")
def set_model_alias(name: str, alias: str, body: AliasIn, ra: RegistryAccessDep) -> TransitionPublic:
    """Point ``alias`` at a version (member): at once, or as a request when the policy protects it."""
    ra.model(name, Role.MEMBER)
    moved = ra.registry.set_alias(
        name,
        alias,
        body.version,
        principal=ra.actor(body.user),
        comment=body.comment,
        origin=ra.origin,
    )
    return TransitionPublic.of(moved)


@router.delete("/{name}/aliases/{alias}", status_code=NO_CONTENT)
def delete_model_alias(
    name: str,
    alias: str,
    ra: RegistryAccessDep,
    user: ActingUser = None,
) -> Response:
    """Remove the alias (member; a protected one needs maintainer)."""
    ra.model(name, Role.MEMBER)
    ra.registry.delete_alias(name, alias, principal=ra.actor(user), origin=ra.origin)
    return Response(status_code=NO_CONTENT)
