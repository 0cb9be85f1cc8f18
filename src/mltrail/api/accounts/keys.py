"""``/api/v1/keys``: create your own API key (shown once), list your keys, revoke one. Admins: anyone's."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from mltrail.api.access import AccessDep
from mltrail.api.accounts.schemas import ApiKeyPublic, KeyCreate, NewKeyPublic
from mltrail.api.deps import AccountsDep
from mltrail.errors import InvalidInputError, NotFoundError
from mltrail.services.accounts.service import parse_duration

__all__ = ["router"]

router = APIRouter(prefix="/keys", tags=["accounts"])
NO_CONTENT = status.HTTP_204_NO_CONTENT


def _owner(access: AccessDep, user: str | None) -> str | None:
    """Whose keys: the caller's own by default (None: everyone's, without authentication); someone
    else's only for an admin."""
    if user is None or user == access.principal.name:
        return access.principal.name
    access.require_admin("another user's keys")
    return user


@router.post("", status_code=status.HTTP_201_CREATED)
def create_key(body: KeyCreate, access: AccessDep, accounts: AccountsDep) -> NewKeyPublic:
    """A new key for yourself (an admin may name another ``user``). ``key`` is shown in this answer only."""
    owner = _owner(access, body.user)
    if owner is None:
        raise InvalidInputError("the server runs without authentication: name the user", field="user")
    expires = None if body.expires_in is None else parse_duration(body.expires_in, "expires_in")
    return NewKeyPublic.of_new(accounts.create_key(owner, body.name, expires))


@router.get("")
def list_keys(
    access: AccessDep,
    accounts: AccountsDep,
    user: Annotated[str | None, Query(description="an admin may list another user's keys")] = None,
) -> list[ApiKeyPublic]:
    """Your keys, newest first (revoked and expired ones too); never the keys themselves."""
    return [ApiKeyPublic.of(k) for k in accounts.list_keys(_owner(access, user))]


@router.delete("/{key_id}", status_code=NO_CONTENT)
def revoke_key(key_id: str, access: AccessDep, accounts: AccountsDep) -> Response:
    """Revoke one of your keys (an admin: anyone's). It stops working at once; the record stays."""
    key = accounts.get_key(key_id)
    if key.user != access.principal.name and not access.principal.is_admin:
        raise NotFoundError(f"no API key {key_id!r}")  # someone else's key: as if it did not exist
    accounts.revoke_key(key_id)
    return Response(status_code=NO_CONTENT)
