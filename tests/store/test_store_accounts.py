"""The store's accounts and audit log: users, hashed keys, memberships, role resolution, audit events.

Runs on SQLite and PostgreSQL. Names carry a random suffix because PostgreSQL tests share one database.
"""

from __future__ import annotations

import dataclasses
import uuid

import pytest

from mltrail.entities import AuditEvent, Membership, Role
from mltrail.errors import ConflictError, NotFoundError
from mltrail.store.sql import SqlStore


def _name(prefix: str = "u") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _key_id() -> str:
    return "mlt_" + uuid.uuid4().hex[:8]


def test_users_are_created_read_listed_and_updated(store: SqlStore) -> None:
    ana, bob = _name("ana"), _name("bob")
    created = store.create_user(ana, Role.ADMIN, 10.0)
    store.create_user(bob, Role.MEMBER, 11.0)
    assert (created.name, created.role, created.disabled, created.created_at) == (
        ana,
        Role.ADMIN,
        False,
        10.0,
    )
    assert store.get_user(ana) == created
    listed = [u.name for u in store.list_users()]
    assert ana in listed and bob in listed and listed == sorted(listed)
    with pytest.raises(ConflictError, match="already exists"):
        store.create_user(ana, Role.VIEWER, 12.0)
    changed = store.update_user(bob, role=Role.VIEWER, disabled=True)
    assert (changed.role, changed.disabled) == (Role.VIEWER, True)
    assert store.update_user(bob, disabled=False).role == Role.VIEWER  # None leaves the role
    with pytest.raises(NotFoundError, match="no user"):
        store.get_user(_name("ghost"))
    with pytest.raises(NotFoundError, match="no user"):
        store.update_user(_name("ghost"), role=Role.ADMIN)


def test_api_keys_hold_a_hash_and_can_be_revoked_once(store: SqlStore) -> None:
    user = store.create_user(_name(), Role.MEMBER, 1.0).name
    first, second = _key_id(), _key_id()
    key = store.create_api_key(
        key_id=first, user=user, name="laptop", secret_hash="a" * 64, created_at=5.0, expires_at=100.0
    )
    store.create_api_key(key_id=second, user=user, name="ci", secret_hash="b" * 64, created_at=6.0)
    assert (key.key_id, key.user, key.name, key.expires_at, key.revoked_at) == (
        first,
        user,
        "laptop",
        100.0,
        None,
    )
    assert [k.key_id for k in store.list_api_keys(user)] == [second, first]  # newest first
    assert {first, second} <= {k.key_id for k in store.list_api_keys()}
    credential = store.find_key_credential(first)
    assert credential is not None
    assert credential.secret_hash == "a" * 64 and credential.user.name == user and credential.key == key
    assert store.find_key_credential(_key_id()) is None
    with pytest.raises(ConflictError):
        store.create_api_key(key_id=first, user=user, name="dup", secret_hash="c" * 64, created_at=7.0)
    with pytest.raises(NotFoundError, match="no user"):
        store.create_api_key(
            key_id=_key_id(), user=_name("ghost"), name="x", secret_hash="d" * 64, created_at=1.0
        )
    assert store.revoke_api_key(first, 50.0).revoked_at == 50.0
    assert store.revoke_api_key(first, 60.0).revoked_at == 50.0  # the first revocation stands
    store.touch_api_key(second, 70.0)
    assert store.get_api_key(second).last_used_at == 70.0
    with pytest.raises(NotFoundError, match="no API key"):
        store.revoke_api_key(_key_id(), 1.0)
    with pytest.raises(NotFoundError, match="no API key"):
        store.get_api_key(_key_id())


def test_memberships_override_the_server_role_except_for_admins(store: SqlStore, project: str) -> None:
    member = store.create_user(_name("member"), Role.MEMBER, 1.0).name
    admin = store.create_user(_name("admin"), Role.ADMIN, 1.0).name
    assert store.get_project_role(project, member) == Role.MEMBER  # no project yet: the server role
    assert store.set_project_member(project, member, Role.NONE) == Membership(project, member, Role.NONE)
    store.get_project(project)  # granting created the project
    assert store.get_project_role(project, member) == Role.NONE
    store.set_project_member(project, member, Role.MAINTAINER)  # replaces the row
    assert store.get_project_role(project, member) == Role.MAINTAINER
    store.set_project_member(project, admin, Role.VIEWER)
    assert store.get_project_role(project, admin) == Role.ADMIN  # admin everywhere
    assert [m.user for m in store.list_project_members(project=project)] == sorted([member, admin])
    assert store.list_project_members(user=member) == [Membership(project, member, Role.MAINTAINER)]
    assert store.remove_project_member(project, member) is True
    assert store.remove_project_member(project, member) is False
    assert store.get_project_role(project, member) == Role.MEMBER
    with pytest.raises(NotFoundError, match="no user"):
        store.set_project_member(project, _name("ghost"), Role.VIEWER)
    with pytest.raises(NotFoundError, match="no user"):
        store.get_project_role(project, _name("ghost"))


def test_run_project_lookup(store: SqlStore, project: str) -> None:
    run_id = uuid.uuid4().hex
    store.create_run(run_id=run_id, project=project, name="r", user=None, start_time=1.0)
    assert store.get_run_project(run_id) == project
    with pytest.raises(NotFoundError) as missing:
        store.get_run_project("f" * 32)
    with pytest.raises(NotFoundError) as other:
        store.get_run_status("f" * 32)
    assert str(missing.value) == str(other.value)  # the same message as every other lookup


def test_audit_events_are_appended_and_queried_newest_first(store: SqlStore, project: str) -> None:
    ana, bob = _name("ana"), _name("bob")
    base = 1_000_000.0 + uuid.uuid4().int % 1_000_000
    events = [
        AuditEvent(time=base + 1, user=ana, action="create_run", method="POST", path="/r", project=project),
        AuditEvent(
            time=base + 2,
            user=bob,
            action="log_metrics",
            method="POST",
            path="/m",
            project=project,
            run_id="r1",
            status=200,
            client="127.0.0.1",
            user_agent="ua",
        ),
        AuditEvent(
            time=base + 3,
            user=ana,
            action="delete_run",
            method="DELETE",
            path="/d",
            project=project,
            run_id="r1",
        ),
        AuditEvent(
            time=base + 4, user=None, action="create_user", method="CLI", path="mltrail users", status=0
        ),
    ]
    ids = [store.append_audit_event(e) for e in events]
    assert ids == sorted(ids) and len(set(ids)) == 4
    mine = store.query_audit_events(project=project)
    assert [e.action for e in mine] == ["delete_run", "log_metrics", "create_run"]
    assert mine[1] == dataclasses.replace(events[1], id=ids[1])
    assert [e.action for e in store.query_audit_events(user=ana)] == ["delete_run", "create_run"]
    assert [e.action for e in store.query_audit_events(project=project, action="log_metrics")] == [
        "log_metrics"
    ]
    window = store.query_audit_events(since=base + 2, until=base + 4)
    assert [e.time for e in window] == [base + 3, base + 2]  # since inclusive, until exclusive
    page = store.query_audit_events(project=project, limit=1, offset=1)
    assert [e.action for e in page] == ["log_metrics"]
