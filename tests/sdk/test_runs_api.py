"""``mltrail.runs`` / ``mltrail.run`` and ``Connection.runs`` / ``Connection.accounts``: the same calls and
the same answers on the embedded store and on a real server process; downloads verified on both (a tampered
blob is refused and leaves nothing); an HTTP-only reader imports no store."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import mltrail
from mltrail.errors import IntegrityError, InvalidInputError, NotFoundError
from mltrail.sdk.client.connection import close_connections, connect
from mltrail.settings import Settings


@dataclass
class Place:
    kind: str
    settings: Settings  # what a run is logged with
    server: str  # "" for the embedded store
    home: Path  # where the blobs are

    def blob(self, digest: str) -> Path:
        return self.home / "blobs" / "sha256" / digest[:2] / digest[2:4] / digest


@pytest.fixture(scope="module")
def module_server(tmp_path_factory: pytest.TempPathFactory, live_server: Any) -> Iterator[Any]:
    server = live_server.start_server(tmp_path_factory.mktemp("runs-api-server") / "mltrail")
    yield server
    server.stop()


@pytest.fixture(params=["embedded", "server"])
def place(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Place:
    for name in ("MLTRAIL_SERVER", "MLTRAIL_API_KEY", "MLTRAIL_DB", "MLTRAIL_BLOBS", "MLTRAIL_MODE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MLTRAIL_CONFIG_DIR", str(tmp_path / "config"))
    home = tmp_path / "mltrail"
    monkeypatch.setenv("MLTRAIL_DIR", str(home))
    monkeypatch.setenv("MLTRAIL_JOURNAL_DIR", str(tmp_path / "journal"))
    if request.param == "embedded":
        return Place("embedded", Settings.from_env(), "", home)
    server = request.getfixturevalue("module_server")
    settings = Settings.from_env().with_server(server.url, source="server=")
    return Place("server", settings, server.url, server.home)


def _log_runs(place: Place, project: str, tmp_path: Path) -> dict[str, str]:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "w.bin").write_bytes(b"w" * 5000)
    (tmp_path / "model" / "card.md").write_text("# model\n")
    ids = {}
    for name, lr in (("small", 0.01), ("large", 0.1), ("huge", 1.0)):
        with mltrail.init(
            project=project, name=name, config={"lr": lr}, capture=False, settings=place.settings
        ) as run:
            for step in range(10):
                run.log({"loss": lr / (step + 1)}, step=step)
            run.set_tags(size=name)
            run.summary["best"] = lr
            run.log_artifact(tmp_path / "model", name="model")
        ids[name] = run.id
    close_connections()
    return ids


def test_runs_and_run_read_the_same_everywhere(place: Place, tmp_path: Path) -> None:
    project = f"q-{place.kind}-{tmp_path.name[-6:]}"
    ids = _log_runs(place, project, tmp_path)
    found = mltrail.runs(project, filter="params.lr >= 0.1", sort="-params.lr", server=place.server)
    assert [r.name for r in found] == ["huge", "large"] and found.total == 2
    huge = found[0]
    assert huge.id == ids["huge"] and huge.project == project and huge.status.value == "finished"
    assert huge.params == {"lr": 1.0} and huge.tags == {"size": "huge"} and huge.summary == {"best": 1.0}
    assert huge.metrics == {"loss": pytest.approx(0.1)} and huge.duration is not None and huge.duration >= 0
    assert huge.start_time <= (huge.end_time or 0)
    history = huge.history("loss")
    assert history.steps == list(range(10)) and history.values[0] == 1.0
    assert len(huge.history("loss", max_points=4).steps) <= 6
    assert {a.path for a in huge.artifacts()} == {"model/w.bin", "model/card.md"}
    assert huge.artifact("model/card.md") == b"# model\n"
    out = huge.download("model", tmp_path / "got")
    assert out == tmp_path / "got" / "model" and (out / "w.bin").read_bytes() == b"w" * 5000

    assert len(mltrail.runs(project, limit=2, server=place.server)) == 2
    one = mltrail.run("huge", project=project, server=place.server)
    assert one == huge and one.user is not None
    by_prefix = mltrail.run(ids["small"][:8], server=place.server)
    assert by_prefix.name == "small"

    frame = mltrail.runs(project, sort="params.lr", server=place.server).to_pandas()
    assert list(frame["name"]) == ["small", "large", "huge"]
    assert {"params.lr", "metrics.loss", "tags.size", "summary.best", "duration"} <= set(frame.columns)
    assert frame["params.lr"].tolist() == [0.01, 0.1, 1.0]


def test_the_run_reader_verifies_and_refuses(place: Place, tmp_path: Path) -> None:
    project = f"v-{place.kind}-{tmp_path.name[-6:]}"
    ids = _log_runs(place, project, tmp_path)
    reader = connect(place.server).runs
    assert project in {p.name for p in reader.list_projects()}
    page = reader.search(project, sort=["params.lr"], limit=2)
    assert page.total == 3 and [r.name for r in page.runs] == ["small", "large"]
    with pytest.raises(InvalidInputError, match="artifact path"):
        reader.download(ids["small"], "../secrets", tmp_path)
    with pytest.raises(InvalidInputError):
        reader.read_artifact(ids["small"], "/etc/passwd")
    with pytest.raises(NotFoundError):
        reader.download(ids["small"], "nothing/here", tmp_path)

    card = next(a for a in reader.artifacts(ids["small"]) if a.path == "model/card.md")
    blob = place.blob(card.digest)
    original = blob.read_bytes()
    blob.chmod(0o644)
    blob.write_bytes(b"# tampered\n")
    try:
        dest = tmp_path / "dest"
        dest.mkdir()
        with pytest.raises(IntegrityError, match="sha256"):
            reader.download(ids["small"], "model/card.md", dest)
        assert list(dest.iterdir()) == []  # nothing left, not even a partial file
        with pytest.raises(IntegrityError):
            reader.read_artifact(ids["small"], "model/card.md")
    finally:
        blob.write_bytes(original)
    reader.delete(ids["small"])
    with pytest.raises(NotFoundError):
        reader.get(ids["small"])


def test_accounts_on_the_database_and_on_a_server_without_auth(place: Place) -> None:
    accounts = connect(place.server).accounts
    name = f"u{place.kind[:3]}"
    user, key = accounts.create_user(name, "viewer", expires="30d")
    assert user.name == name and key.secret.startswith("mlt_") and key.key.expires_at is not None
    assert accounts.set_role(name, "member").role.value == "member"
    assert accounts.set_disabled(name, True).disabled
    assert name in {u.name for u in accounts.list_users()}
    extra = accounts.create_key(name, "ci")
    assert extra.key.key_id in {k.key_id for k in accounts.list_keys(name)}
    assert accounts.revoke_key(extra.key.key_id).revoked_at is not None
    membership = accounts.set_member("shared", name, "maintainer")
    assert accounts.members("shared") == [membership]
    accounts.remove_member("shared", name)
    assert accounts.members("shared") == []
    assert accounts.me().role.value == "admin"  # the database itself, or a server without auth
    actions = {e.action for e in accounts.audit(limit=50)}
    assert {"create_user", "set_member"} <= actions
    assert accounts.audit_csv(limit=1).startswith("id,time,time_iso")


def test_key_id_length_agrees_with_the_service() -> None:
    from mltrail.sdk.accounts.client import KEY_ID_LENGTH
    from mltrail.services.accounts.service import KEY_ID_LENGTH as SERVICE_KEY_ID_LENGTH

    assert KEY_ID_LENGTH == SERVICE_KEY_ID_LENGTH


def test_to_pandas_without_pandas_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from mltrail.sdk.tracking.runs_api import Runs

    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match="pip install pandas"):
        Runs([], 0).to_pandas()


def test_reading_from_a_server_loads_no_store(module_server: Any) -> None:
    code = (
        "import sys, mltrail\n"
        "try:\n"
        f"    mltrail.runs('nothing-here', server={module_server.url!r})\n"
        "except mltrail.NotFoundError:\n"
        "    pass\n"
        "heavy = ('sqlalchemy', 'alembic', 'pyarrow', 'mltrail.store', 'mltrail.services.container')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_reading_a_database_that_does_not_exist_creates_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("MLTRAIL_SERVER", "MLTRAIL_API_KEY", "MLTRAIL_DB"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MLTRAIL_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("MLTRAIL_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(NotFoundError, match="no mltrail database"):
        mltrail.runs("churn")
    assert not (tmp_path / "nowhere").exists()
