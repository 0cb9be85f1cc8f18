"""Reports through the services: markdown sources with panel directives, versioned saves, panels evaluated
live for the reader, hidden when they point where the reader may not see, and the HTML document."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from mltrail.entities import MetricsBatch, ReportBlock, Role
from mltrail.errors import ConflictError, InvalidInputError
from mltrail.render.report_document import render_report_document
from mltrail.services.accounts.service import Principal
from mltrail.services.container import Services
from mltrail.services.reports.panels import HIDDEN_MESSAGE, ReportReader
from mltrail.services.reports.source import format_source, parse_source
from mltrail.services.tracking.table_data import predictions_table, to_parquet
from mltrail.settings import Settings

SOURCE = """# Churn, week 49

The new model is **better**.

```mltrail-panel
type: runs
filter: metrics.acc > 0.8
sort: -metrics.acc
columns: metrics.acc, params.lr
```

```mltrail-panel
type: metrics
runs: base, tuned
keys: acc
title: Accuracy while training
```

```mltrail-panel
type: compare
runs: base, tuned
```

```mltrail-panel
type: samples
runs: base, tuned
table: val
top: 5
```

```mltrail-panel
type: runs
project: secret
```
"""


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    built = Services(Settings(home=tmp_path / "store"))
    yield built
    built.close()


def _run(services: Services, project: str, name: str, acc: float, lr: float) -> str:
    run_id = (name * 8)[:32]
    services.tracking.start_run(
        run_id=run_id,
        project=project,
        name=name,
        user="ann",
        config={"lr": lr},
        tags={},
        context={},
        start_time=1.0,
    )
    steps = list(range(5))
    values = [acc * (i + 1) / 5 for i in steps]
    services.tracking.log_metrics(run_id, MetricsBatch(["acc"] * 5, steps, values, [time.time()] * 5))
    rng = np.random.default_rng(7)
    n = 200
    truth = rng.choice(["no", "yes"], n)
    wrong = rng.random(n) > acc
    pred = np.where(wrong, np.where(truth == "yes", "no", "yes"), truth)
    table = predictions_table(np.arange(n), truth, pred, None, {"plan": rng.choice(["a", "b"], n)})
    services.tables.log(run_id, "val", to_parquet(table), kind="predictions")
    return run_id


def _world(services: Services) -> None:
    _run(services, "churn", "base", 0.82, 0.1)
    _run(services, "churn", "tuned", 0.9, 0.01)
    _run(services, "secret", "hush", 0.99, 0.5)


def test_source_round_trips_and_mistakes_name_their_line_and_field() -> None:
    blocks = parse_source(SOURCE)
    assert [b.type for b in blocks] == ["markdown", "runs", "metrics", "compare", "samples", "runs"]
    assert blocks[1].options == {
        "filter": "metrics.acc > 0.8",
        "sort": "-metrics.acc",
        "columns": "metrics.acc, params.lr",
    }
    assert parse_source(format_source(blocks)) == blocks
    bad = {
        "```mltrail-panel\ntype: chart\n```": "type must be one of",
        "```mltrail-panel\ntype: runs\nfilter: metrics.acc >\n```": "line 1",
        "```mltrail-panel\ntype: compare\nruns: a\n```": "two runs",
        "```mltrail-panel\ntype: metrics\nruns: a\n```": "needs keys",
        "```mltrail-panel\ntype: runs\ncolour: red\n```": "'colour' is not one of them",
        "```mltrail-panel\ntype: runs\nlimit: 0\n```": "limit must be",
        "text\n```mltrail-panel\ntype: runs\n": "line 2: the mltrail-panel block is never closed",
        "```mltrail-panel\njust words\n```": "`key: value`",
    }
    for text, message in bad.items():
        with pytest.raises(InvalidInputError, match=message) as caught:
            parse_source(text)
        assert caught.value.field == "source"


def test_blocks_given_as_json_name_the_block_and_option(services: Services) -> None:
    _world(services)
    with pytest.raises(InvalidInputError) as caught:
        services.reports.create(
            "churn", "r", blocks=[ReportBlock("markdown", "x"), ReportBlock("runs", options={"limit": "x"})]
        )
    assert caught.value.field == "blocks[1].limit"
    with pytest.raises(InvalidInputError, match="report name"):
        services.reports.create("churn", "../etc", source="x")
    with pytest.raises(InvalidInputError, match="one of them"):
        services.reports.create("churn", "r")


def test_versions_count_saves_and_a_stale_save_is_refused(services: Services) -> None:
    _world(services)
    made = services.reports.create("churn", "weekly", source=SOURCE, user="ann")
    assert (made.version, made.title, len(made.blocks)) == (1, "Churn, week 49", 6)
    saved = services.reports.update("churn", "weekly", source="# Short\n", user="bob", expected_version=1)
    assert (saved.version, saved.title, saved.updated_by) == (2, "Churn, week 49", "bob")
    with pytest.raises(ConflictError, match="version 2, not 1"):
        services.reports.update("churn", "weekly", source="# Lost\n", expected_version=1)
    assert services.reports.get("churn", "weekly").blocks == [ReportBlock("markdown", text="# Short")]
    with pytest.raises(ConflictError, match="already"):
        services.reports.create("churn", "weekly", source="x")


def test_panels_are_evaluated_live_and_hidden_from_who_may_not_see(services: Services) -> None:
    _world(services)
    services.reports.create("churn", "weekly", source=SOURCE)
    full = services.reports.read("churn", "weekly")["blocks"]
    runs, metrics, compare, samples, secret = full[1:]
    assert runs["status"] == "ok" and [r[1] for r in runs["data"]["rows"]] == ["tuned", "base"]
    assert runs["data"]["columns"] == ["id", "name", "status", "metrics.acc", "params.lr"]
    assert metrics["title"] == "Accuracy while training"
    assert {s["run"] for s in metrics["data"]["series"]} == {"base", "tuned"}
    assert metrics["data"]["series"][0]["steps"] == [0, 1, 2, 3, 4]
    lr = next(r for r in compare["data"]["rows"] if r["key"] == "params.lr")
    assert lr == {"key": "params.lr", "a": 0.1, "b": 0.01, "differs": True}
    assert samples["status"] == "ok" and samples["data"]["matched"] == 200
    assert samples["data"]["error_b"] < samples["data"]["error_a"]
    assert secret["status"] == "ok" and secret["data"]["rows"][0][1] == "hush"  # the admin sees it

    # live: a new run shows up on the next read, never a stale copy
    _run(services, "churn", "third", 0.85, 0.05)
    again = services.reports.read("churn", "weekly")["blocks"][1]
    assert [r[1] for r in again["data"]["rows"]] == ["tuned", "third", "base"]

    viewer = ReportReader("vic", can_read=lambda project: project == "churn")
    seen = services.reports.read("churn", "weekly", viewer)["blocks"]
    assert seen[5] == {
        "type": "runs",
        "options": {"project": "secret"},
        "title": "Runs",
        "status": "hidden",
        "message": HIDDEN_MESSAGE,
    }
    assert "hush" not in str(seen)
    # A run that does not exist reads as hidden too for a restricted reader (no existence leak), as an
    # error naming it for an admin.
    services.reports.update(
        "churn", "weekly", source="```mltrail-panel\ntype: compare\nruns: base, ghost\n```"
    )
    assert services.reports.read("churn", "weekly", viewer)["blocks"][0]["status"] == "hidden"
    admin = services.reports.read("churn", "weekly")["blocks"][0]
    assert admin["status"] == "error" and "ghost" in admin["message"]


def test_model_panel_shows_the_card_and_approvals_and_hides_another_projects_model(
    services: Services,
) -> None:
    sklearn_linear = pytest.importorskip("sklearn.linear_model")
    from mltrail.sdk.flavors import save_model

    run_id = _run(services, "churn", "base", 0.82, 0.1)
    x = np.arange(40, dtype=float).reshape(20, 2)
    folder = Path(services.settings.home) / "m"
    save_model(
        sklearn_linear.LogisticRegression().fit(x, (x[:, 0] > 19).astype(int)), folder, input_example=x[:3]
    )
    services.artifacts.log_path(run_id, folder, "model")
    ann = Principal("ann", Role.ADMIN)
    services.registry.create_model(
        "churn-model", project="churn", principal=ann, description="Predicts churn."
    )
    services.registry.register_version("churn-model", run_id=run_id, source="model", principal=ann)
    services.reports.create(
        "churn", "card", source="```mltrail-panel\ntype: model\nmodel: churn-model:1\n```"
    )
    card = services.reports.read("churn", "card")["blocks"][0]
    assert card["status"] == "ok", card
    assert card["data"]["run"]["id"] == run_id and card["data"]["approvals"] == []
    html = render_report_document(services.reports.read("churn", "card"))
    assert "Predicts churn." in html and "Lineage" in html
    # A report of another project pointing at this model: a reader who sees that project only gets "hidden".
    _run(services, "board", "b", 0.5, 0.1)
    services.reports.create(
        "board", "card", source="```mltrail-panel\ntype: model\nmodel: churn-model:1\n```"
    )
    board_only = ReportReader("vic", can_read=lambda project: project == "board")
    hidden = services.reports.read("board", "card", board_only)["blocks"][0]
    assert hidden["status"] == "hidden" and "data" not in hidden
    assert services.reports.read("board", "card")["blocks"][0]["status"] == "ok"


def test_html_document_is_self_contained_and_escapes_text(services: Services) -> None:
    _world(services)
    services.reports.create("churn", "weekly", source=SOURCE + "\n<script>alert(1)</script>\n")
    viewer = ReportReader("vic", can_read=lambda project: project == "churn")
    html = render_report_document(services.reports.read("churn", "weekly", viewer))
    assert html.startswith("<!doctype html>") and "<svg" in html and "<table" in html
    assert "Slices where the error rose most" in html and "got worse" in html  # the samples panel
    assert html.count('<section class="card') == 5  # every panel, the hidden one too
    assert "<script" not in html and "&lt;script&gt;" in html
    assert "http://" not in html and "https://" not in html
    assert "hush" not in html and "you may not see" in html


def test_monitor_panel_summarizes_drift_and_is_hidden_outside_the_readers_projects(
    services: Services,
) -> None:
    import pyarrow as pa

    from mltrail.stats.profile import profile_batches

    def traffic(n: int, seed: int, shift: float, day: int) -> pa.Table:
        rng = np.random.default_rng(seed)
        now = (time.time() // 86400 - 3) * 86400 + 3600  # 01:00 UTC three days ago: one window a day
        return pa.table(
            {"age": rng.normal(40 + shift, 10, n), "timestamp": now + day * 86400 + rng.uniform(0, 3600, n)}
        )

    services.monitoring.create_monitor(
        "churn-mon",
        project="churn",
        reference=profile_batches(traffic(3000, 1, 0, 0)),
        reference_source="test",
        features=["age"],
    )
    services.monitoring.ingest("churn-mon", traffic(2000, 2, 0.0, 0))
    services.monitoring.ingest("churn-mon", traffic(2000, 3, 25.0, 1))
    _run(services, "board", "b", 0.5, 0.1)
    services.reports.create("board", "ops", source="```mltrail-panel\ntype: monitor\nmonitor: churn-mon\n```")
    panel = services.reports.read("board", "ops")["blocks"][0]
    assert panel["status"] == "ok", panel
    windows = panel["data"]["drift"]
    assert [w["rows"] for w in windows[-2:]] == [2000, 2000]
    assert "age" not in windows[-2]["drifted"] and "age" in windows[-1]["drifted"]
    html = render_report_document(services.reports.read("board", "ops"))
    assert "windows with drift</dt><dd>1 of 2</dd>" in html and ">dataset drift<" in html
    board_only = ReportReader("vic", can_read=lambda project: project == "board")
    assert services.reports.read("board", "ops", board_only)["blocks"][0]["status"] == "hidden"
