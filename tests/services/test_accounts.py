"""AccountService on a real SQLite store: keys shown once and stored hashed, verification, roles, run refs."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from mltrail.entities import Project, Role
from mltrail.errors import AuthenticationError, ConflictError, InvalidInputError, NotFoundError
from mltrail.services.accounts.service import (
    ANONYMOUS,
    KEY_PREFIX,
    TOUCH_INTERVAL,
    AccountService,
    Principal,
    parse_duration,
    parse_role,
)
from mltrail.store.factory import open_store
from mltrail.store.sql import SqlStore


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "m.db"


@pytest.fixture
def store(db: Path) -> Iterator[SqlStore]:
    opened = open_store(f"sqlite:///{db}")
    yield opened
    opened.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def accounts(store: SqlStore, clock: Clock) -> AccountService:
    return AccountService(store, clock=clock)


def test_a_new_key_is_returned_once_and_only_its_hash_is_stored(accounts: AccountService, db: Path) -> None:
    user, new = accounts.create_user("ana", "admin")
    assert user.role == Role.ADMIN and new.key.user == "ana"
    assert new.secret.startswith(KEY_PREFIX) and len(new.secret) == len(KEY_PREFIX) + 43  # 32 random bytes
    assert new.key.key_id == new.secret[:12]
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT * FROM api_keys").fetchall()
        secret_hash = conn.execute("SELECT secret_hash FROM api_keys").fetchone()[0]
    conn.close()
    assert len(rows) == 1
    assert not any(new.secret in str(cell) for cell in rows[0])
    assert secret_hash == hashlib.sha256(new.secret.encode()).hexdigest()
    assert accounts.authenticate(new.secret) == Principal("ana", Role.ADMIN, new.key.key_id)


@pytest.mark.parametrize(
    "presented",
    [None, "", "Bearer", "not-a-key", KEY_PREFIX + "x" * 43, KEY_PREFIX + "!" * 43],
)
def test_missing_malformed_and_unknown_keys_are_refused(
    accounts: AccountService, presented: str | None
) -> None:
    accounts.create_user("ana")
    with pytest.raises(AuthenticationError):
        accounts.authenticate(presented)


def test_a_key_with_the_right_id_but_wrong_rest_is_refused(accounts: AccountService) -> None:
    _, new = accounts.create_user("ana")
    forged = new.secret[:12] + ("A" if new.secret[12] != "A" else "B") + new.secret[13:]
    with pytest.raises(AuthenticationError, match="invalid API key"):
        accounts.authenticate(forged)


def test_revoked_expired_and_disabled_keys_are_refused(accounts: AccountService, clock: Clock) -> None:
    _, first = accounts.create_user("ana", expires_in=parse_duration("1h"))
    second = accounts.create_key("ana", "ci")
    accounts.authenticate(first.secret)
    clock.now += 3600
    with pytest.raises(AuthenticationError, match="expired"):
        accounts.authenticate(first.secret)
    accounts.authenticate(second.secret)  # other keys still work
    accounts.revoke_key(second.key.key_id)
    with pytest.raises(AuthenticationError, match="revoked"):
        accounts.authenticate(second.secret)
    third = accounts.create_key("ana")
    accounts.set_disabled("ana", True)
    with pytest.raises(AuthenticationError, match="disabled"):
        accounts.authenticate(third.secret)
    accounts.set_disabled("ana", False)
    assert accounts.authenticate(third.secret).name == "ana"


def test_last_used_is_written_at_most_once_a_minute(accounts: AccountService, clock: Clock) -> None:
    _, new = accounts.create_user("ana")
    start = clock.now
    accounts.authenticate(new.secret)
    clock.now += TOUCH_INTERVAL - 1
    accounts.authenticate(new.secret)
    assert accounts.get_key(new.key.key_id).last_used_at == start
    clock.now = start + TOUCH_INTERVAL
    accounts.authenticate(new.secret)
    assert accounts.get_key(new.key.key_id).last_used_at == start + TOUCH_INTERVAL


def test_roles_resolve_from_server_role_and_memberships(accounts: AccountService, store: SqlStore) -> None:
    accounts.create_user("ana", "admin")
    accounts.create_user("bob", "member")
    accounts.create_user("eve", "viewer")
    for name in ("a", "b", "c"):
        store.get_or_create_project(name)
    bob, eve = Principal("bob", Role.MEMBER), Principal("eve", Role.VIEWER)
    accounts.set_member("a", "bob", "none")
    accounts.set_member("b", "eve", "maintainer")
    assert accounts.project_roles(bob, ["a", "b", "c"]) == {
        "a": Role.NONE,
        "b": Role.MEMBER,
        "c": Role.MEMBER,
    }
    assert accounts.project_role(eve, "b") == Role.MAINTAINER
    assert accounts.project_role(Principal("ana", Role.ADMIN), "a") == Role.ADMIN
    assert accounts.project_role(ANONYMOUS, "anything") == Role.ADMIN
    projects = store.list_projects()
    assert [p.name for p in accounts.visible_projects(bob, projects)] == ["b", "c"]
    assert [p.name for p in accounts.visible_projects(ANONYMOUS, projects)] == ["a", "b", "c"]
    with pytest.raises(InvalidInputError, match="role"):
        accounts.set_member("a", "bob", "admin")  # admin is a server role only
    with pytest.raises(InvalidInputError, match="project"):
        accounts.set_member("", "bob", "viewer")
    assert [(m.user, m.role) for m in accounts.members("a")] == [("bob", Role.NONE)]
    accounts.remove_member("a", "bob")
    with pytest.raises(NotFoundError):
        accounts.remove_member("a", "bob")
    with pytest.raises(NotFoundError, match="no project"):
        accounts.members("missing")


def test_run_references_resolve_only_among_visible_projects(
    accounts: AccountService, store: SqlStore
) -> None:
    accounts.create_user("bob", "member")
    accounts.set_member("hidden", "bob", "none")
    store.create_run(
        run_id="abcd1111" + "0" * 24, project="hidden", name="shared-name", user=None, start_time=1
    )
    store.create_run(
        run_id="abcd2222" + "0" * 24, project="open", name="shared-name", user=None, start_time=2
    )
    bob = Principal("bob", Role.MEMBER)
    # Anyone else would see an ambiguity naming the hidden run; bob sees exactly one run.
    assert accounts.resolve_run(bob, "abcd") == "abcd2222" + "0" * 24
    assert accounts.resolve_run(bob, "shared-name") == "abcd2222" + "0" * 24
    with pytest.raises(NotFoundError) as hidden:
        accounts.resolve_run(bob, "abcd1111")
    assert str(hidden.value) == "no run 'abcd1111'"
    with pytest.raises(ConflictError):
        accounts.resolve_run(Principal("root", Role.ADMIN), "abcd")


def test_the_last_enabled_admin_cannot_be_demoted_or_disabled(accounts: AccountService) -> None:
    accounts.create_user("ana", "admin")
    with pytest.raises(ConflictError, match="last enabled admin"):
        accounts.set_role("ana", "member")
    with pytest.raises(ConflictError, match="last enabled admin"):
        accounts.set_disabled("ana", True)
    accounts.create_user("bob", "admin")
    assert accounts.set_role("ana", "member").role == Role.MEMBER


def test_user_names_roles_and_durations_are_validated(accounts: AccountService) -> None:
    for bad in ("", " ana", "a/b", "x" * 65, "-ana"):
        with pytest.raises(InvalidInputError, match="user name"):
            accounts.create_user(bad)
    with pytest.raises(InvalidInputError, match="role must be one of"):
        accounts.create_user("ana", "root")
    with pytest.raises(ConflictError):
        accounts.create_user("bob")
        accounts.create_user("bob")
    assert parse_role(" Viewer ") == Role.VIEWER
    assert parse_duration("90d") == 90 * 86400
    assert parse_duration("12h") == 12 * 3600
    assert parse_duration("2w") == 14 * 86400
    assert parse_duration("30") == 30 * 86400  # a bare number is days
    for bad in ("0d", "-1d", "soon", "1y", "40000d", "9" * 400):
        with pytest.raises(InvalidInputError):
            parse_duration(bad)


def test_projects_are_plain_entities(store: SqlStore) -> None:
    # visible_projects keeps the store's entities as they are (counts included), only filtering them.
    store.create_run(run_id="r" * 32, project="p", name="n", user=None, start_time=1.0)
    accounts = AccountService(store)
    listed = accounts.visible_projects(ANONYMOUS, store.list_projects())
    assert isinstance(listed[0], Project) and listed[0].run_count == 1
