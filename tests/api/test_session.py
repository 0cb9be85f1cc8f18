"""The web UI's sign-in: an API key exchanged for an HttpOnly session cookie, with CSRF checks on writes.

In-process (TestClient) over a real SQLite store with ``auth=True``: bob (member) and ana (admin); project
alpha with one run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import orjson
import pytest
import sqlalchemy as sa
from live_server import TestClient

from mltrail.api.app import create_app
from mltrail.services.accounts.service import AccountService
from mltrail.settings import Settings
from mltrail.store.factory import open_store
from mltrail.store.sql import SqlStore

API = "/api/v1"
RUN = "a" * 32
COOKIE = "mltrail_session"


@dataclass
class Server:
    store: SqlStore
    accounts: AccountService
    keys: dict[str, str]
    settings: Settings

    def client(self, base_url: str = "http://testserver", **app_options: object) -> TestClient:
        app = create_app(self.settings, store=self.store, auth=True, **app_options)  # type: ignore[arg-type]
        return TestClient(app, base_url=base_url)


@pytest.fixture
def server(settings: Settings) -> Iterator[Server]:
    store = open_store(f"sqlite:///{settings.home / 'mltrail.db'}")
    accounts = AccountService(store)
    team = (("ana", "admin"), ("bob", "member"))
    keys = {name: accounts.create_user(name, role)[1].secret for name, role in team}
    store.create_run(run_id=RUN, project="alpha", name="run-alpha", user="bob", start_time=1.0)
    yield Server(store, accounts, keys, settings)
    store.close()


@pytest.fixture
def web(server: Server) -> Iterator[TestClient]:
    with server.client() as client:
        yield client


def set_cookie(response: httpx.Response) -> dict[str, str]:
    """The session cookie's attributes as sent (lower-case names; flags map to "")."""
    header = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and v.startswith(COOKIE))
    parts = [p.strip() for p in header.split(";")]
    attrs = {p.partition("=")[0].lower(): p.partition("=")[2] for p in parts[1:]}
    attrs["value"] = parts[0].partition("=")[2]
    return attrs


def sign_in(client: TestClient, key: str) -> dict[str, object]:
    response = client.post(f"{API}/session", json={"api_key": key})
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_sign_in_sets_an_httponly_strict_cookie_and_answers_user_role_expiry_and_csrf(
    web: TestClient, server: Server
) -> None:
    before = time.time()
    response = web.post(f"{API}/session", json={"api_key": server.keys["bob"]})
    assert response.status_code == 200
    body = response.json()
    assert body["user"] == "bob" and body["role"] == "member"
    assert body["key_id"] == server.keys["bob"][:12]
    assert before + 12 * 3600 - 5 <= body["expires_at"] <= time.time() + 12 * 3600
    assert len(body["csrf_token"]) == 64
    assert server.keys["bob"] not in response.text  # the key is not echoed, nor kept
    cookie = set_cookie(response)
    assert "httponly" in cookie and cookie["samesite"].lower() == "strict" and cookie["path"] == "/api"
    assert "secure" not in cookie  # plain http to the server (http://127.0.0.1): a Secure cookie is not kept
    assert 12 * 3600 - 5 <= int(cookie["max-age"]) <= 12 * 3600
    assert cookie["value"] not in (server.keys["bob"], body["csrf_token"])
    assert response.headers["cache-control"] == "no-store"
    # Only the token's sha256 is stored.
    with server.store.engine.connect() as conn:
        stored = conn.execute(sa.text("select token_hash from web_sessions")).scalars().all()
    assert stored == [hashlib.sha256(cookie["value"].encode()).hexdigest()]


@pytest.mark.parametrize(
    ("base_url", "headers", "setting", "secure"),
    [
        ("https://testserver", {}, "auto", True),
        ("http://testserver", {"X-Forwarded-Proto": "https"}, "auto", True),
        ("http://testserver", {"Forwarded": "for=10.0.0.1;proto=https"}, "auto", True),
        ("http://testserver", {"X-Forwarded-Proto": "http"}, "auto", False),
        ("http://testserver", {}, "always", True),
    ],
)
def test_the_cookie_is_secure_over_https_direct_or_through_a_proxy(
    server: Server, base_url: str, headers: dict[str, str], setting: str, secure: bool
) -> None:
    server.settings = dataclasses.replace(server.settings, cookie_secure=setting)
    with server.client(base_url) as client:
        response = client.post(f"{API}/session", json={"api_key": server.keys["bob"]}, headers=headers)
        assert response.status_code == 200
        assert ("secure" in set_cookie(response)) is secure
        csrf = {"X-CSRF-Token": response.json()["csrf_token"]}
        signed_out = client.delete(f"{API}/session", headers={**headers, **csrf})
        assert signed_out.status_code == 204
        assert ("secure" in set_cookie(signed_out)) is secure


def test_the_cookie_reads_and_writes_with_the_csrf_token_only(web: TestClient, server: Server) -> None:
    csrf = str(sign_in(web, server.keys["bob"])["csrf_token"])
    me = web.get(f"{API}/me").json()
    assert (me["authenticated"], me["name"], me["key_id"]) == (True, "bob", server.keys["bob"][:12])
    missing = web.post(f"{API}/keys", json={"name": "laptop"})
    assert missing.status_code == 403
    error = missing.json()["error"]
    assert error["type"] == "PermissionDeniedError" and error["field"] == "X-CSRF-Token"
    assert "X-CSRF-Token" in error["message"] and "/api/v1/session" in error["message"]
    other = csrf[:-1] + ("1" if csrf.endswith("0") else "0")
    wrong = web.post(f"{API}/keys", json={"name": "laptop"}, headers={"X-CSRF-Token": other})
    assert wrong.status_code == 403 and "does not match" in wrong.json()["error"]["message"]
    writes = [
        ("PUT", f"/runs/{RUN}/artifacts/notes.txt", {"content": b"x"}),
        ("PATCH", f"/runs/{RUN}/tags", {"json": {"tags": {"a": "b"}}}),
        ("DELETE", f"/keys/{server.keys['bob'][:12]}", {}),
    ]
    for method, path, body in writes:
        refused = web.request(method, f"{API}{path}", **body)  # type: ignore[arg-type]
        assert refused.status_code == 403, method
        assert refused.json()["error"]["field"] == "X-CSRF-Token"
    # Nothing was written.
    assert [(k.name, k.revoked_at) for k in server.accounts.list_keys("bob")] == [("default", None)]
    assert server.store.get_run(RUN).tags == {}
    assert server.store.list_artifacts(RUN) == []
    made = web.post(f"{API}/keys", json={"name": "laptop"}, headers={"X-CSRF-Token": csrf})
    assert made.status_code == 201 and made.json()["user"] == "bob"
    # After a page reload the UI has lost the token: GET /session gives it again.
    again = web.get(f"{API}/session")
    assert again.status_code == 200 and again.json()["csrf_token"] == csrf and again.json()["user"] == "bob"


def test_another_sessions_csrf_token_does_not_pass(server: Server) -> None:
    with server.client() as bob, server.client() as ana:
        sign_in(bob, server.keys["bob"])
        ana_csrf = str(sign_in(ana, server.keys["ana"])["csrf_token"])
        refused = bob.post(f"{API}/keys", json={"name": "x"}, headers={"X-CSRF-Token": ana_csrf})
        assert refused.status_code == 403


def test_bearer_requests_need_no_csrf_and_win_over_a_cookie(web: TestClient, server: Server) -> None:
    bearer = {"Authorization": f"Bearer {server.keys['ana']}"}
    with server.client() as plain:
        made = plain.post(f"{API}/keys", json={"name": "ci"}, headers=bearer)
        assert made.status_code == 201 and made.json()["user"] == "ana"
    sign_in(web, server.keys["bob"])
    assert web.get(f"{API}/me", headers=bearer).json()["name"] == "ana"
    assert web.post(f"{API}/keys", json={"name": "ci2"}, headers=bearer).json()["user"] == "ana"
    # A bad Bearer key is a 401 even with a good cookie: the header says who is asking.
    assert web.get(f"{API}/me", headers={"Authorization": "Bearer mlt_nope"}).status_code == 401


def test_a_revoked_key_or_a_disabled_user_ends_the_session(server: Server) -> None:
    second = server.accounts.create_key("bob", "web").secret
    with server.client() as web, server.client() as other:
        sign_in(web, second)
        sign_in(other, server.keys["bob"])
        assert web.get(f"{API}/me").status_code == 200
        server.accounts.revoke_key(second[:12])
        ended = web.get(f"{API}/me")
        assert ended.status_code == 401
        assert "sign in again" in ended.json()["error"]["message"]
        assert web.get(f"{API}/session").status_code == 401
        assert other.get(f"{API}/me").status_code == 200  # a session of another key lives on
        server.accounts.set_disabled("bob", True)
        assert other.get(f"{API}/me").status_code == 401
        server.accounts.set_disabled("bob", False)
        assert other.get(f"{API}/me").status_code == 200  # enabled again: the session had not expired


def test_sign_out_needs_the_csrf_token_and_ends_the_session_on_the_server(
    web: TestClient, server: Server
) -> None:
    csrf = str(sign_in(web, server.keys["bob"])["csrf_token"])
    token = web.cookies[COOKIE]
    assert web.delete(f"{API}/session").status_code == 403
    assert web.get(f"{API}/me").status_code == 200  # still signed in
    out = web.delete(f"{API}/session", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 204
    cleared = set_cookie(out)
    assert cleared["value"] in ("", '""') and cleared["max-age"] == "0" and cleared["path"] == "/api"
    assert COOKIE not in web.cookies
    # The old token, replayed by hand (a copied cookie), is dead on the server.
    with server.client() as replay:
        replay.cookies.set(COOKIE, token, domain="testserver.local", path="/api")
        response = replay.get(f"{API}/me", headers={"Cookie": f"{COOKIE}={token}"})
        assert response.status_code == 401
    # Signing out again, without a cookie, is a no-op.
    assert web.delete(f"{API}/session").status_code == 204


def test_a_session_expires_after_its_lifetime_and_never_outlives_its_key(server: Server) -> None:
    server.settings = dataclasses.replace(server.settings, session_ttl=3600.0)
    with server.client() as web:
        body = sign_in(web, server.keys["bob"])
        assert float(str(body["expires_at"])) == pytest.approx(time.time() + 3600, abs=5)
        assert web.get(f"{API}/me").status_code == 200
        sessions = web.app.state.sessions  # type: ignore[attr-defined]
        sessions.clock = lambda: time.time() + 3601
        assert web.get(f"{API}/me").status_code == 401
        sessions.clock = time.time
        short = server.accounts.create_key("bob", "short", expires_in=600).secret
        body = sign_in(web, short)
        assert float(str(body["expires_at"])) == pytest.approx(time.time() + 600, abs=5)
        assert int(set_cookie(web.post(f"{API}/session", json={"api_key": short}))["max-age"]) <= 600


def test_refused_sign_ins_answer_401_and_are_audited_with_successes(web: TestClient, server: Server) -> None:
    bob_id = server.keys["bob"][:12]
    for key in ("", "not-a-key", "mlt_" + "x" * 40, bob_id + "y" * 31):
        response = web.post(f"{API}/session", json={"api_key": key})
        assert response.status_code == 401, key
        assert COOKIE not in response.headers.get("set-cookie", "")
    assert web.post(f"{API}/session", json={"api_key": "k" * 201}).json()["error"]["field"] == "api_key"
    assert web.post(f"{API}/session", json={}).status_code == 400
    csrf = str(sign_in(web, server.keys["bob"])["csrf_token"])
    web.delete(f"{API}/session", headers={"X-CSRF-Token": csrf})
    events = server.store.query_audit_events(limit=20)
    seen = [(e.action, e.status, e.user, e.method) for e in reversed(events)]
    assert seen == [
        ("sign_in", 401, None, "POST"),
        ("sign_in", 401, None, "POST"),
        ("sign_in", 401, None, "POST"),
        ("sign_in", 401, "bob", "POST"),  # bob's key id with the wrong secret: under his name
        ("sign_in", 200, "bob", "POST"),
        ("sign_out", 204, "bob", "DELETE"),
    ]
    assert all(e.path == f"{API}/session" and e.client for e in events)


def test_a_cross_site_form_cannot_sign_a_browser_in(web: TestClient, server: Server) -> None:
    # An HTML form can post text/plain but not application/json: such a body is refused, no cookie is set
    # (no "login CSRF" signing the victim into the attacker's account).
    body = f'{{"api_key": "{server.keys["bob"]}"}}'
    response = web.post(f"{API}/session", content=body, headers={"Content-Type": "text/plain"})
    assert response.status_code == 400 and "set-cookie" not in response.headers


def test_a_large_cookie_write_needs_the_csrf_token_too(web: TestClient, server: Server) -> None:
    csrf = str(sign_in(web, server.keys["bob"])["csrf_token"])
    n = 20_000
    batch = orjson.dumps(
        {"keys": ["loss"] * n, "steps": list(range(n)), "values": [1.0] * n, "wall_times": [1.0] * n}
    )
    assert len(batch) > 64 * 1024
    headers = {"Content-Type": "application/json"}
    refused = web.post(f"{API}/runs/{RUN}/metrics", content=batch, headers=headers)
    assert refused.status_code == 403 and refused.json()["error"]["field"] == "X-CSRF-Token"
    accepted = web.post(f"{API}/runs/{RUN}/metrics", content=batch, headers={**headers, "X-CSRF-Token": csrf})
    assert accepted.status_code == 200, accepted.text


def test_without_authentication_there_is_no_sign_in(settings: Settings) -> None:
    with TestClient(create_app(settings, auth=False)) as client:
        response = client.post(f"{API}/session", json={"api_key": "mlt_" + "x" * 40})
        assert response.status_code == 409
        assert "without authentication" in response.json()["error"]["message"]
        assert client.get(f"{API}/session").status_code == 409
        # Writes need no token there, with or without a stray cookie.
        client.cookies.set(COOKIE, "x" * 43)
        assert client.post(f"{API}/runs", json={"project": "p", "name": "r"}).status_code == 201


def test_settings_read_the_session_variables() -> None:
    env = {"MLTRAIL_SESSION_TTL": "1800", "MLTRAIL_COOKIE_SECURE": "Always"}
    read = Settings.from_env(env)
    assert (read.session_ttl, read.cookie_secure) == (1800.0, "always")
    assert Settings.from_env({}).cookie_secure == "auto"
    with pytest.raises(Exception, match="MLTRAIL_COOKIE_SECURE"):
        Settings.from_env({"MLTRAIL_COOKIE_SECURE": "sometimes"})
    with pytest.raises(Exception, match="MLTRAIL_SESSION_TTL"):
        Settings.from_env({"MLTRAIL_SESSION_TTL": "0"})
