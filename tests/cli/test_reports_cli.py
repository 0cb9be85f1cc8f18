"""``mltrail reports``: create from a markdown file with panel directives, list, show, update, delete, and
export as self-contained HTML and as PDF (headless Chromium), on the embedded store and on a team server."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import ActAs, Invoke, MakeRun

SOURCE = """# Model review

Accuracy went **up**.

```mltrail-panel
type: runs
filter: metrics.acc > 0.5
sort: -metrics.acc
```

```mltrail-panel
type: metrics
runs: base, tuned
keys: acc
```

```mltrail-panel
type: compare
runs: base, tuned
```
"""
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def report_file(tmp_path: Path, make_run: MakeRun) -> Path:
    make_run(name="base", config={"lr": 0.1}, metrics={"acc": [0.5, 0.7, 0.8]})
    make_run(name="tuned", config={"lr": 0.01}, metrics={"acc": [0.6, 0.8, 0.8 + 0.2 / 10]})
    path = tmp_path / "report.md"
    path.write_text(SOURCE, encoding="utf-8")
    return path


def test_create_list_show_update_delete(invoke: Invoke, report_file: Path, tmp_path: Path) -> None:
    made = invoke("reports", "create", "demo", "review", "--from", str(report_file))
    assert made.exit_code == 0, made.output
    assert "Created report review in demo (version 1, 4 blocks)" in made.output
    listed = invoke("reports", "list", "demo")
    assert "review" in listed.output and "Model review" in listed.output
    shown = invoke("reports", "show", "demo", "review")
    assert shown.exit_code == 0, shown.output
    assert "tuned" in shown.output and "(runs: ok)" in shown.output
    assert "0.8200000000000001" not in shown.output and " 0.82 " in shown.output  # as `runs list` shows it
    as_json = json.loads(invoke("reports", "show", "demo", "review", "--json").output)
    assert [b.get("status") for b in as_json["blocks"]] == [None, "ok", "ok", "ok"]
    assert invoke("reports", "show", "demo", "review", "--source").output.startswith("# Model review")

    changed = tmp_path / "changed.md"
    changed.write_text("# Shorter\n", encoding="utf-8")
    saved = invoke("reports", "update", "demo", "review", "--from", str(changed), "--expected-version", "1")
    assert "version 2" in saved.output
    stale = invoke("reports", "update", "demo", "review", "--from", str(changed), "--expected-version", "1")
    assert stale.exit_code == 1 and "version 2, not 1" in stale.stderr
    assert invoke("reports", "delete", "demo", "review").exit_code == 0
    assert invoke("reports", "show", "demo", "review").exit_code == 1


def test_a_bad_directive_names_its_line(invoke: Invoke, report_file: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.md"
    bad.write_text("# x\n\n```mltrail-panel\ntype: runs\nfilter: metrics.acc >\n```\n", encoding="utf-8")
    refused = invoke("reports", "create", "demo", "bad", "--from", str(bad))
    assert refused.exit_code == 2 and "line 3" in refused.stderr
    assert "review" not in invoke("reports", "list", "demo").output


def test_export_html_is_self_contained(invoke: Invoke, report_file: Path, tmp_path: Path) -> None:
    invoke("reports", "create", "demo", "review", "--from", str(report_file))
    out = tmp_path / "out.html"
    done = invoke("reports", "export", "demo", "review", "--html", str(out))
    assert done.exit_code == 0, done.output
    html = out.read_text(encoding="utf-8")
    assert "<svg" in html and "Accuracy went <strong>up</strong>" in html and "tuned" in html
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", html), "an asset loaded over the network"
    assert not re.search(r"https?://", html) and "<script" not in html and "<link" not in html


@pytest.mark.skipif(not CHROMIUM.is_file(), reason="/usr/bin/chromium is not installed")
def test_export_pdf_with_headless_chromium(invoke: Invoke, report_file: Path, tmp_path: Path) -> None:
    invoke("reports", "create", "demo", "review", "--from", str(report_file))
    out = tmp_path / "out.pdf"
    done = invoke("reports", "export", "demo", "review", "--pdf", str(out))
    assert done.exit_code == 0, done.output
    assert out.read_bytes().startswith(b"%PDF") and out.stat().st_size > 1000


def test_pdf_without_a_browser_says_what_to_do(invoke: Invoke, report_file: Path, tmp_path: Path) -> None:
    invoke("reports", "create", "demo", "review", "--from", str(report_file))
    missing = invoke(
        "reports", "export", "demo", "review", "--pdf", str(tmp_path / "x.pdf"), "--chromium", "/nope"
    )
    assert missing.exit_code == 2 and "no browser at /nope" in missing.stderr
    assert not (tmp_path / "x.pdf").exists()


def test_against_a_team_server_members_write_and_viewers_read(
    invoke: Invoke, act_as: ActAs, make_run: MakeRun, tmp_path: Path
) -> None:
    act_as("ana")
    make_run(project="teamrep", name="base", metrics={"acc": [0.7]})
    make_run(project="teamrep", name="tuned", metrics={"acc": [0.9]})
    path = tmp_path / "r.md"
    path.write_text(SOURCE, encoding="utf-8")
    made = invoke("reports", "create", "teamrep", "review", "--from", str(path))
    assert made.exit_code == 0, made.output + made.stderr
    act_as("vic")
    shown = invoke("reports", "show", "teamrep", "review", "--json")
    assert shown.exit_code == 0, shown.stderr
    assert json.loads(shown.stdout)["blocks"][1]["data"]["rows"][0][1] == "tuned"
    out = tmp_path / "r.html"
    assert invoke("reports", "export", "teamrep", "review", "--html", str(out)).exit_code == 0
    assert "tuned" in out.read_text(encoding="utf-8")
    denied = invoke("reports", "delete", "teamrep", "review")
    assert denied.exit_code == 1 and "member" in denied.stderr
