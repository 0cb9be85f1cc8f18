"""Every tracking and accounts command against a real ``mltrail server --auth`` on 127.0.0.1.

Two training scripts run from a dirty git checkout as the member ``bob`` (through ``MLTRAIL_SERVER`` and
``MLTRAIL_API_KEY``, with ``MLTRAIL_USER=mallory``, which the server must ignore). Then the CLI reads, diffs,
reproduces, downloads and deletes them with ``bob``'s key (a member) and ``ana``'s (an admin), through
``MLTRAIL_SERVER``, ``--server`` and ``mltrail login``; and refuses what it must: a server that is down or is
not an mltrail server, a key of another server, a bad key at login, a tampered blob, a path outside the run.
"""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from mltrail.cli.main import app
from mltrail.sdk.tracking.journal_transport import close_journaling_transports
from mltrail.services.accounts.service import AccountService
from mltrail.store.factory import open_store

TRAIN = """\
import os
import sys
from pathlib import Path

import mltrail

lr, name = float(sys.argv[1]), sys.argv[2]
out = Path(os.environ["OUT_DIR"]) / name
out.mkdir(parents=True)
(out / "weights.bin").write_bytes(os.urandom(300_000))
(out / "meta.json").write_text('{"lr": %s}' % lr)
with mltrail.init(project="vision", name=name, config={"lr": lr, "opt": "adam"}) as run:
    for step in range(20):
        run.log({"loss": lr / (step + 1), "acc": step / 20}, step=step)
    run.log_artifact(out, name="model")
    run.log_dataset("data.csv", name="train-data")
    Path(os.environ["OUT_DIR"], name + ".id").write_text(run.id)
"""


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True)
    return done.stdout.strip()


@dataclass
class Team:
    url: str
    home: Path
    keys: dict[str, str]
    ids: dict[str, str]
    repo: Path
    commit: str
    config_dir: Path


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory, live_server: Any) -> Iterator[Team]:
    root = tmp_path_factory.mktemp("team-cli")
    home = root / "server" / "mltrail"
    store = open_store(f"sqlite:///{home / 'mltrail.db'}")
    accounts = AccountService(store)
    keys = {
        name: accounts.create_user(name, role)[1].secret
        for name, role in [("ana", "admin"), ("bob", "member"), ("vic", "viewer")]
    }
    store.close()
    live = live_server.start_server(home, "--auth")

    repo = root / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.email", "t@example.com")
    _git(repo, "config", "user.name", "T")
    (repo / "train.py").write_text(TRAIN)
    (repo / "data.csv").write_text("x,y\n1,2\n3,4\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "initial")
    commit = _git(repo, "rev-parse", "HEAD")
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("MLTRAIL_") or k == "MLTRAIL_TEST_POSTGRES"
    }
    env.update(
        MLTRAIL_SERVER=live.url,
        MLTRAIL_API_KEY=keys["bob"],
        MLTRAIL_USER="mallory",  # a server with authentication records the key's user instead
        MLTRAIL_JOURNAL_DIR=str(root / "journal"),
        MLTRAIL_CONFIG_DIR=str(root / "no-config"),
        MLTRAIL_CAPTURE_SYSTEM_METRICS="0",
        MLTRAIL_CAPTURE_CONSOLE="0",
        OUT_DIR=str(root / "outputs"),
        PYTHONDONTWRITEBYTECODE="1",
    )
    ids = {}
    for name, lr, edit in [("alpha", "0.1", "# alpha: warmup\n"), ("beta", "0.2", "# beta: no warmup\n")]:
        (repo / "train.py").write_text(TRAIN + edit)  # uncommitted: stored as code/diff.patch
        subprocess.run(
            [sys.executable, "train.py", lr, name],
            cwd=repo,
            env=env,
            check=True,
            capture_output=True,
            timeout=120,
        )
        ids[name] = (root / "outputs" / f"{name}.id").read_text()
    yield Team(live.url, home, keys, ids, repo, commit, root / "config")
    live.stop()


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, team: Team) -> Iterator[None]:
    for name in [n for n in os.environ if n.startswith("MLTRAIL_") and n != "MLTRAIL_TEST_POSTGRES"]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("MLTRAIL_CONFIG_DIR", str(team.config_dir))
    monkeypatch.setenv("COLUMNS", "200")
    yield
    close_journaling_transports()


def cli(team: Team, *args: str, user: str | None = "bob", input: str | None = None) -> Result:
    """``mltrail ARGS`` with MLTRAIL_SERVER and USER's key in the environment (no server with user=None)."""
    env = {"MLTRAIL_SERVER": team.url, "MLTRAIL_API_KEY": team.keys[user]} if user else {}
    return CliRunner().invoke(app, list(args), env=env, input=input, catch_exceptions=False)


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output + result.stderr
    assert "Traceback" not in result.output + result.stderr
    return result


# -- reading runs ------------------------------------------------------------------------------------------
def test_runs_are_recorded_as_the_keys_user(team: Team) -> None:
    data = json.loads(ok(cli(team, "runs", "list", "vision", "--json")).stdout)
    assert {r["name"]: r["user"] for r in data["runs"]} == {"alpha": "bob", "beta": "bob"}


def test_projects_list_and_runs_list_with_a_filter(team: Team) -> None:
    listed = ok(cli(team, "projects", "list")).stdout
    assert "vision" in listed
    result = ok(cli(team, "runs", "list", "vision", "--filter", "params.lr > 0.15", "-s", "-metrics.acc"))
    assert "beta" in result.stdout and "alpha" not in result.stdout
    assert "1-1 of 1 runs" in result.stdout
    bad = cli(team, "runs", "list", "vision", "--filter", "params.lr >")
    assert bad.exit_code == 2 and "Traceback" not in bad.stderr


def test_runs_show_by_name_prefix_and_id(team: Team) -> None:
    alpha = team.ids["alpha"]
    for ref in ("alpha", alpha[:8], alpha):
        shown = ok(cli(team, "runs", "show", ref, "--project", "vision", "--json"))
        data = json.loads(shown.stdout)
        assert data["run"]["id"] == alpha
        assert data["run"]["context"]["git"]["commit"] == team.commit
        assert {a["path"] for a in data["artifacts"]} >= {"model/weights.bin", "model/meta.json"}
        assert data["datasets"][0]["dataset"]["name"] == "train-data"
    text = ok(cli(team, "runs", "show", "alpha", user="vic")).stdout  # a viewer may read
    assert "alpha" in text and "lr" in text


def test_runs_history(team: Team) -> None:
    result = ok(cli(team, "runs", "history", "alpha", "loss", "--json"))
    data = json.loads(result.stdout)
    assert data["run_id"] == team.ids["alpha"] and data["total_points"] == 20
    assert data["points"][0] == {"step": 0, "value": 0.1, "wall_time": data["points"][0]["wall_time"]}
    down = json.loads(ok(cli(team, "runs", "history", "alpha", "loss", "--max-points", "4", "--json")).stdout)
    assert down["downsampled"] and len(down["points"]) <= 6
    assert "20 points" in ok(cli(team, "runs", "history", team.ids["alpha"][:6], "loss")).stdout


def test_runs_diff_shows_the_patches_against_each_other(team: Team) -> None:
    result = ok(cli(team, "runs", "diff", "alpha", "beta"))
    # The two patches against each other: alpha's added line removed, beta's added.
    assert "-+# alpha: warmup" in result.stdout and "++# beta: no warmup" in result.stdout
    data = json.loads(ok(cli(team, "runs", "diff", "alpha", "beta", "--json")).stdout)
    assert data["params"]["changed"]["lr"] == {"a": 0.1, "b": 0.2}
    assert data["code"]["same_commit"] and not data["code"]["same_patch"]


def test_runs_reproduce_rebuilds_the_code_from_the_server(team: Team, tmp_path: Path) -> None:
    into = tmp_path / "again"
    result = ok(cli(team, "runs", "reproduce", "alpha", "--into", str(into)))
    assert "applied" in result.stdout
    assert (into / "train.py").read_text() == TRAIN + "# alpha: warmup\n"
    assert _git(into, "rev-parse", "HEAD") == team.commit
    assert json.loads((into / "config.json").read_text()) == {"lr": 0.1, "opt": "adam"}


def test_runs_artifacts_and_download_of_a_file_and_a_folder(team: Team, tmp_path: Path) -> None:
    listed = ok(cli(team, "runs", "artifacts", "alpha")).stdout
    assert "model/weights.bin" in listed and "293.0 KB" in listed
    data = json.loads(ok(cli(team, "runs", "artifacts", "alpha", "--json")).stdout)
    weights = next(a for a in data["artifacts"] if a["path"] == "model/weights.bin")
    assert weights["digest"][:12] in listed

    original = Path(team.repo.parent / "outputs" / "alpha")
    one = ok(cli(team, "runs", "download", "alpha", "model/weights.bin", "--to", str(tmp_path / "one")))
    assert (tmp_path / "one" / "weights.bin").read_bytes() == (original / "weights.bin").read_bytes()
    assert "verified" in one.stdout
    ok(cli(team, "runs", "download", "alpha", "model", "--to", str(tmp_path / "all")))
    assert sorted(p.name for p in (tmp_path / "all" / "model").iterdir()) == ["meta.json", "weights.bin"]
    assert (tmp_path / "all" / "model" / "meta.json").read_text() == '{"lr": 0.1}'


def test_runs_download_of_a_path_outside_the_run_is_refused(team: Team, tmp_path: Path) -> None:
    for path in ("../etc/passwd", "/etc/passwd", "model/../../x"):
        result = cli(team, "runs", "download", "alpha", path, "--to", str(tmp_path))
        assert result.exit_code == 2, (path, result.output, result.stderr)
        assert "artifact path" in result.stderr and "Traceback" not in result.stderr
    assert not list(tmp_path.iterdir())


def test_a_tampered_blob_is_refused_and_leaves_no_file(team: Team, tmp_path: Path) -> None:
    data = json.loads(ok(cli(team, "runs", "artifacts", "beta", "--json")).stdout)
    meta = next(a for a in data["artifacts"] if a["path"] == "model/meta.json")
    digest = meta["digest"]
    blob = team.home / "blobs" / "sha256" / digest[:2] / digest[2:4] / digest
    original = blob.read_bytes()
    blob.chmod(0o644)
    blob.write_bytes(b'{"lr": 9.9}')
    try:
        result = cli(team, "runs", "download", "beta", "model/meta.json", "--to", str(tmp_path))
        assert result.exit_code == 1
        assert "sha256" in result.stderr and "Traceback" not in result.stderr
        assert list(tmp_path.iterdir()) == []  # no file, no partial file
    finally:
        blob.write_bytes(original)


# -- accounts ----------------------------------------------------------------------------------------------
def test_projects_members_grant_and_revoke(team: Team) -> None:
    refused = cli(team, "projects", "grant", "vision", "vic", "member")  # bob is only a member
    assert refused.exit_code == 1 and "maintainer" in refused.stderr
    assert (
        "vic is member on vision."
        in ok(cli(team, "projects", "grant", "vision", "vic", "member", user="ana")).stdout
    )
    members = json.loads(ok(cli(team, "projects", "members", "vision", "--json", user="ana")).stdout)
    assert members["members"] == [{"project": "vision", "user": "vic", "role": "member"}]
    revoked = ok(cli(team, "projects", "revoke", "vision", "vic", user="ana"))
    assert "their server role (viewer) applies" in revoked.stdout
    assert "No memberships on vision" in ok(cli(team, "projects", "members", "vision", user="ana")).stdout


def test_users_commands_need_an_admin(team: Team) -> None:
    refused = cli(team, "users", "list")
    assert refused.exit_code == 1 and "admin" in refused.stderr and "Traceback" not in refused.stderr
    created = ok(cli(team, "users", "create", "carl", "--role", "viewer", "--json", user="ana"))
    payload = json.loads(created.stdout)
    assert payload["user"]["role"] == "viewer" and payload["api_key"]["key"].startswith("mlt_")
    listed = ok(cli(team, "users", "list", user="ana")).stdout
    carl = next(line for line in listed.splitlines() if line.strip().startswith("carl"))
    assert "viewer" in carl and "1 active / 1" in carl  # every user's keys, not only the admin's own
    assert "carl is member" in ok(cli(team, "users", "set-role", "carl", "member", user="ana")).stdout
    assert "Disabled" in ok(cli(team, "users", "disable", "carl", user="ana")).stdout
    assert "Enabled" in ok(cli(team, "users", "enable", "carl", user="ana")).stdout


def test_keys_create_list_revoke_of_your_own(team: Team) -> None:
    new = ok(cli(team, "keys", "create", "--name", "laptop", "--expires", "30d"))
    secret = new.stdout.strip()
    assert secret.startswith("mlt_") and "shown only this once" in new.stderr
    listed = json.loads(ok(cli(team, "keys", "list", "--json")).stdout)
    mine = [k for k in listed["keys"] if k["name"] == "laptop"]
    assert len(mine) == 1 and mine[0]["user"] == "bob"
    assert {k["user"] for k in listed["keys"]} == {"bob"}  # only your own
    assert "Revoked" in ok(cli(team, "keys", "revoke", mine[0]["key_id"])).stdout
    refused = cli(team, "keys", "list", "--user", "ana")
    assert refused.exit_code == 1 and "admin" in refused.stderr
    assert "ana" in ok(cli(team, "keys", "list", "--user", "ana", user="ana")).stdout


def test_audit_through_the_server(team: Team) -> None:
    assert cli(team, "audit").exit_code == 1  # bob is not an admin
    events = json.loads(ok(cli(team, "audit", "--action", "create_run", "--json", user="ana")).stdout)
    assert {e["user"] for e in events["events"]} == {"bob"}
    rows = list(
        csv.DictReader(io.StringIO(ok(cli(team, "audit", "--csv", "--limit", "5", user="ana")).stdout))
    )
    assert 0 < len(rows) <= 5 and "action" in rows[0]


def test_runs_delete_needs_a_maintainer(team: Team, tmp_path: Path) -> None:
    victim = _extra_run(team, tmp_path, "gamma")
    refused = cli(team, "runs", "delete", "gamma", "--yes")
    assert refused.exit_code == 1 and "maintainer" in refused.stderr
    assert "Deleted run" in ok(cli(team, "runs", "delete", "gamma", "--yes", user="ana")).stdout
    gone = cli(team, "runs", "show", victim)
    assert gone.exit_code == 1 and "no run" in gone.stderr


def _extra_run(team: Team, tmp_path: Path, name: str) -> str:
    import mltrail
    from mltrail.settings import Settings

    settings = Settings(
        server=team.url, api_key=team.keys["bob"], journal_dir=tmp_path / "journal", config_dir=tmp_path / "c"
    )
    with mltrail.init(project="vision", name=name, capture=False, settings=settings) as run:
        run.log({"loss": 1.0}, step=0)
    return run.id


def test_sync_uploads_an_offline_run_with_a_member_key(team: Team, tmp_path: Path) -> None:
    import mltrail
    from mltrail.settings import Settings

    journal = tmp_path / "journal"
    settings = Settings(
        home=tmp_path / "never", journal_dir=journal, mode="offline", config_dir=tmp_path / "c"
    )
    with mltrail.init(project="vision", name="offline-one", capture=False, settings=settings) as run:
        run.log({"loss": 0.5}, step=0)
    result = ok(cli(team, "sync", "--journal-dir", str(journal)))
    assert "done" in result.stdout
    shown = json.loads(ok(cli(team, "runs", "show", run.id, "--json")).stdout)
    assert shown["run"]["user"] == "bob" and shown["run"]["metrics"]["loss"]["last"] == 0.5


# -- login, and where the CLI reads ------------------------------------------------------------------------
def test_login_stores_the_key_and_makes_the_server_the_default(team: Team) -> None:
    bad = cli(team, "login", team.url, "--key", "mlt_" + "Z" * 43, user=None)
    assert bad.exit_code == 1 and "refused the API key" in bad.stderr and "nothing was stored" in bad.stderr
    assert not (team.config_dir / "credentials.json").exists()

    result = ok(cli(team, "login", team.url, input=team.keys["bob"] + "\n", user=None))  # piped on stdin
    assert "as bob (member" in result.stdout
    assert team.keys["bob"] not in result.stdout + result.stderr
    stored = team.config_dir / "credentials.json"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert json.loads(stored.read_text())["default_server"] == team.url

    listed = ok(cli(team, "runs", "list", "vision", user=None))  # no MLTRAIL_SERVER: the login's server
    assert "alpha" in listed.stdout
    assert f"using the server at {team.url} (from mltrail login)" in listed.stderr
    with_flag = ok(cli(team, "--server", team.url, "projects", "list", user=None))
    assert "vision" in with_flag.stdout and "using the server" not in with_flag.stderr

    assert "Logged out" in ok(cli(team, "logout", user=None)).stdout
    assert team.keys["bob"] not in stored.read_text()
    assert json.loads(stored.read_text())["default_server"] is None
    again = cli(team, "logout", user=None)
    assert again.exit_code == 1 and "not logged in" in again.stderr


def test_login_to_a_server_that_is_down_names_it(team: Team, live_server: Any) -> None:
    port = live_server.free_port()
    url = f"http://127.0.0.1:{port}"
    result = cli(team, "login", url, "--key", team.keys["bob"], user=None)
    assert result.exit_code == 1 and f"cannot reach the mltrail server at {url}" in result.stderr
    assert "Traceback" not in result.stderr
    assert (
        not (team.config_dir / "credentials.json").exists()
        or url not in (team.config_dir / "credentials.json").read_text()
    )


def test_a_server_that_is_down_or_wrong_is_named(team: Team, live_server: Any) -> None:
    port = live_server.free_port()
    down = f"http://127.0.0.1:{port}"
    result = CliRunner().invoke(app, ["--server", down, "runs", "list", "vision"], catch_exceptions=False)
    assert result.exit_code == 1 and f"cannot reach the mltrail server at {down}" in result.stderr
    assert "Traceback" not in result.stderr
    wrong = f"{team.url}/not-mltrail"
    env = {"MLTRAIL_API_KEY": team.keys["bob"]}
    result = CliRunner().invoke(app, ["--server", wrong, "projects", "list"], env=env, catch_exceptions=False)
    assert result.exit_code == 1 and "did not answer as an mltrail server" in result.stderr
    assert wrong in result.stderr


def test_a_key_of_another_server_says_how_to_log_in(team: Team) -> None:
    env = {"MLTRAIL_SERVER": team.url, "MLTRAIL_API_KEY": "mlt_" + "Q" * 43}
    result = CliRunner().invoke(app, ["runs", "list", "vision"], env=env, catch_exceptions=False)
    assert result.exit_code == 1
    assert f"mltrail login {team.url}" in result.stderr and "MLTRAIL_API_KEY" in result.stderr
    assert "Traceback" not in result.stderr
    no_key = CliRunner().invoke(app, ["--server", team.url, "runs", "list", "vision"], catch_exceptions=False)
    assert no_key.exit_code == 1 and "needs an API key and none was given" in no_key.stderr
    assert f"mltrail login {team.url}" in no_key.stderr


def test_login_asks_for_the_key_without_echo_on_a_terminal(
    team: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mltrail.cli import login as login_cli

    monkeypatch.setenv("MLTRAIL_CONFIG_DIR", str(tmp_path / "cfg"))
    monkeypatch.setattr(login_cli, "_interactive", lambda: True)
    result = ok(cli(team, "login", team.url, input=team.keys["ana"] + "\n", user=None))
    assert "API key" in result.stderr and "as ana (admin" in result.stdout
    assert team.keys["ana"] not in result.stdout + result.stderr  # the prompt does not echo it
    stored = json.loads((tmp_path / "cfg" / "credentials.json").read_text())
    assert stored["servers"][team.url]["api_key"] == team.keys["ana"]
