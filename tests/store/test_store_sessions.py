"""The store's web sessions: made from a key, found by token hash with key and user, revoked, swept.

Runs on SQLite and PostgreSQL. Names carry a random suffix because PostgreSQL tests share one database.
"""

from __future__ import annotations

import uuid

import pytest

from mltrail.entities import Role
from mltrail.errors import NotFoundError
from mltrail.store.sql import SqlStore


def _hash() -> str:
    return uuid.uuid4().hex * 2


def _user_and_key(store: SqlStore) -> tuple[str, str]:
    name, key_id = f"u-{uuid.uuid4().hex[:10]}", "mlt_" + uuid.uuid4().hex[:8]
    store.create_user(name, Role.MEMBER, 1.0)
    store.create_api_key(key_id=key_id, user=name, name="web", secret_hash="0" * 64, created_at=1.0)
    return name, key_id


def test_a_session_is_found_by_its_hash_with_its_key_and_user(store: SqlStore) -> None:
    user, key_id = _user_and_key(store)
    token_hash = _hash()
    made = store.create_session(token_hash=token_hash, key_id=key_id, created_at=100.0, expires_at=200.0)
    assert (made.user, made.key_id, made.created_at, made.expires_at, made.revoked_at) == (
        user,
        key_id,
        100.0,
        200.0,
        None,
    )
    found = store.find_session_credential(token_hash)
    assert found is not None
    assert found.session == made and found.key.key_id == key_id and found.user.name == user
    assert store.find_session_credential(_hash()) is None
    with pytest.raises(NotFoundError, match="no API key"):
        store.create_session(token_hash=_hash(), key_id="mlt_missing0", created_at=1.0, expires_at=2.0)


def test_revoking_keeps_the_first_time_and_key_and_user_changes_show(store: SqlStore) -> None:
    user, key_id = _user_and_key(store)
    token_hash = _hash()
    store.create_session(token_hash=token_hash, key_id=key_id, created_at=100.0, expires_at=10_000.0)
    assert store.revoke_session(token_hash, 150.0) is True
    assert store.revoke_session(token_hash, 160.0) is True
    found = store.find_session_credential(token_hash)
    assert found is not None and found.session.revoked_at == 150.0
    assert store.revoke_session(_hash(), 1.0) is False
    other = _hash()
    store.create_session(token_hash=other, key_id=key_id, created_at=100.0, expires_at=10_000.0)
    store.revoke_api_key(key_id, 170.0)
    store.update_user(user, disabled=True)
    found = store.find_session_credential(other)
    assert found is not None and found.key.revoked_at == 170.0 and found.user.disabled


def test_a_sign_in_sweeps_sessions_that_have_expired(store: SqlStore) -> None:
    _, key_id = _user_and_key(store)
    old, live = _hash(), _hash()
    store.create_session(token_hash=old, key_id=key_id, created_at=100.0, expires_at=200.0)
    store.create_session(token_hash=live, key_id=key_id, created_at=150.0, expires_at=10_000.0)
    assert store.find_session_credential(old) is not None
    store.create_session(token_hash=_hash(), key_id=key_id, created_at=300.0, expires_at=400.0)
    assert store.find_session_credential(old) is None
    assert store.find_session_credential(live) is not None
