"""``git`` in run answers: commit, branch and dirty flag from the captured context, in search results too."""

from __future__ import annotations

from live_server import TestClient

API = "/api/v1"
COMMIT = "9ffc16324b1f0a8a4e3d4c1b2a39f0e8d7c6b5a4"


def _run(client: TestClient, name: str, context: dict[str, object]) -> str:
    response = client.post(f"{API}/runs", json={"project": "gitp", "name": name, "context": context})
    assert response.status_code == 201, response.text
    run_id: str = response.json()["id"]
    return run_id


def test_search_results_carry_the_commit_without_the_context(client: TestClient) -> None:
    git = {"commit": COMMIT, "branch": "main", "remote": "git@x:y.git", "dirty": True, "root": "/src"}
    with_git = _run(client, "with-git", {"git": git, "environment": {"packages": {"numpy": "2.0"}}})
    detached = _run(client, "detached", {"git": {"commit": COMMIT, "branch": None, "dirty": False}})
    skipped = _run(client, "skipped", {"git": {"skipped": "not a git repository: /tmp/x"}})
    bare = _run(client, "bare", {})
    page = client.get(f"{API}/runs", params={"project": "gitp", "limit": 10}).json()
    by_id = {r["id"]: r for r in page["runs"]}
    assert all(r["context"] is None for r in page["runs"])  # the large context stays out of lists
    assert by_id[with_git]["git"] == {"commit": COMMIT, "branch": "main", "dirty": True}
    assert by_id[detached]["git"] == {"commit": COMMIT, "branch": None, "dirty": False}
    assert by_id[skipped]["git"] is None and by_id[bare]["git"] is None
    one = client.get(f"{API}/runs/{with_git}").json()
    assert one["git"] == by_id[with_git]["git"] and one["context"]["git"]["remote"] == "git@x:y.git"


def test_a_malformed_git_context_gives_no_git_rather_than_an_error(client: TestClient) -> None:
    odd = _run(client, "odd", {"git": {"commit": 12, "branch": ["x"], "dirty": "yes"}})
    listed = _run(client, "listed", {"git": ["not", "a", "dict"]})
    answers = client.get(f"{API}/runs", params={"project": "gitp"}).json()["runs"]
    assert {r["id"]: r["git"] for r in answers} == {odd: None, listed: None}
