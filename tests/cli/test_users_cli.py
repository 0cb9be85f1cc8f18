"""``mltrail users``, ``keys``, ``projects members/grant/revoke`` and ``audit`` on a real SQLite store."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

from typer.testing import Result

from mltrail.services.accounts.service import AccountService
from mltrail.store.factory import open_store

Invoke = Callable[..., Result]


def _accounts(home: Path) -> AccountService:
    return AccountService(open_store(f"sqlite:///{home / 'mltrail.db'}"))


def test_users_create_prints_the_key_once_with_a_warning(invoke: Invoke, home: Path) -> None:
    result = invoke("users", "create", "ana", "--role", "admin")
    assert result.exit_code == 0, result.output
    key = result.stdout.strip()
    assert key.startswith("mlt_") and "\n" not in key  # stdout holds the key alone, for scripts
    assert "only this once" in result.stderr and key[:12] in result.stderr
    assert key not in result.stderr
    accounts = _accounts(home)
    try:
        assert accounts.authenticate(key).name == "ana"
    finally:
        accounts.store.close()
    with sqlite3.connect(home / "mltrail.db") as conn:
        dump = "\n".join(conn.iterdump())
    conn.close()
    assert key not in dump and hashlib.sha256(key.encode()).hexdigest() in dump
    listed = invoke("keys", "list")
    assert key[:12] in listed.stdout and key not in listed.stdout


def test_users_list_set_role_disable_enable(invoke: Invoke) -> None:
    invoke("users", "create", "ana", "--role", "admin")
    created = json.loads(invoke("users", "create", "bob", "--expires", "90d", "--json").stdout)
    assert created["user"]["role"] == "member" and created["api_key"]["key"].startswith("mlt_")
    assert created["api_key"]["expires_at"] - created["api_key"]["created_at"] == 90 * 86400
    table = invoke("users", "list").stdout
    assert "ana" in table and "admin" in table and "bob" in table and "member" in table
    assert (
        json.loads(invoke("users", "set-role", "bob", "viewer", "--json").stdout)["user"]["role"] == "viewer"
    )
    assert "disabled" in invoke("users", "disable", "bob").stdout
    users = {u["name"]: u for u in json.loads(invoke("users", "list", "--json").stdout)["users"]}
    assert users["bob"]["disabled"] is True and users["bob"]["role"] == "viewer"
    assert "enabled" in invoke("users", "enable", "bob").stdout
    last_admin = invoke("users", "set-role", "ana", "member")
    assert last_admin.exit_code == 1 and "last enabled admin" in last_admin.stderr
    bad_role = invoke("users", "create", "carl", "--role", "root")
    assert bad_role.exit_code == 2 and "role must be one of" in bad_role.stderr
    duplicate = invoke("users", "create", "bob")
    assert duplicate.exit_code == 1 and "already exists" in duplicate.stderr


def test_keys_create_list_revoke(invoke: Invoke, home: Path) -> None:
    invoke("users", "create", "bob")
    made = invoke("keys", "create", "bob", "--name", "ci", "--expires", "30d", "--json")
    key = json.loads(made.stdout)["api_key"]["key"]
    keys = json.loads(invoke("keys", "list", "--user", "bob", "--json").stdout)["keys"]
    assert [k["name"] for k in keys] == ["ci", "default"]
    assert key not in json.dumps(keys) and all("hash" not in field for k in keys for field in k)
    revoked = invoke("keys", "revoke", key)  # the whole key works as well as its id
    assert revoked.exit_code == 0 and f"Revoked {key[:12]}" in revoked.stdout
    assert "revoked" in invoke("keys", "list").stdout
    assert invoke("keys", "revoke", "mlt_nothing1").exit_code == 1
    assert invoke("keys", "create", "ghost").exit_code == 1


def test_project_memberships(invoke: Invoke) -> None:
    invoke("users", "create", "bob")
    assert "bob is none on secret" in invoke("projects", "grant", "secret", "bob", "none").stdout
    members = json.loads(invoke("projects", "members", "secret", "--json").stdout)["members"]
    assert members == [{"project": "secret", "user": "bob", "role": "none"}]
    assert "bob" in invoke("projects", "members", "secret").stdout
    assert invoke("projects", "grant", "secret", "bob", "admin").exit_code == 2  # a server role only
    revoked = invoke("projects", "revoke", "secret", "bob")
    assert revoked.exit_code == 0 and "server role (member) applies" in revoked.stdout
    assert "No memberships" in invoke("projects", "members", "secret").stdout
    assert invoke("projects", "revoke", "secret", "bob").exit_code == 1
    assert invoke("projects", "members", "nope").exit_code == 1


def test_audit_shows_account_changes_made_here(invoke: Invoke) -> None:
    invoke("users", "create", "ana", "--role", "admin")
    invoke("keys", "create", "ana")
    invoke("projects", "grant", "p", "ana", "viewer")
    events = json.loads(invoke("audit", "--json").stdout)["events"]
    assert [e["action"] for e in events] == ["set_member", "create_key", "create_user"]
    assert all(e["user"] is None and e["method"] == "CLI" and e["client"].startswith("cli:") for e in events)
    assert [
        e["action"] for e in json.loads(invoke("audit", "--project", "p", "--json").stdout)["events"]
    ] == ["set_member"]
    only_keys = invoke("audit", "--action", "create_key", "--since", "1h", "--csv").stdout
    rows = list(csv.DictReader(io.StringIO(only_keys)))
    assert [r["action"] for r in rows] == ["create_key"]
    assert json.loads(invoke("audit", "--since", "2999-01-01", "--json").stdout)["events"] == []
    assert "create_user" in invoke("audit", "--limit", "5").stdout
    assert invoke("audit", "--json", "--csv").exit_code == 2
    assert invoke("audit", "--since", "yesterday").exit_code == 2
