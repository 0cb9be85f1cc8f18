"""``/api/v1/users`` (admins only): list, create (the first API key is in the answer, once), change."""

from __future__ import annotations

from fastapi import APIRouter, status

from mltrail.api.access import AdminOnly
from mltrail.api.accounts.schemas import NewKeyPublic, NewUserPublic, UserCreate, UserPatch, UserPublic
from mltrail.api.deps import AccountsDep
from mltrail.services.accounts.service import parse_duration

__all__ = ["router"]

router = APIRouter(prefix="/users", tags=["accounts"], dependencies=[AdminOnly])


@router.get("")
def list_users(accounts: AccountsDep) -> list[UserPublic]:
    return [UserPublic.of(u) for u in accounts.list_users()]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_user(body: UserCreate, accounts: AccountsDep) -> NewUserPublic:
    """A new user with a first API key. ``api_key.key`` is shown in this answer only: it is not stored."""
    expires = None if body.expires_in is None else parse_duration(body.expires_in, "expires_in")
    user, key = accounts.create_user(body.name, body.role, expires)
    return NewUserPublic(user=UserPublic.of(user), api_key=NewKeyPublic.of_new(key))


@router.get("/{name}")
def get_user(name: str, accounts: AccountsDep) -> UserPublic:
    return UserPublic.of(accounts.get_user(name))


@router.patch("/{name}")
def update_user(name: str, body: UserPatch, accounts: AccountsDep) -> UserPublic:
    """Change the server role and/or disable (keys stop working at once) or enable the user."""
    user = accounts.get_user(name)
    if body.role is not None:
        user = accounts.set_role(name, body.role)
    if body.disabled is not None:
        user = accounts.set_disabled(name, body.disabled)
    return UserPublic.of(user)
