"""Fixtures of the web UI's end-to-end test: a seeded store, a real server with auth and the built UI."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
UI_INDEX = ROOT / "src" / "mltrail" / "api" / "ui_assets" / "index.html"
SCREENSHOTS = ROOT / "build" / "screenshots"


def pytest_configure(config: pytest.Config) -> None:
    # Registered here as well, so the module runs under --strict-markers before pyproject lists it.
    config.addinivalue_line("markers", "browser: drives a real browser (Chromium) against a real server")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Server:
    url: str
    home: Path
    keys: dict[str, str]
    seeded: dict[str, object]


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture(scope="session")
def e2e_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium (apt-get install -y chromium)")
    if not UI_INDEX.exists():
        pytest.skip("the web UI is not built (cd web && npm ci && npm run build)")
    pytest.importorskip(
        "playwright.sync_api", reason="Playwright for Python is not installed (pip install playwright)"
    )
    home = tmp_path_factory.mktemp("store")
    repo = tmp_path_factory.mktemp("repo")
    # A git repository with an uncommitted change: every run stores its diff as code/diff.patch.
    _git(repo, "init", "-q")
    _git(repo, "config", "user.email", "e2e@example.com")
    _git(repo, "config", "user.name", "e2e")
    script = repo / "train.py"
    shutil.copy(Path(__file__).with_name("seed_e2e.py"), script)
    _git(repo, "add", "train.py")
    _git(repo, "commit", "-q", "-m", "train")
    script.write_text(script.read_text().replace("ready for prod", "ready for production"))
    env = {**os.environ, "MLTRAIL_DIR": str(home), "MLTRAIL_JOURNAL_DIR": str(home / "journal")}
    seeded = subprocess.run(
        [sys.executable, str(script)], cwd=repo, env=env, capture_output=True, text=True, timeout=300
    )
    assert seeded.returncode == 0, seeded.stderr[-3000:]
    info = json.loads(seeded.stdout.strip().splitlines()[-1])
    beside = Path(sys.executable).with_name("mltrail")
    mltrail_cli = [str(beside)] if beside.exists() else [shutil.which("mltrail") or "mltrail"]
    keys = {}
    for name, role in (("admin", "admin"), ("bob", "maintainer"), ("vic", "viewer")):
        out = subprocess.run(
            [*mltrail_cli, "--dir", str(home), "users", "create", name, "--role", role, "--json"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        keys[name] = json.loads(out.stdout)["api_key"]["key"]
    port = _free_port()
    log = (home / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("serve.py")), "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((home / "server.log").read_text()[-3000:])
            time.sleep(0.2)
        yield Server(url=url, home=home, keys=keys, seeded=info)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
